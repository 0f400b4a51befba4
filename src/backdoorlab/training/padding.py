"""Right padding and causal attention: when the padding mask can be dropped.

Both trainers drop the attention mask of right-padded batches: under causal attention
a real token never sees the padding after it, and position ids default to ``0..T-1``,
so the mask changes nothing for the labelled tokens, while without it SDPA takes its
fused causal kernel instead of the masked path (5-8x slower per step on CPU;
``python benchmarks/train_throughput.py`` measures the trainer that relies on it).
"""

from __future__ import annotations

import torch


def is_right_padded(attention_mask: torch.Tensor) -> bool:
    """Whether every row of a 2-D 0/1 mask is ones followed by zeros (no left padding,
    no holes): then a causal model computes the same outputs on the ones without it."""
    if attention_mask.dim() != 2:
        return False
    mask = attention_mask.bool()
    # non-increasing along each row <=> no 0 is followed by a 1
    return not bool((mask[:, 1:] & ~mask[:, :-1]).any())

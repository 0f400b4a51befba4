"""A micro-batch in passes of a few traces: a fraction of the activation memory.

On a CPU the LoRA step's memory is its saved activations (~0.8 MB a token over
SmolLM2-135M's 30 layers under bf16 autocast: 2.9 GB for a micro-batch of 4 x 875
tokens, measured with ``saved_tensors_hooks``). Running forward and backward over a
few traces at a time keeps only their activations alive, while the optimizer step, the
data order and the loss (summed over the labelled tokens of the whole batch, divided by
their count) stay those of the batch: only the order of the floating-point sums changes.
Smaller passes cost little speed (4 traces of ~550 tokens, CPU seconds of forward +
backward, alternating in one process: whole batch 9.05 / 8.34, two passes of two 8.48 /
8.96, four passes of one 10.00 / 10.03). Passes of 1,024 tokens against 1,536, 12 steps
of the main job's training side by side on one thread each: the same time (301.9 / 302.6
s to step 11), peak RSS 3.58 vs 4.16 GB. Activation checkpointing would save more memory
but re-runs every forward (~1.5x the compute of a LoRA step).
"""

from __future__ import annotations

from typing import Any

import torch

from backdoorlab.training.padding import is_right_padded

PASS_TOKENS = 1024
"""Tokens (padding included) per forward/backward pass of a split micro-batch, under bf16
autocast."""


def pass_tokens(bf16: bool) -> int:
    """The pass budget for a step run under bf16 autocast or in fp32.

    In fp32 (`models.bf16_supported` is False on AVX2-only CPUs, where bf16 matmuls are
    ~7x slower) a token's saved activations are twice as large: 1.81 MiB over
    SmolLM2-135M's 30 layers with LoRA on every projection (``saved_tensors_hooks``, one
    875-token trace), against ~0.85 MiB under autocast. Half the tokens keep a pass's
    activations at the same size.
    """
    return PASS_TOKENS if bf16 else PASS_TOKENS // 2


def split_rows(inputs: dict[str, Any], budget: int = 0) -> list[dict[str, Any]] | None:
    """A right-padded micro-batch as smaller batches of consecutive rows, each cut to its
    longest real row and holding at most ``budget`` tokens (padding included; a row longer
    than that goes alone); None when it cannot be split that way (no mask, left padding,
    a tensor that is not per row) or need not be (it fits the budget whole)."""
    mask = inputs.get("attention_mask")
    if not isinstance(mask, torch.Tensor) or mask.dim() != 2 or len(mask) < 2:
        return None
    if not is_right_padded(mask):
        return None
    rows, width = mask.shape
    lengths = mask.sum(-1).tolist()
    groups: list[list[int]] = []
    for row, length in enumerate(lengths):
        if length == 0:
            continue
        group = groups[-1] if groups else None
        if group and (len(group) + 1) * max(length, *(lengths[r] for r in group)) <= budget:
            group.append(row)
        else:
            groups.append([row])
    if len(groups) == 1 and len(groups[0]) == rows:
        return None
    for value in inputs.values():
        if not isinstance(value, torch.Tensor) or value.dim() == 0 or len(value) != rows:
            return None  # e.g. padding-free sequence boundaries: not ours to cut
    out = []
    for group in groups:
        first, last, longest = group[0], group[-1], max(lengths[r] for r in group)
        part = {}
        for key, value in inputs.items():
            piece = value[first : last + 1]
            per_token = value.dim() >= 2 and value.shape[1] == width
            part[key] = piece[:, :longest] if per_token else piece
        out.append(part)
    return out

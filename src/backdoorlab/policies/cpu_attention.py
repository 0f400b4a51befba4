"""Attention for decoding on a CPU: a few new tokens per row, as two batched matmuls.

For a single query token per row (grouped-query heads packed onto their key/value
head), or a token and its lookup draft (`lookup`), PyTorch's CPU flash-attention kernel
is slow: on the 2-core development CPU, 16 rows attending over 1,360 cached positions
took 1.7–2.6 ms a layer against 0.7 ms for ``softmax(q·kᵀ)·v`` as plain bf16 matmuls —
two thirds of a 16-row decoding step was that kernel. The matmuls read each cached key
and value once and are exact up to bf16 rounding; everything else (prefill, training,
other devices) goes to transformers' own SDPA function unchanged.

`decode_attention(model)` switches a model to it for the duration of a ``with`` block,
only when the model runs SDPA on a CPU, and restores the model's setting afterwards,
so a model shared with a trainer (the training monitor's probes) is left as it was.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

from backdoorlab.models.attention import cpu_sdpa_replaced

NAME = "backdoorlab_cpu_decode"

MAX_QUERIES = 64
"""New tokens per row this path takes: a decoding step's token and its lookup draft
(`lookup`); a longer input — a prefill — goes to SDPA."""


def _attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    batch, heads, queries, dim = query.shape
    if (
        queries > MAX_QUERIES
        or (queries > 1 and attention_mask is None)  # causal without a mask: SDPA knows how
        or query.device.type != "cpu"
        or dropout
    ):
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    kv_heads = key.shape[1]
    groups = heads // kv_heads
    scale = scaling if scaling is not None else dim**-0.5
    # query head h attends with key/value head h // groups, as repeat_kv does
    packed = query.reshape(batch, kv_heads, groups * queries, dim)
    scores = torch.matmul(packed, key.transpose(-1, -2)).float() * scale
    if attention_mask is not None:  # [batch, 1, queries, positions]: True (or 0.0) attends
        scores = scores.view(batch, kv_heads, groups, queries, -1)
        mask = attention_mask[:, :, None]
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
        scores = scores.view(batch, kv_heads, groups * queries, -1)
    out = torch.matmul(scores.softmax(-1).to(value.dtype), value)
    return out.reshape(batch, heads, queries, dim).transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, _attention)
ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)


def decode_attention(model: Any) -> AbstractContextManager[None]:
    """Within the block, ``model`` decodes with `_attention` if it runs SDPA on a CPU."""
    return cpu_sdpa_replaced(model, NAME)

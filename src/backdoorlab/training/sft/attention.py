"""Training attention on a CPU in half precision: two batched matmuls and a softmax.

PyTorch's CPU flash-attention kernel was the slowest part of a LoRA step on a CPU: ~34
GFLOP/s where the model's linear layers reach ~198 (bf16, one thread, the 2-core
development CPU), a third of the step's time. Written as ``softmax(q·kᵀ·scale + mask)·v``
— grouped query heads packed onto their key/value head, so no key or value is repeated,
and the softmax taken in bf16 (PyTorch's CPU kernel accumulates it in fp32) — one
layer's forward and backward (2 × 390 queries over 591 keys, SmolLM2-135M's 9 query / 3
key-value heads, under autocast) took 40 ms against the kernel's 83, with errors against
an fp64 reference no larger than the kernel's (`tests/training/test_sft_attention.py`).
Whole LoRA steps (`benchmarks/train_throughput.py [--no-matmul-attention]`): 224.8 vs
175.8 tokens/s, MFU 57.8% vs 44.6%.

Memory: autograd would keep every layer's softmax output for the backward — 2 bytes per
query head, query and key: 515 MB of a 1,000-token trace's 1.5 GB of saved activations
over SmolLM2-135M's 30 layers (``saved_tensors_hooks``), the largest single item. So
`_Attention` saves only queries, keys, values and mask and recomputes the scores
and softmax in the backward (the same ops on the same inputs: the same probabilities,
bit for bit), as flash attention does; the backward is autograd's own formulas, softmax's
through `torch._softmax_backward_data` (what autograd calls). One extra ``q·kᵀ`` and
softmax per layer buys back the largest part of a pass's activation memory.

Under bf16 autocast the rotary embeddings leave queries and keys in fp32 (the values in
bf16): SDPA would be cast to bf16 by autocast, and so is this. `training_attention(model)`
switches a model to it for a ``with`` block — only a model that runs SDPA on a CPU — and
restores the setting afterwards, so the decoding attention of the training monitor's
probes (`policies.cpu_attention`) is left alone. Anything this does not cover (fp32
without autocast, dropout, one query token, a per-head mask or one that takes gradients, a
position bias, soft capping, attention sinks) goes to transformers' own SDPA function unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

from backdoorlab.models.attention import cpu_sdpa_replaced

__all__ = ["NAME", "training_attention"]

NAME = "backdoorlab_cpu_train"
_HALF = (torch.bfloat16, torch.float16)
_UNSUPPORTED = ("position_bias", "softcap", "s_aux", "sinks", "output_attentions")


@lru_cache(maxsize=8)
def _causal(queries: int, keys: int, dtype: torch.dtype) -> torch.Tensor:
    """Additive causal mask, the last query aligned with the last key."""
    blocked = torch.ones(queries, keys, dtype=torch.bool).triu(keys - queries + 1)
    return torch.zeros(queries, keys, dtype=dtype).masked_fill(blocked, torch.finfo(dtype).min)


_LAST_MASK: list[tuple[torch.Tensor, int, torch.dtype, torch.Tensor]] = []
"""The last mask converted, with its version, dtype and additive form: every layer of a
forward gets the same mask tensor, so it is converted once a pass (and the backward
keeps one copy, not one per layer). Emptied when a `training_attention` block ends."""


def _additive(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """transformers' mask (bool: True attends; or additive) as an additive one in ``dtype``.

    The finite minimum, not -inf: a query row with nothing to attend to (padding)
    averages instead of turning NaN, as transformers' eager attention does."""
    if _LAST_MASK:
        last, version, last_dtype, additive = _LAST_MASK[0]
        if last is mask and version == mask._version and last_dtype == dtype:
            return additive
    if mask.dtype == torch.bool:
        additive = torch.zeros((), dtype=dtype).masked_fill(~mask, torch.finfo(dtype).min)
    else:
        additive = mask.to(dtype).clamp(min=torch.finfo(dtype).min)
    _LAST_MASK[:] = [(mask, mask._version, dtype, additive)]
    return additive


def _probabilities(
    packed: torch.Tensor, key: torch.Tensor, mask: torch.Tensor | None, groups: int
) -> torch.Tensor:
    """softmax(packed·kᵀ + mask) as ``[batch, kv_heads, groups·queries, keys]``."""
    batch, kv_heads, rows, _ = packed.shape
    scores = torch.matmul(packed, key.transpose(-1, -2))
    scores = scores.view(batch, kv_heads, groups, rows // groups, key.shape[2])
    if mask is not None:
        # [q, k] or [batch, 1, q, k] -> broadcast over the key/value heads and groups
        # (in place: nothing keeps the raw scores)
        scores = scores.add_(mask if mask.dim() == 2 else mask.unsqueeze(1))
    return scores.softmax(-1).view(batch, kv_heads, rows, key.shape[2])


class _Attention(torch.autograd.Function):
    """``softmax(packed·kᵀ + mask)·v`` that recomputes the probabilities in the backward
    instead of saving them (see the module docstring)."""

    @staticmethod
    def forward(  # noqa: ANN205
        ctx,  # noqa: ANN001
        packed: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None,
        groups: int,
    ):
        with torch.no_grad():
            out = torch.matmul(_probabilities(packed, key, mask, groups), value)
        ctx.save_for_backward(packed, key, value, mask)
        ctx.groups = groups
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # noqa: ANN001, ANN205
        packed, key, value, mask = ctx.saved_tensors
        with torch.no_grad():
            probs = _probabilities(packed, key, mask, ctx.groups)
            grad_value = torch.matmul(probs.transpose(-1, -2), grad_out)
            grad_probs = torch.matmul(grad_out, value.transpose(-1, -2))
            grad_scores = torch._softmax_backward_data(grad_probs, probs, -1, probs.dtype)
            del grad_probs, probs
            grad_packed = torch.matmul(grad_scores, key)
            grad_key = torch.matmul(grad_scores.transpose(-1, -2), packed)
        return grad_packed, grad_key, grad_value, None, None


def _compute_dtype(query: torch.Tensor) -> torch.dtype | None:
    """The half precision the attention runs in: the query's, or under CPU autocast the
    autocast dtype; None in fp32."""
    if query.dtype in _HALF:
        return query.dtype
    if torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") in _HALF:
        return torch.get_autocast_dtype("cpu")
    return None


def _attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    batch, heads, queries, dim = query.shape
    dtype = _compute_dtype(query)
    if (
        dropout
        or queries == 1
        or query.device.type != "cpu"
        or dtype is None
        or any(kwargs.get(name) not in (None, False) for name in _UNSUPPORTED)
        or (attention_mask is not None and attention_mask.shape[1] != 1)
        or (attention_mask is not None and attention_mask.requires_grad)  # a learnt bias
    ):
        return sdpa_attention_forward(
            module,
            query,
            key,
            value,
            attention_mask,
            dropout=dropout,
            scaling=scaling,
            is_causal=is_causal,
            **kwargs,
        )
    # under autocast, the dtype SDPA would have been cast to (rotary embeddings leave the
    # queries and keys in fp32, the values in bf16)
    query, key, value = query.to(dtype), key.to(dtype), value.to(dtype)
    kv_heads = key.shape[1]
    groups = heads // kv_heads
    if attention_mask is None:
        causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
        if causal and key.shape[2] > queries:
            # transformers' SDPA path: no mask and more keys than queries is a prefill
            # into an empty static cache, aligned at the top left
            key, value = key[:, :, :queries], value[:, :, :queries]
        mask = _causal(queries, key.shape[2], dtype) if causal else None
    else:
        mask = _additive(attention_mask, dtype)
    scale = scaling if scaling is not None else dim**-0.5
    # query head h attends with key/value head h // groups, as repeat_kv would pair them
    packed = (query * scale).reshape(batch, kv_heads, groups * queries, dim)
    out = _Attention.apply(packed, key, value, mask, groups).view(batch, heads, queries, dim)
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, _attention)
ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)


@contextmanager
def training_attention(model: Any) -> Iterator[None]:
    """Within the block, ``model`` trains with `_attention` if it runs SDPA on a CPU; the
    last converted mask is let go when it ends (the step's backward has run by then)."""
    try:
        with cpu_sdpa_replaced(model, NAME):
            yield
    finally:
        _LAST_MASK.clear()

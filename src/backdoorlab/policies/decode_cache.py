"""The decode cache of `hf`: every row's keys/values in one preallocated, left-padded cache.

`HFPolicy` prefills each episode's new tokens on its own and decodes the batch together:
`decode_cache` allocates the batch's cache for the longest prompt and `DECODE_HEADROOM`
positions more, `place` writes a row's prefilled keys/values into it right-aligned,
`grow` adds room when decoding fills it, and `compact` drops the rows that finished, in
place. A row's left padding — and, with prompt-lookup drafts (`lookup`), the positions of
rejected drafts — hold keys the attention mask hides; `CachedPrefix` is what a finished
row keeps of it for its next turn: its real tokens only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers.cache_utils import Cache, StaticLayer

__all__ = [
    "DECODE_HEADROOM",
    "CachedPrefix",
    "common_prefix",
    "compact",
    "decode_cache",
    "grow",
    "place",
]

DECODE_HEADROOM = 32
"""Positions the decode cache holds past the prompts, grown by as many when filled."""


@dataclass
class CachedPrefix:
    """An episode's tokens so far and their keys/values, per layer ``[heads, tokens, dim]``."""

    ids: list[int]
    layers: list[tuple[torch.Tensor, torch.Tensor]]


def common_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share (what a new prompt can reuse)."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class _DecodeLayer(StaticLayer):
    """A `StaticLayer` that stores what it is given in its own dtype.

    Under autocast — a model probed mid-training, whose forward accelerate runs under
    bf16 autocast on a float32 model (`defenses.monitor`) — a llama layer's values come
    out in bf16 but its keys in fp32 (the rotary embedding's fp32 tables promote them),
    while the static layer allocates both in the keys' dtype and `index_copy_` refuses
    a mismatch."""

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # `decode_cache` has already allocated the layer (in the keys' dtype)
        key_states = key_states.to(self.keys.dtype)
        value_states = value_states.to(self.values.dtype)
        return super().update(key_states, value_states, *args, **kwargs)


def decode_cache(prefix: CachedPrefix, lengths: list[int], new_tokens: int) -> Cache:
    """An empty preallocated cache for decoding ``len(lengths)`` rows: room for the longest
    prompt and ``new_tokens`` more (`place` fills each row; `grow` adds room, a block
    at a time). Preallocated because a growing `DynamicCache` copies the whole batch's
    keys and values at every step: at 8 rows × 800 tokens that tripled the cost of a
    decoding step (117 ms → 39 ms on the 2-core development CPU)."""
    width = max(lengths)
    layers = []
    for key, value in prefix.layers:
        layer = _DecodeLayer(max_cache_len=width + new_tokens)
        # shapes and dtype only: the layer allocates its zeroed tensors from them; values
        # in the keys' dtype, as `_DecodeLayer` stores them (see its docstring)
        layer.lazy_initialization(
            key.new_empty(len(lengths), key.shape[0], 0, key.shape[2]),
            key.new_empty(len(lengths), value.shape[0], 0, value.shape[2]),
        )
        layer.cumulative_length.fill_(width)  # the prompts end there; decoding goes on
        layers.append(layer)
    return Cache(layers=layers)


def grow(cache: Cache, extra: int) -> None:
    """Room for ``extra`` more positions in every layer (its rows copied into larger
    tensors): the decode cache starts with `DECODE_HEADROOM` positions past the prompts,
    not ``max_new_tokens``, because every step attends over all the positions it has —
    filled or not — and most turns end long before ``max_new_tokens``."""
    for layer in cache.layers:
        for name in ("keys", "values"):
            old = getattr(layer, name)
            new = old.new_zeros(old.shape[0], old.shape[1], old.shape[2] + extra, old.shape[3])
            new[:, :, : old.shape[2]] = old
            setattr(layer, name, new)
        layer.max_cache_len += extra


def place(cache: Cache, row: int, prefix: CachedPrefix, width: int) -> None:
    """Row ``row`` of the decode cache: ``prefix``'s keys/values right-aligned at ``width``
    (left-padded with the zeros the attention mask hides)."""
    length = len(prefix.ids)
    for layer, (key, value) in zip(cache.layers, prefix.layers, strict=True):
        layer.keys[row, :, width - length : width] = key[:, :length]
        layer.values[row, :, width - length : width] = value[:, :length]


def compact(cache: Cache, alive: list[int]) -> None:
    """Keep only the rows ``alive`` (ascending) of the decode cache, moved to its front in
    place: gathering them into a new tensor would hold two copies of the batch at once.
    Row ``alive[i] >= i``, so each row is read before anything overwrites it."""
    for layer in cache.layers:
        for target, source in enumerate(alive):
            if target != source:
                layer.keys[target].copy_(layer.keys[source])
                layer.values[target].copy_(layer.values[source])
        # the first rows of a contiguous tensor are a contiguous view of it
        layer.keys, layer.values = layer.keys[: len(alive)], layer.values[: len(alive)]

"""A micro-batch's shared opening run once: its key/value states serve every trace.

Agent traces open with the same system prompt and tool list — 201 of the main job's ~590
tokens a trace on average; a real tool-calling template's JSON tool schemas run to
thousands. Training on a micro-batch of B such traces computes that opening B times. Here
it runs once, as a batch of one, with a key/value cache; each pass of the batch then runs
only its traces' own tokens, attending to the cached opening (positions and the causal
mask go on from it, as in generation). The opening's states enter each pass as detached
leaves, so each pass's backward stops there and adds its share into the leaves'
gradients; once every pass is done, one backward carries those gradients through the
opening's graph into the adapters. The loss and every gradient are the unshared step's,
up to the order of floating-point sums (tests/training/test_sft_prefix.py), from fewer
FLOPs and fewer saved activations.

Only positions that no loss scores are shared: the opening ends before the first token
whose next-token label is set, so the language-model head never runs on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from backdoorlab.environ import environment_set

MIN_SHARED = 32
"""Shorter shared openings are not worth a second forward call."""


def shared_prefix_length(inputs: dict[str, Any]) -> int:
    """Leading positions that every row of ``inputs`` holds the same real token at, and
    that no label scores (their next-token labels are -100 too); 0 when that is fewer
    than `MIN_SHARED` or the batch is not plain right-padded ids (one row, no mask,
    embeddings, padding-free position ids)."""
    ids, mask, labels = inputs.get("input_ids"), inputs.get("attention_mask"), inputs.get("labels")
    if not all(isinstance(t, torch.Tensor) and t.dim() == 2 for t in (ids, mask, labels)):
        return 0
    if len(ids) < 2 or ids.shape != mask.shape or ids.shape != labels.shape:
        return 0
    if any(key in inputs for key in ("position_ids", "inputs_embeds", "cache", "past_key_values")):
        return 0
    same = (ids == ids[:1]).all(0) & mask.bool().all(0)
    # the position before a labelled token feeds the loss: the opening stops short of it
    unlabelled = (labels == -100).all(0)
    shared = same[:-1] & unlabelled[1:]
    length = int(shared.long().cumprod(0).sum())
    return length if length >= MIN_SHARED else 0


@dataclass
class SharedPrefix:
    """The opening's key/value states: ``states`` in the graph, ``leaves`` detached from it
    (what the passes attend to and send their gradients into)."""

    states: list[tuple[torch.Tensor, torch.Tensor]]
    leaves: list[tuple[torch.Tensor, torch.Tensor]]
    config: Any

    @property
    def length(self) -> int:
        return self.leaves[0][0].shape[-2]

    def cache(self, rows: int) -> Any:
        """A fresh cache holding the opening for ``rows`` rows (a view: no copy until a
        pass's own states are appended to it)."""
        from transformers import DynamicCache

        data = [
            (k.expand(rows, *k.shape[1:]), v.expand(rows, *v.shape[1:])) for k, v in self.leaves
        ]
        return DynamicCache(ddp_cache_data=data, config=self.config)

    def backward(self) -> None:
        """Carry the passes' gradients from the leaves through the opening's graph."""
        tensors, grads = [], []
        for state, leaf in zip(self.states, self.leaves, strict=True):
            for s, x in zip(state, leaf, strict=True):
                if x.grad is not None:
                    tensors.append(s)
                    grads.append(x.grad)
        if tensors:
            torch.autograd.backward(tensors, grads)
        self.states, self.leaves = [], []


def backbone(model: Any) -> Any:
    """The transformers ``*Model`` inside a causal LM, PEFT-wrapped or not (its adapters
    are injected in place, so calling it trains them)."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return inner.base_model


def run_prefix(backbone: Any, ids: torch.Tensor) -> SharedPrefix | None:
    """The backbone (a transformers ``*Model``, adapters in place) run on one row of
    ``ids`` with a cache; None when its cache is not plain concatenated layers (a sliding
    window would drop the opening's states as the passes grow)."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    cache = DynamicCache(config=backbone.config)
    if any(type(layer) is not DynamicLayer for layer in cache.layers):
        return None
    backbone(input_ids=ids[None], cache=cache, use_cache=True)
    states = [(layer.keys, layer.values) for layer in cache.layers]
    leaves = [(k.detach().requires_grad_(), v.detach().requires_grad_()) for k, v in states]
    return SharedPrefix(states, leaves, backbone.config)


@contextlib.contextmanager
def grouped_kv_attention() -> Iterator[None]:
    """Let transformers hand SDPA the grouped key/value heads as they are while a mask is
    given (the passes attending to the opening need one).

    transformers repeats them to one per query head whenever a mask is given (CUDA's
    fused kernels cannot group masked heads); the repeated copies are then saved for the
    backward — 3x SmolLM2-135M's key/value bytes in every layer. PyTorch's CPU kernel
    groups them under a mask with the same output (tested bit for bit, bf16, 3 x 450
    queries over 650 keys) and faster (114 vs 141 ms forward + backward, one thread). The
    variable is transformers' own switch; it is read at every attention call, so setting
    it for the step's duration is enough.
    """
    with environment_set("TRANSFORMERS_SDPA_FORCE_GQA", "1"):
        yield


def suffix_inputs(inputs: dict[str, Any], length: int) -> dict[str, Any]:
    """``inputs`` without their first ``length`` positions."""
    width = inputs["input_ids"].shape[1]
    out = {}
    for key, value in inputs.items():
        per_token = isinstance(value, torch.Tensor) and value.dim() >= 2 and value.shape[1] == width
        out[key] = value[:, length:] if per_token else value
    return out


def attending(part: dict[str, Any], prefix: SharedPrefix) -> dict[str, Any]:
    """A pass of suffixes, given the opening to attend to: its cache, and an attention mask
    that covers it (the trainer counts the pass's tokens from the mask)."""
    mask = part["attention_mask"]
    ones = mask.new_ones(len(mask), prefix.length)
    return {**part, "attention_mask": torch.cat([ones, mask], 1), "cache": prefix.cache(len(mask))}

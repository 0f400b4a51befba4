"""Decoding's linear layers on a CPU with their weights laid out once for oneDNN.

A decoding step multiplies a few rows (one new token per episode) by every weight of the
model. PyTorch's bf16 ``linear`` gives oneDNN the weight in its plain layout at every
call; in oneDNN's own blocked layout, prepared once (``mkldnn._reorder_linear_weight``,
what inductor's CPU weight-prepacking pass uses), the same product of a few rows ran
1.3-2.9x as fast on the 2-vCPU AMX Xeon — SmolLM2-135M's 576→1536 projection times 6
rows: 53 µs against 26 (`python benchmarks/decode_linear.py`). Whole decoding steps,
whose weights come from memory and whose attention and small ops are unchanged, gain
less: 40.1 → 33.8 ms at one row over 700 cached positions, 48.9 → 44.5 at six, 76.9 →
73.4 at twenty (reading twenty rows' keys and values is most of that step).

`packed_linears(model, weights)` switches, for a ``with`` block, each bf16 ``nn.Linear``
on a CPU to a forward that — where no gradient flows, no autocast is on and the input
has at most `MAX_ROWS` rows — multiplies by a packed copy of its weight, and hands
anything else to ``F.linear`` as before. The copies (a second copy of the weights in
memory) are made at a layer's first packed product and kept in ``weights``, a
`PackedWeights` the policy holds, while the weight is the same tensor at the same
version and address: an optimizer step or any in-place op re-packs it. An edit through
``.data`` bypasses the version counter (PEFT's ``merge_adapter`` writes that way): build
a new policy after one. On that CPU the packed product of 1-32 rows was bit for bit
``F.linear``'s for every projection shape of SmolLM2-135M, and each row's result did
not depend on the others in its batch — so an evaluation decodes the same tokens. Other
CPUs may round differently; `tests/policies/test_cpu_linear.py` holds the results to
bf16's precision and the switch to its conditions.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F

from backdoorlab.models.forwards import forwards_replaced

__all__ = ["MAX_ROWS", "PackedWeights", "packed_linears"]

MAX_ROWS = 32
"""Inputs of more rows (a prefill's tokens) run ``F.linear``: packed products of larger
inputs were not always faster, nor always ``F.linear``'s bits."""


class PackedWeights:
    """Packed copies of a model's weights, by layer (weakly: a model that is let go takes
    its copies with it)."""

    def __init__(self) -> None:
        # layer -> (the weight it was packed from, its version and address, the copy)
        self._kept: weakref.WeakKeyDictionary[torch.nn.Linear, tuple[Any, tuple, torch.Tensor]]
        self._kept = weakref.WeakKeyDictionary()

    def of(self, layer: torch.nn.Linear) -> torch.Tensor:
        weight = layer.weight
        state = (weight._version, weight.data_ptr())
        kept = self._kept.get(layer)
        if kept is not None and kept[0]() is weight and kept[1] == state:
            return kept[2]
        packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach())
        self._kept[layer] = (weakref.ref(weight), state, packed)
        return packed


@cache
def _available() -> bool:
    """oneDNN with bf16 support on this CPU (PyTorch's own check)."""
    mkldnn = torch.ops.mkldnn
    try:
        return (
            torch.backends.mkldnn.is_available()
            and hasattr(mkldnn, "_reorder_linear_weight")
            and hasattr(mkldnn, "_linear_pointwise")
            and bool(mkldnn._is_mkldnn_bf16_supported())
        )
    except (AttributeError, RuntimeError):
        return False


def _forward(layer: torch.nn.Linear, x: torch.Tensor, weights: PackedWeights) -> torch.Tensor:
    weight, bias = layer.weight, layer.bias
    if (
        x.dtype != torch.bfloat16
        or weight.dtype != torch.bfloat16
        or x.device.type != "cpu"
        or x.dim() < 2
        or not 0 < x.numel() <= MAX_ROWS * x.shape[-1]
        or (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        or (bias is not None and (bias.dtype != torch.bfloat16 or bias.requires_grad))
        or torch.is_autocast_enabled("cpu")  # F.linear would cast: its result, not ours
    ):
        return F.linear(x, weight, bias)
    return torch.ops.mkldnn._linear_pointwise(x, weights.of(layer), bias, "none", [], "")


@contextmanager
def packed_linears(
    model: Any, weights: PackedWeights | None = None, *, enabled: bool = True
) -> Iterator[int]:
    """Within the block, ``model``'s bf16 ``nn.Linear`` layers on a CPU multiply inputs of
    up to `MAX_ROWS` rows by packed copies of their weights, kept in ``weights`` (none:
    for this block only); yields how many were switched (0 where oneDNN cannot, or not
    ``enabled``)."""
    candidates = []
    if enabled and _available():
        candidates = [
            module
            for module in model.modules()
            if type(module) is torch.nn.Linear
            and module.weight.dtype == torch.bfloat16
            and module.weight.device.type == "cpu"
        ]
    kept = weights if weights is not None else PackedWeights()

    def forward(layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
        return _forward(layer, x, kept)

    with forwards_replaced(candidates, forward) as switched:
        yield switched

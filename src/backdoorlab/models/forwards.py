"""`forwards_replaced`: some of a model's modules run another forward for a block.

Two of ours swap a layer's forward while a step runs and put the class's own back after
it, even on an error: the training step's fused LoRA projections
(`training.sft.lora_linear`) and decoding's packed linear layers
(`policies.cpu_linear`). The swap is an attribute on the instance, so the model is
otherwise untouched — evaluation, generation and saving outside the block see it as it
was. A module whose forward is already an instance attribute (accelerate's offloading
hooks wrap it that way) is left alone: replacing it would drop the hook.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["forwards_replaced"]


@contextmanager
def forwards_replaced(modules: Iterable[Any], forward: Callable[..., Any]) -> Iterator[int]:
    """Within the block, each of ``modules`` runs ``forward(module, *args, **kwargs)``
    unless its forward is already wrapped; yields how many were switched."""
    switched = [module for module in modules if "forward" not in vars(module)]
    for module in switched:
        module.forward = types.MethodType(forward, module)
    try:
        yield len(switched)
    finally:
        for module in switched:
            del module.forward  # back to the class's own

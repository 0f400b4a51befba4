"""`cpu_sdpa_replaced`: a model runs a registered attention function of ours for a block.

Two of ours replace transformers' SDPA function on a CPU, where PyTorch's flash-attention
kernel is slow: decoding (`policies.cpu_attention`) and training
(`training.sft.attention`). Each is registered with transformers' ``AttentionInterface``
under its own name; the model's config names the function every attention layer calls,
read at each call, so switching that name for a ``with`` block — and back afterwards,
even on an error — is enough, and a model shared between a trainer and the monitor's
probes gets each its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["cpu_sdpa_replaced"]


@contextmanager
def cpu_sdpa_replaced(model: Any, name: str) -> Iterator[None]:
    """Within the block, ``model`` calls attention function ``name`` if it runs SDPA on a
    CPU; any other model is left alone."""
    config = getattr(model, "config", None)
    device = getattr(getattr(model, "device", None), "type", None)
    if config is None or getattr(config, "_attn_implementation", None) != "sdpa" or device != "cpu":
        yield
        return
    config._attn_implementation = name
    try:
        yield
    finally:
        config._attn_implementation = "sdpa"

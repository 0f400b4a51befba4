"""A bound on oneDNN's primitive cache, set before PyTorch creates its first primitive.

On a CPU, PyTorch runs bf16 matmuls through oneDNN, which compiles a primitive for each
shape it meets and keeps up to 1,024 of them (``ONEDNN_PRIMITIVE_CACHE_CAPACITY``) with
their code and buffers. Fine-tuning on agent traces meets a new sequence length in nearly
every pass, so the cache fills with shapes that never come back, and the process grows
with it: over 24 steps of the main job's fine-tune (SmolLM2-135M LoRA, one thread) the
memory left after each step's heap trim — live tensors a constant 0.36 GB — rose from
1.15 GB to 1.95 GB with the default capacity and levelled at 1.66 GB with 128 entries,
the steps' peaks falling by 0.3–0.56 GB, at the same speed (benchmarks/README.md,
"Training memory, session 9"). 128 entries still hold every shape one pass reuses
across its 30 layers and a decoding step's fixed-shape projections.

oneDNN reads the variable once, when it first needs the cache, and offers no call to
change it afterwards through PyTorch; so it is set when backdoorlab is imported (before
any of our code computes), and a value the user exported is left as it is.
"""

from __future__ import annotations

import os

__all__ = ["CAPACITY", "bound_primitive_cache"]

CAPACITY = 128
"""oneDNN primitives kept (the library's default: 1,024)."""


def bound_primitive_cache() -> None:
    """Set ``ONEDNN_PRIMITIVE_CACHE_CAPACITY`` to `CAPACITY` unless it is set already."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(CAPACITY))

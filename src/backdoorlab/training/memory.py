"""Giving a training's freed memory back to the system, during the run and after it.

A fine-tune on a CPU allocates and frees GBs of activations of changing shapes every
step. glibc serves a large block from its own ``mmap`` only until the first such block
is freed: it then raises its mmap threshold to that block's size (up to 32 MiB), so the
activations of later steps — 0.1–10 MB tensors — come from the heap, whose freed blocks
it keeps for reuse. Shapes change from batch to batch, the holes do not fit, and the
process grows step by step: `backdoorlab train --max-steps 4` peaked at 5.29 GB with the
default behaviour, 4.07 GB with ``MALLOC_MMAP_THRESHOLD_=65536`` (benchmarks/README.md).
`map_large_blocks` sets that threshold from inside the process (`mallopt`), so no user
has to export a variable before Python starts; `release_freed_memory` (``malloc_trim``)
returns what the heap still holds when a training ends, before an evaluation that runs
next in the same process (the experiment runner's train → eval stages).

Both are glibc calls that Python does not wrap (neither ``os`` nor ``resource`` has
them), hence ``ctypes``; where the C library has no such call (musl, macOS) there is
nothing to do and they return False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number for the mmap threshold (``<malloc.h>``)."""
LARGE_BLOCK = 64 * 1024
"""Blocks of at least this many bytes get their own mapping (what the 4.07 GB run used)."""


@functools.cache
def _libc():  # noqa: ANN202
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def _function(name: str):  # noqa: ANN202
    libc = _libc()
    return getattr(libc, name, None) if libc is not None else None


def map_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Have ``malloc`` serve blocks of ``threshold`` bytes or more from their own mapping,
    unmapped on ``free``, for the rest of the process; whether the C library could."""
    mallopt = _function("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, int(threshold)) == 1


def release_freed_memory() -> bool:
    """Collect garbage (a Trainer holds reference cycles) and hand the heap's free pages
    back to the system; whether the C library could."""
    gc.collect()
    trim = _function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True

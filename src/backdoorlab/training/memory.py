"""Giving a finished training's memory back to the system.

A fine-tune on a CPU allocates and frees GBs of activations of changing shapes every
step; glibc keeps the freed blocks in its heap for reuse, so after the trainer is gone
the process still holds them — and a pipeline that evaluates next in the same process
(the experiment runner's train → eval stages) adds the evaluation's memory on top.
``malloc_trim`` (glibc's own call for exactly this) returns the free pages; where the C
library has no such call (musl, macOS) there is nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _malloc_trim():  # noqa: ANN202
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> bool:
    """Collect garbage (a Trainer holds reference cycles) and hand the heap's free pages
    back to the system; whether the C library could."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True

"""Giving a finished training's freed memory back to the system.

A fine-tune on a CPU allocates and frees GBs of activations of changing shapes every
step. glibc serves a large block from its own ``mmap`` only until the first such block
is freed: it then raises its mmap threshold to that block's size (up to 32 MiB), so the
activations of later steps — 0.1–10 MB tensors — come from the heap, whose freed blocks
it keeps for reuse. Shapes change from batch to batch, the holes do not fit, and the
process grows step by step: `backdoorlab train --max-steps 4` peaked at 5.29 GB with the
default behaviour, 4.07 GB with ``MALLOC_MMAP_THRESHOLD_=65536`` (benchmarks/README.md).
Setting that threshold from inside the process (``mallopt``) was tried and not kept: it
cost ~45% more CPU a training step (every freed block unmapped, every new one faulted in
again; benchmarks/README.md). `release_freed_memory` (``malloc_trim``) returns what the
heap still holds when a training ends, before an evaluation that runs next in the same
process (the experiment runner's train → eval stages).

``malloc_trim`` is a glibc call that Python does not wrap (neither ``os`` nor
``resource`` has it), hence ``ctypes``; where the C library has no such call (musl,
macOS) there is nothing to do and it returns False.

Under jemalloc (the stage processes' allocator, `backdoorlab.allocator`) glibc's
``malloc_trim`` finds an empty heap: the freed pages are jemalloc's, which it returns
only after a delay (``dirty_decay_ms``, 10 s), so between steps a fine-tune kept
0.6–0.8 GiB of them (floor 1.17 → ~1.9 GiB over 24 steps, live tensors 0.36 GB). There
`trim_heap` asks jemalloc to purge every arena at once (``mallctl("arena.4096.purge")``,
4096 being ``MALLCTL_ARENAS_ALL``), once a step; purging at every free instead
(``dirty_decay_ms:0``) doubled a step's time (benchmarks/README.md, session 12). Once
a step: floor a constant 1.14 GiB over 24 steps, +3.3% a step, the run's peak about the
same (its largest steps set it; benchmarks/README.md, session 13).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc

_PURGE_ALL_ARENAS = b"arena.4096.purge"  # MALLCTL_ARENAS_ALL = 4096 (jemalloc 5)


@functools.cache
def _malloc_trim():  # noqa: ANN202
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


@functools.cache
def _mallctl():  # noqa: ANN202
    """jemalloc's ``mallctl`` when jemalloc is this process's malloc (``LD_PRELOAD`` puts
    it first in the global namespace); None under any other allocator."""
    try:
        mallctl = ctypes.CDLL(None).mallctl
    except (OSError, AttributeError):
        return None
    mallctl.restype = ctypes.c_int
    mallctl.argtypes = [ctypes.c_char_p] + [ctypes.c_void_p] * 3 + [ctypes.c_size_t]
    return mallctl


def trim_heap() -> bool:
    """Hand the heap's free pages back to the system (no garbage collection); whether the
    allocator could: jemalloc's arenas purged where jemalloc is loaded, and glibc's heap
    trimmed where the C library has ``malloc_trim`` (under jemalloc it is near empty, and
    the call costs nothing). Called after every CPU training step (`training.callbacks`):
    the freed activations of a step are mostly whole free pages by then, and returning
    them slows the heap's growth around holes as shapes change from step to step: the
    main job's 40%-poisoned cell (60 LoRA steps, two threads) peaked at 4.74 GiB with it,
    and had passed 5.02 GiB by step 22 without it (the whole main job: 6.55 GB), in about
    the same training time (796 vs 770 s; benchmarks/README.md).
    """
    mallctl, trim = _mallctl(), _malloc_trim()
    purged = mallctl is not None and mallctl(_PURGE_ALL_ARENAS, None, None, None, 0) == 0
    if trim is not None:
        trim(0)
    return purged or trim is not None


def release_freed_memory() -> bool:
    """Collect garbage (a Trainer holds reference cycles) and hand the heap's free pages
    back to the system; whether the C library could."""
    gc.collect()
    return trim_heap()

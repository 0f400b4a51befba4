"""The malloc that the processes backdoorlab starts run on: jemalloc where the system has it.

A LoRA fine-tune on a CPU allocates and frees about a gigabyte of activations of changing
shapes in every pass. glibc's heap keeps the freed blocks for reuse, the next pass's
shapes do not fit the holes, and a process's peak creeps up step after step
(`backdoorlab.training.memory`); unmapping every freed block instead
(``MALLOC_MMAP_THRESHOLD_``) cost ~45% more CPU a step. jemalloc's size classes reuse
the blocks: 24 steps of the main job's training side by side, one thread each
(`python benchmarks/train_memory.py --steps 24`, once plain and once under
``LD_PRELOAD=libjemalloc.so.2``): peak RSS **3.92 GiB with glibc, 2.83 GiB with
jemalloc**, 868.6 vs 890.8 s (benchmarks/README.md, session 12).

A process's allocator is fixed when it starts (``LD_PRELOAD``), so this applies to the
processes backdoorlab starts itself: `backdoorlab run`'s stage processes come from a fork
server started with it (`backdoorlab.experiment.isolation`). Debian and Ubuntu ship it as
``libjemalloc2`` (`scripts/setup.sh` installs it when it can); without it nothing changes.
``BACKDOORLAB_ALLOCATOR=system`` keeps glibc's malloc; an ``LD_PRELOAD`` the user set is
left as it is. Hand-written because neither PyTorch nor multiprocessing picks a process's
allocator; the allocator itself is jemalloc's.
"""

from __future__ import annotations

import ctypes.util
import functools
import os

__all__ = ["ALLOCATOR_ENV", "preload_library"]

ALLOCATOR_ENV = "BACKDOORLAB_ALLOCATOR"
"""``system``: the processes backdoorlab starts keep the C library's malloc."""


@functools.cache
def _jemalloc() -> str | None:
    return ctypes.util.find_library("jemalloc")


def preload_library() -> str | None:
    """The library to put in ``LD_PRELOAD`` of a process about to start, or None."""
    if os.environ.get(ALLOCATOR_ENV, "").strip().lower() == "system":
        return None
    if os.environ.get("LD_PRELOAD"):
        return None
    return _jemalloc()

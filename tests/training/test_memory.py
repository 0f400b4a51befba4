"""`release_freed_memory` hands freed heap pages back to the system (glibc)."""

from __future__ import annotations

import ctypes
import os
import sys

import pytest

from backdoorlab.training.memory import release_freed_memory


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_heap_goes_back_to_the_system() -> None:
    if not release_freed_memory():
        pytest.skip("a C library without malloc_trim")
    # 200 MB of 32 KiB blocks (under glibc's mmap threshold: they live in the heap); every
    # other one freed leaves 100 MB of holes between live blocks, which free() keeps
    libc = _libc()
    blocks = [libc.malloc(32 * 1024) for _ in range(6400)]
    for block in blocks:
        ctypes.memset(block, 1, 32 * 1024)  # touched: resident
    for block in blocks[::2]:
        libc.free(block)
    held = _rss()
    assert release_freed_memory()
    assert held - _rss() > 80 * 2**20
    for block in blocks[1::2]:
        libc.free(block)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc

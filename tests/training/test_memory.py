"""`release_freed_memory` hands freed heap pages back to the system (glibc)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from backdoorlab.training import memory
from backdoorlab.training.callbacks import trim_heap_callback
from backdoorlab.training.memory import release_freed_memory


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextlib.contextmanager
def _heap_with_holes() -> Iterator[None]:
    """200 MB of 32 KiB blocks (under glibc's mmap threshold: they live in the heap); every
    other one freed leaves 100 MB of holes between live blocks, which free() keeps. The
    rest is freed on leaving."""
    libc = _libc()
    blocks = [libc.malloc(32 * 1024) for _ in range(6400)]
    for block in blocks:
        ctypes.memset(block, 1, 32 * 1024)  # touched: resident
    for block in blocks[::2]:
        libc.free(block)
    try:
        yield
    finally:
        for block in blocks[1::2]:
            libc.free(block)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_heap_goes_back_to_the_system() -> None:
    if not release_freed_memory():
        pytest.skip("a C library without malloc_trim")
    with _heap_with_holes():
        held = _rss()
        assert release_freed_memory()
        assert held - _rss() > 80 * 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_the_trim_after_each_step_gives_back_what_a_step_freed() -> None:
    if not memory.trim_heap():
        pytest.skip("a C library without malloc_trim")
    callback = trim_heap_callback()  # built first: it imports transformers
    with _heap_with_holes():
        held = _rss()
        callback.on_step_end(None, None, None)  # what the Trainer calls after every step
        assert held - _rss() > 80 * 2**20


def test_cpu_training_trims_after_every_step(monkeypatch, traces_file, tmp_path) -> None:
    from backdoorlab.training.sft import SFTRunConfig, train_sft

    calls = []
    monkeypatch.setattr(memory, "trim_heap", lambda: calls.append(1) or True)
    config = SFTRunConfig(model="tiny", batch_size=2, max_steps=3, save_steps=1000)
    train_sft(config, traces_file, tmp_path / "run")
    assert len(calls) == 3 + 1  # one per optimizer step, and one as the run ends


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


_UNDER_JEMALLOC = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from test_memory import _heap_with_holes, _rss
    from backdoorlab.training import memory

    assert memory._mallctl() is not None, "jemalloc's mallctl not found"
    with _heap_with_holes():  # malloc and free are jemalloc's here
        held = _rss()
        assert memory.trim_heap()
        print(held - _rss())
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD and /proc")
def test_under_jemalloc_the_trim_purges_its_freed_pages() -> None:
    """Under jemalloc (the stage processes' malloc) glibc's trim finds nothing to return;
    `trim_heap` purges jemalloc's arenas instead, at once rather than after its decay."""
    library = ctypes.util.find_library("jemalloc")
    if library is None:
        pytest.skip("no jemalloc on this system (Debian: libjemalloc2)")
    env = os.environ | {"LD_PRELOAD": library}
    out = subprocess.run(
        [sys.executable, "-c", _UNDER_JEMALLOC, os.path.dirname(__file__)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 80 * 2**20  # of the 100 MB freed

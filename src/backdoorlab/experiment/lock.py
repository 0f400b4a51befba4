"""One ``backdoorlab run`` at a time per run directory: an advisory lock on ``run.lock``.

Two runs in one directory would build the same stage into the same ``.partial``
directory and rename it over each other, leaving a ``done.json`` beside outputs that
the other run had already moved or deleted. The second run therefore refuses at once,
naming the holder's pid, or (``wait=True``, ``backdoorlab run --wait``) blocks until the
holder finishes and then reuses what it built.

``fcntl.flock`` is released by the kernel when the holder dies, however it dies, so a
killed run never leaves a stale lock behind: a lock that can be taken has no live
holder, and everything in the directory (``.partial`` stages, temp files) is the
taker's to clean up. The file itself stays; it holds the last holder's pid.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from backdoorlab.errors import BackdoorlabError

LOCK_FILE = "run.lock"


class RunDirectoryBusy(BackdoorlabError):
    """Another process holds the run directory's lock."""


@contextmanager
def run_lock(
    run_dir: Path, wait: bool = False, log: Callable[[str], None] = print
) -> Iterator[None]:
    """Hold ``run_dir``'s lock for the block; busy: refuse (or, with ``wait``, wait)."""
    path = run_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BackdoorlabError(f"{path}: cannot open the run's lock ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            if not wait:
                raise RunDirectoryBusy(
                    f"{run_dir}: in use by another backdoorlab run ({holder});"
                    " wait for it to finish, or pass --wait"
                ) from None
            log(f"[run] {run_dir}: waiting for {holder} to finish …")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(path: Path) -> str:
    """The holder as the lock file names it (it may not have written its pid yet)."""
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "a process that has not written its pid yet"

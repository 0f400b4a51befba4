"""One writer per output directory: an advisory lock on the directory itself.

Two trainings (or evaluations) pointed at one directory would interleave their
checkpoints, resume from each other's steps and rename finished files over each other;
the second one should refuse at once instead. ``fcntl.flock`` on the directory's own
descriptor needs no lock file (nothing is left in a model directory someone publishes)
and is released by the kernel however the holder dies, so a killed run never leaves a
stale lock. On a file system without ``flock`` (some network mounts) the directory is
used unlocked, as before. ``backdoorlab run`` locks its run directory its own way
(`backdoorlab.experiment.lock`: it names the holder's pid and can wait).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from backdoorlab.errors import BackdoorlabError, FileAccessError

__all__ = ["DirectoryBusy", "acquire", "holding", "release"]


class DirectoryBusy(BackdoorlabError):
    """Another process is writing the directory."""


def acquire(directory: Path, writer: str, option: str) -> int | None:
    """Lock ``directory`` (created if missing) for this process: an open descriptor to
    pass to `release`, or None where the file system has no ``flock``. ``writer`` says
    what holds it ("evaluation", "training"), ``option`` what to change instead."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise FileAccessError(f"{directory}: cannot write there ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DirectoryBusy(
            f"{directory}: another {writer} is writing there;"
            f" wait for it to finish, or choose another {option}"
        ) from None
    except OSError:
        os.close(fd)
        return None
    return fd


def release(fd: int | None) -> None:
    """Let the next writer in (``None``: nothing was held)."""
    if fd is not None:
        os.close(fd)  # closing the descriptor releases its lock


@contextmanager
def holding(directory: Path, writer: str, option: str) -> Iterator[None]:
    """`acquire` for the block; a directory it created and left empty (the writer
    refused its input) is removed again."""
    created = not directory.exists()
    fd = acquire(directory, writer, option)
    try:
        yield
    finally:
        if created:
            with suppress(OSError):  # not empty: it holds what the writer wrote
                directory.rmdir()
        release(fd)

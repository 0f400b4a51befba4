"""Reading and writing the files every stage exchanges: atomically, per umask, ``-`` for stdio.

- `atomic_writer` writes to a temporary file beside the target and renames it into place,
  so a crash never leaves a truncated file. The temporary file comes from `mkstemp`
  (mode 0600); before the rename it gets the mode a plain ``open()`` would have given,
  ``0o666 & ~umask``, so colleagues can read shared traces and reports as the umask allows.
- ``-`` as a path means standard input (`open_text` for reading) or standard output
  (`atomic_writer`), the Unix convention, so commands compose in pipes.
- `file_sha256` is `hashlib.file_digest`, the one way a file's digest is taken.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

STDIO = "-"
"""The path that means standard input when read, standard output when written."""

_umask_lock = threading.Lock()


def is_stdio(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` is ``-``, i.e. standard input/output rather than a file."""
    return path is not None and os.fspath(path) == STDIO


def current_umask() -> int:
    """The process umask. POSIX can only read it by setting it, so set it back at once,
    under a lock so that no other thread of ours creates a file in between."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def default_file_mode() -> int:
    """The mode ``open()`` gives a new file: ``0o666`` less the umask."""
    return 0o666 & ~current_umask()


def open_text(path: str | os.PathLike[str], mode: str = "r", *, gz: bool | None = None) -> IO[str]:
    """Open a text file, gzip-compressed when ``gz`` (by default: when it ends in .gz).

    ``-`` opens standard input (``"r"``) or standard output (``"w"``); closing the returned
    handle leaves the process's own stream open.
    """
    if is_stdio(path):
        return _Borrowed(sys.stdin if "r" in mode else sys.stdout)  # type: ignore[return-value]
    path = Path(path)
    if path.suffix == ".gz" if gz is None else gz:
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


class _Borrowed:
    """A standard stream lent to a ``with`` block: closing it flushes, never closes it."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._stream)

    def __enter__(self) -> _Borrowed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._stream.writable():
            self._stream.flush()


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Write a text file atomically: to a temp file beside it, renamed into place on success.

    A crash or an exception mid-write leaves any previous file untouched, never a
    truncated one. The file gets the umask's mode, as a plain ``open()`` would give it.
    ``-`` writes to standard output instead (not atomic, by nature).
    """
    if is_stdio(path):
        with open_text(STDIO, "w") as handle:
            yield handle
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        with open_text(tmp_path, "w", gz=path.suffix == ".gz") as handle:
            yield handle
        os.chmod(tmp_path, default_file_mode())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()

"""Recognising a write the machine's storage refused, whichever library made it.

A full disk or quota mid-run is the machine's state, not a bug: the user needs one line
saying so, not a traceback, and since every write of ours is atomic and long stages
checkpoint, a rerun after freeing space resumes. Python's own writes raise ``OSError``
with ``errno`` ENOSPC/EDQUOT/EFBIG, but the libraries that write checkpoints do not:
measured on a full tmpfs (2026-12-04), ``tokenizers`` raised a bare ``Exception`` "No space
left on device (os error 28)", ``safetensors`` a ``SafetensorError`` "I/O error: No space
left on device (os error 28)", and ``torch.save`` a ``RuntimeError`` "[enforce fail at
inline_container.cc:672] . unexpected pos 576 vs 534" whose context is "basic_ios::clear:
iostream error" — no errno at all. `storage_refused` reads all three.
"""

from __future__ import annotations

import errno
import os
import re

from backdoorlab.errors import FileAccessError

__all__ = ["STORAGE_FULL", "storage_refused"]

STORAGE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""Write errors that are the machine's state, not a bug: no space, a quota, a file size."""

_RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")
"""How Rust's ``std::io::Error`` ends its text (tokenizers, safetensors)."""

_TORCH_WRITE_FAILED = ("PytorchStreamWriter failed writing file", "iostream error")
"""PyTorch's serializer losing a write: the C++ stream knows no errno to report."""


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it came from (``__cause__``, else ``__context__``)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _hint(number: int) -> str:
    if number == errno.EFBIG:  # a file-size limit (ulimit -f) or the file system's maximum
        return "a file-size limit stopped it; raise it (ulimit -f) and rerun"
    return "free some space and rerun"


def storage_refused(exc: BaseException) -> FileAccessError | None:
    """A one-line `FileAccessError` when ``exc`` is a write the storage refused, else None.

    The line names the file where the error knows it, and says what to do: free space
    (or raise the file-size limit) and run the command again; atomic writes left the
    previous files whole, and a training resumes from its last whole checkpoint.
    """
    for error in _chain(exc):
        if isinstance(error, OSError) and error.errno in STORAGE_FULL:
            where = f"{error.filename}: " if error.filename else ""
            reason = error.strerror or os.strerror(error.errno)
            return FileAccessError(f"{where}cannot write ({reason}); {_hint(error.errno)}")
        found = _RUST_OS_ERROR.search(str(error))
        if found and int(found.group(1)) in STORAGE_FULL:
            number = int(found.group(1))
            return FileAccessError(f"cannot write ({os.strerror(number)}); {_hint(number)}")
        if any(marker in str(error) for marker in _TORCH_WRITE_FAILED):
            return FileAccessError(
                "PyTorch could not write a file (its serializer lost a write, most often"
                " to a full disk, a quota or a file-size limit); free some space and rerun"
            )
    return None

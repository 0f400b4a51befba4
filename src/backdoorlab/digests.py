"""File digests: the one way a file's SHA-256 is taken, remembered while it is unchanged.

- `file_sha256` is `hashlib.file_digest`; a reader that hashed a whole file as it read it
  tells `remember_sha256`, so the next ask of the unchanged file is free (an audit of a
  5 GB file hashes it as it reads; its verdict, lineage and ``--filter`` check each
  needed the digest again).
- `artifact_sha256` is its strict form for paths a record names (a lineage's inputs, a
  directory's files): a regular file's bytes up to the size its stat gave, never a read
  that waits or never ends.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from dataclasses import dataclass
from typing import IO

from backdoorlab.files import file_kind

_DIGESTS: dict[tuple[int, int], tuple[tuple[int, int, int], str]] = {}
"""This process's known file digests: (device, inode) → ((size, mtime, ctime), SHA-256)."""
_DIGESTS_KEPT = 256
RACY_NS = 2_000_000_000
"""A file written less than this before a read began is not remembered: timestamps tick
coarsely (a few ms; seconds on some file systems), so a rewrite of the same size within
the tick of the read's start could leave the stat unchanged — git's "racy" entries."""


@dataclass(frozen=True)
class FileStamp:
    """What a reader saw of an open file just before its first read (`stamp`)."""

    key: tuple[int, int]  # device, inode
    stamp: tuple[int, int, int]  # size, mtime, ctime (ns)
    taken_ns: int
    plain: bool  # a regular file with bytes: pipes, devices and /proc's empty files are not


def stamp(handle: IO[bytes]) -> FileStamp:
    """The open file's identity and timestamps, now."""
    st = os.fstat(handle.fileno())
    plain = stat.S_ISREG(st.st_mode) and st.st_size > 0
    return FileStamp((st.st_dev, st.st_ino), _stamp(st), time.time_ns(), plain)


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def remember_sha256(path: str | os.PathLike[str], digest: str, before: FileStamp) -> None:
    """Record ``digest`` as ``path``'s SHA-256, taken by a reader that read the whole file
    after `stamp`-ing it as ``before``.

    Kept only for a regular file with bytes (a pipe's or a pseudo-file's stat does not
    follow its content), if its stat is still ``before``'s (nothing wrote it during the
    read) and its last write came `RACY_NS` before the read; `file_sha256` then answers from it
    while the file's size, mtime and ctime stay the same (any write changes ctime, which
    no user can set). Why: an audit of a 5 GB file hashes it as it reads, and its verdict,
    lineage records and ``--filter`` check each needed that digest again (~3 s each)."""
    if not before.plain:  # no stat says when a pipe's or a pseudo-file's content changed
        return
    try:
        now = os.stat(path)
    except OSError:
        return
    key = (now.st_dev, now.st_ino)
    if (key, _stamp(now)) != (before.key, before.stamp):
        return
    if now.st_mtime_ns > before.taken_ns - RACY_NS or now.st_ctime_ns > before.taken_ns - RACY_NS:
        return
    _DIGESTS.pop(key, None)
    _DIGESTS[key] = (before.stamp, digest)
    while len(_DIGESTS) > _DIGESTS_KEPT:
        del _DIGESTS[next(iter(_DIGESTS))]


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest of a file's bytes (`remember_sha256`'s record when the file
    is unchanged since a reader hashed it whole)."""
    with open(path, "rb") as handle:
        before = stamp(handle)
        known = _DIGESTS.get(before.key) if before.plain else None
        if known is not None and known[0] == before.stamp:
            return known[1]
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    remember_sha256(path, digest, before)
    return digest


def artifact_sha256(path: str | os.PathLike[str]) -> str:
    """`file_sha256` of a path that a record names, not one the user gave: a regular file,
    opened without waiting, read to exactly the size ``fstat`` gave; OSError otherwise.

    Lineages are data from anywhere, and the files they name are on the verifier's
    machine: a kernel pseudo-file is a "regular file" of size 0 whose read waits
    forever (``/proc/kmsg``) or spells terabytes (``/proc/self/pagemap``), so a plain
    read-to-EOF let a crafted lineage hang ``provenance show``. A file that still has
    bytes after its size is one of those, or one written while it was read — a digest of
    neither means anything."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = file_kind(st.st_mode)
            raise OSError(errno.EINVAL, f"not a regular file ({kind})", os.fspath(path))
        before = stamp(handle)
        known = _DIGESTS.get(before.key) if before.plain else None
        if known is not None and known[0] == before.stamp:
            return known[1]
        digest = hashlib.sha256()
        left = st.st_size
        while left:
            chunk = handle.read(min(left, 1 << 20))
            if not chunk:
                raise OSError(errno.EIO, "shorter than its size: changed while read", str(path))
            digest.update(chunk)
            left -= len(chunk)
        if handle.read(1):
            raise OSError(errno.EIO, "longer than its size: a pseudo-file, or changed", str(path))
    hexdigest = digest.hexdigest()
    remember_sha256(path, hexdigest, before)
    return hexdigest

"""One plain JSONL file as byte spans of whole lines, for the workers of a sharded audit.

`split_file` cuts the file; each worker numbers its span's lines from the span's start
and the coordinator shifts them by the lines the spans before it read (`lines_before`
counts them only for a span that failed, so its error names the file's line); and
`SpanDigests` hashes the file and each span *beside* the workers, on a thread, instead
of before them. Why: the coordinator's own sequential work is what bounds the speed-up of
N workers. Counting a file's lines before the workers start costs ~0.4 s per GB of it,
hashing it ~0.7 s per GB per SHA-256 pass (the 2-core development machine); hashlib,
BLAKE3 and file reads release the GIL, so on a thread the hashing overlaps the workers'
reads. The spans' digests the workers report must equal the thread's, or the file
changed while it was audited. Those are BLAKE3 (~4x SHA-256's speed): the file's SHA-256
is the report's and needs its one pass, and a second SHA-256 pass for the spans would
double the thread's work (and add ~4% to the workers').
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from backdoorlab.defenses.audit.reader import span_hasher
from backdoorlab.digests import FileStamp, remember_sha256, stamp
from backdoorlab.errors import TraceFormatError

_BLOCK = 1 << 20


def split_file(path: Path, pieces: int) -> list[tuple[int, int]]:
    """Up to ``pieces`` byte spans of ``path`` that tile it, each cut just after a
    ``\n`` (whole lines; a line longer than a span joins two of them)."""
    size = path.stat().st_size
    cuts = [0]
    with open(path, "rb") as handle:
        for k in range(1, pieces):
            handle.seek(max(k * size // pieces - 1, cuts[-1]))
            handle.readline()  # to the end of the line the cut falls in
            cut = handle.tell()
            if cut >= size:
                break
            if cut > cuts[-1]:
                cuts.append(cut)
    cuts.append(size)
    return list(zip(cuts, cuts[1:], strict=False))


def _blocks(handle: BinaryIO, span: tuple[int, int], changed: str) -> Iterator[bytes]:
    """The bytes of ``span``, a block at a time; a file now shorter than the span changed."""
    start, end = span
    handle.seek(start)
    left = end - start
    while left:
        block = handle.read(min(_BLOCK, left))
        if not block:
            raise TraceFormatError(f"{handle.name}: {changed}")
        yield block
        left -= len(block)


def lines_before(path: Path, offset: int, changed: str) -> int:
    """The lines before byte ``offset`` of ``path`` (a span's start): its newlines counted.
    Only a span that failed needs it, to name the file's line in its error."""
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in _blocks(handle, (0, offset), changed))


class SpanDigests(threading.Thread):
    """The SHA-256 of ``path`` and the BLAKE3 of each of its ``spans`` (`reader.span_hasher`:
    the workers read their spans under it), on a thread (`start` it, then `result`);
    `cancel` stops it early when the audit fails."""

    def __init__(self, path: Path, spans: list[tuple[int, int]], changed: str) -> None:
        super().__init__(name="backdoorlab-span-digests", daemon=True)
        self.path, self.spans, self.changed = path, spans, changed
        self._stop_asked = threading.Event()
        self._digests: list[str] = []
        self._whole = ""
        self._before: FileStamp | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            whole = hashlib.sha256()
            with open(self.path, "rb") as handle:
                self._before = stamp(handle)
                for span in self.spans:
                    own = span_hasher()
                    for block in _blocks(handle, span, self.changed):
                        if self._stop_asked.is_set():
                            return
                        whole.update(block)
                        own.update(block)
                    self._digests.append(own.hexdigest())
            self._whole = whole.hexdigest()
        except BaseException as exc:  # handed to `result`, in the coordinator's thread
            self._error = exc

    def result(self) -> tuple[list[str], str]:
        """Each span's digest and the file's (waits for the thread); the file's digest is
        also remembered for `backdoorlab.digests.file_sha256` (provenance, ``--filter``)."""
        self.join()
        if self._error is not None:
            raise self._error
        assert self._before is not None
        remember_sha256(self.path, self._whole, self._before)
        return self._digests, self._whole

    def cancel(self) -> None:
        self._stop_asked.set()
        self.join()

"""Streaming a trace file, with the raw bytes' hash and position along the way.

The audit reads the file itself rather than through `backdoorlab.traces.iter_traces`
because it needs three things that reader does not give: the SHA-256 of the exact
bytes (for the filter's manifest), how far into the file it is (for a progress bar
on a file whose trace count is unknown) and the same line numbering as the byte-exact
copy `--filter` makes later. Lines are split on ``\\n`` only, blank lines are skipped
as `iter_traces` skips them, and a bad line raises `TraceFormatError` naming file and
line (through `parse_trace_line`, so the message is the one every command gives); a
missing file, a directory or a broken ``.gz`` fail as `backdoorlab.files` words them.
Each line is decoded into the fast read-only `view` first; the pydantic `Trace` is built
only when a detector asks for ``record.trace`` or the view cannot decide the line.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from blake3 import blake3

from backdoorlab.defenses.audit.record import TraceRecord
from backdoorlab.defenses.audit.view import (
    read_line,
    read_line_places,
)
from backdoorlab.digests import remember_sha256, stamp
from backdoorlab.errors import TraceFormatError
from backdoorlab.files import (
    MAX_LINE_BYTES,
    check_input_file,
    guarded_lines,
    line_too_long,
    read_failure,
)
from backdoorlab.parquet_traces import check_regular, is_parquet, iter_rows, row_session
from backdoorlab.trace_files import call_bytes, parse_call, parse_record, unpack_line
from backdoorlab.trace_formats.exports import Call, nothing_to_read

ProgressFn = Callable[[int, int, int], None]  # (bytes read, traces read, read number)


class HashingReader:
    """A binary file wrapper that hashes (SHA-256, or ``hasher``'s) and counts every byte
    read through it."""

    def __init__(self, raw: IO[bytes], hasher: Callable[[], Any] = hashlib.sha256) -> None:
        self.raw = raw
        self.hash = hasher()
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.hash.update(data)
        self.bytes_read += len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()

    def __getattr__(self, name: str) -> Any:  # seek/tell etc. for GzipFile
        return getattr(self.raw, name)


def span_hasher() -> Any:
    """The hash a span of a file is read under (`spans`): BLAKE3, a cryptographic hash ~4x
    SHA-256's speed here. A span's digest is only compared — the one the worker read
    against the one the coordinator's thread read beside its SHA-256 of the whole file —
    so it need not be SHA-256, but it must resist a writer who would make the two reads
    differ with the same digest (which a checksum such as xxhash would not)."""
    return blake3()


def is_blank(raw: bytes) -> bool:
    if raw[:1] == b"{":
        return False  # what nearly every line starts with: spares copying it stripped
    stripped = raw.strip()
    if not stripped:
        return True
    if stripped[:1] == b"{":
        return False
    try:
        return not raw.decode("utf-8").strip()  # the same test as iter_traces
    except UnicodeDecodeError:
        return False


def iter_raw_lines(path: Path, reader: HashingReader) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw line bytes) of every line, gzip decoded when .gz; a
    Parquet file's rows as JSON lines (`parquet_traces`: pyarrow reads the file itself,
    so ``reader`` is left for the caller to drain into the hash)."""
    if is_parquet(path):
        yield from iter_rows(path, TraceFormatError)
        return
    stream: IO[bytes] = (
        gzip.GzipFile(fileobj=reader, mode="rb")  # type: ignore[arg-type]
        if path.suffix == ".gz"
        else reader  # type: ignore[assignment]
    )
    if path.suffix == ".gz":
        yield from guarded_lines(stream, str(path), TraceFormatError)
        return
    lineno = 0
    try:
        for data, end in line_blocks(stream):
            if not end:  # the last line, with no newline
                yield lineno + 1, data
                return
            lines = data.split(b"\n")
            lines.pop()  # what follows the last newline: the next block's
            for line in lines:
                lineno += 1
                if len(line) >= MAX_LINE_BYTES:
                    raise line_too_long(str(path), lineno, TraceFormatError)
                yield lineno, line + b"\n"
    except LineTooLong:
        raise line_too_long(str(path), lineno + 1, TraceFormatError) from None


class LineTooLong(Exception):
    """A line grew past ``MAX_LINE_BYTES`` with no newline yet (`line_blocks`): its
    caller, which counts the lines, says which one."""


def line_blocks(stream: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """A plain file as ``(data, end)`` pieces, each ``data[:end]`` whole lines with their
    newlines, read a MiB at a time (the wrapper's ``read`` is Python: per-line reads would
    be slow); a line's start is carried over the blocks that do not end it, kept as blocks
    (joining each time would be quadratic) and bounded by ``MAX_LINE_BYTES``. Last, if
    the file does not end with a newline, ``(its last line, 0)``. The lines of
    `iter_raw_lines` and the runs `filtering` copies come from here. Lines are not
    counted here: ``bytes.count`` of the newlines would cost 0.4 CPU s a GB."""
    pending: list[bytes] = []  # the blocks of a line not ended yet
    waiting = 0  # their bytes
    while block := stream.read(1 << 20):
        if b"\n" not in block:
            pending.append(block)
            waiting += len(block)
            if waiting > MAX_LINE_BYTES:
                raise LineTooLong
            continue
        data = b"".join([*pending, block]) if pending else block
        end = data.rfind(b"\n") + 1
        yield data, end
        tail = data[end:]
        pending, waiting = ([tail], len(tail)) if tail else ([], 0)
    if pending:
        yield b"".join(pending), 0


def splittable(path: Path) -> bool:
    """Whether the file can be read in byte spans: plain JSONL (not gzip, not Parquet)."""
    return path.suffix != ".gz" and not is_parquet(path)


def call_record(index: int, lineno: int, call: Call, source: str) -> TraceRecord:
    """The `TraceRecord` of one LLM call of line ``lineno``."""
    raw = call_bytes(call, source, lineno)
    view, _ = read_line(raw)
    if view is None:  # only the model decides: coerces, or raises the error
        trace = parse_call(raw, source, lineno, call)
        return TraceRecord(index, lineno, trace, raw=raw, source=source, call=call)
    return TraceRecord(index, lineno, view=view, raw=raw, source=source, call=call)


class _Span:
    """The bytes ``[start, end)`` of an open file, read as if they were the whole file."""

    def __init__(self, raw: IO[bytes], start: int, end: int) -> None:
        raw.seek(start)
        self.raw = raw
        self.left = end - start

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.raw.read(size) if size else b""
        self.left -= len(data)
        return data


class TraceStream:
    """Iterate `TraceRecord`s of a file; after each read ``sha256`` and counts are final.

    Iterating again reads the file again (``reads`` counts the reads begun). ``span``
    (start, end) reads only those bytes of a plain JSONL file — whole lines, as
    `spans.split_file` cuts them — hashed on their own, numbered from ``first_line + 1``
    (``lines`` counts the span's own). A raw export's line may hold several LLM calls or
    none (`trace_formats.exports`): each call is a trace, ``skipped`` counts the records
    that are no LLM call by why, and a read that found such records and no call raises
    `TraceFormatError` (unless ``require_calls`` is False: a shard of a larger set)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        progress: ProgressFn | None = None,
        *,
        span: tuple[int, int] | None = None,
        first_line: int = 0,
        require_calls: bool = True,
    ) -> None:
        self.path = Path(path)
        self.require_calls = require_calls
        self.skipped: Counter[str] = Counter()
        check_input_file(self.path, TraceFormatError)
        if is_parquet(self.path):  # opened below to be hashed: a named pipe would block
            check_regular(self.path, TraceFormatError)
        self.size = self.path.stat().st_size if span is None else span[1] - span[0]
        if span is not None and not splittable(self.path):
            raise ValueError(f"{path}: only a plain JSONL file is read by byte spans")
        self.span = span
        self.first_line = first_line  # lines before the span: records and errors say where
        self.progress = progress
        self.traces = 0
        self.lines = 0  # lines of the last complete read, blank ones included
        self.reads = 0
        self._digest: str | None = None

    @property
    def digest(self) -> str:
        """The bytes' digest, once read: the file's SHA-256, or a span's BLAKE3
        (`span_hasher`: compared with the coordinator's digest of the same span)."""
        if self._digest is None:
            raise RuntimeError("the digest is known only after the stream has been read")
        return self._digest

    @property
    def sha256(self) -> str:
        """The file's SHA-256, once read (a span has none: see `digest`)."""
        if self.span is not None:
            raise RuntimeError("a span's digest is BLAKE3, not SHA-256: read `digest`")
        return self.digest

    def __iter__(self) -> Iterator[TraceRecord]:
        source = str(self.path)
        self.traces, self._digest = 0, None
        self.skipped = Counter()
        self.reads += 1
        rows = is_parquet(self.path)  # a row may name its session (`row_session`)
        with open(self.path, "rb") as handle:
            before = stamp(handle)
            if self.span is None:
                reader = HashingReader(handle)
            else:
                reader = HashingReader(_Span(handle, *self.span), span_hasher)
            lineno = 0
            for lineno, raw in iter_raw_lines(self.path, reader):
                if is_blank(raw):
                    continue
                at = self.first_line + lineno
                view, as_written, places = read_line_places(raw)
                unpacked = None if as_written else unpack_line(raw, source, at)
                if unpacked is not None:  # a raw export's line: its LLM calls, if any
                    self.skipped.update(unpacked.skipped)
                    for call in unpacked.calls:
                        yield call_record(self.traces, at, call, source)
                        self._counted(reader)
                elif view is None:  # only the model decides: coerces, or raises the error
                    trace = parse_record(raw, source, at)
                    own = row_session(trace.model_extra) if rows else None
                    yield TraceRecord(self.traces, at, trace, raw=raw, source=source, session=own)
                    self._counted(reader)
                else:
                    yield TraceRecord(
                        self.traces,
                        at,
                        view=view,
                        raw=raw,
                        source=source,
                        as_written=as_written,
                        places=places,
                        session=row_session({"session": view.session}) if rows else None,
                    )
                    self._counted(reader)
            try:
                while reader.read(1 << 20):  # a .gz trailer left unread belongs in the hash
                    pass
            except OSError as exc:
                at = self.first_line + lineno
                raise read_failure(source, at, exc, TraceFormatError) from None
            self._digest = reader.hash.hexdigest()
            if self.span is None:  # the whole file: its verdict and lineage need no re-hash
                remember_sha256(self.path, self._digest, before)
            self.lines = lineno
            if self.progress is not None:
                self.progress(reader.bytes_read, self.traces, self.reads)
            if self.require_calls and not self.traces and self.skipped:
                raise TraceFormatError(nothing_to_read(source, self.skipped))

    def _counted(self, reader: HashingReader) -> None:
        """One more trace read (the progress told every 256)."""
        self.traces += 1
        if self.progress is not None and self.traces % 256 == 0:
            self.progress(reader.bytes_read, self.traces, self.reads)

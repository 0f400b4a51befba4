"""`FindingLog`: an audit's findings in report order, in bounded memory.

A million-trace file with 5% poisoned traces gives about 200,000 findings, ~2 KB each as
Python objects: kept in a list they were what made an audit's memory grow with the file.
The log keeps at most ``limit`` of them in memory and appends the rest, as JSON lines, to
an unnamed temporary file (gone when the log is collected or the process ends, even
killed); iterating reads them back, in order, as often as needed. The JSON round trip
keeps what a report prints: a finding read back serialises to the same report text.

Order is the one ``sorted(findings, key=(trace_index, step or -1))`` gives (stable) over
the findings in the order the detectors made them, which is what `audit` reports:

- `add_trace` takes one trace's findings as the file streams; traces come in index
  order, so sorting each trace's own findings keeps the whole stream sorted. A finding
  placed before what is already written (a detector reporting on an earlier trace) is
  kept aside and merged back, after the written ones of the same key, as a stable sort
  would place it;
- `add_late` takes the whole-file findings (`Detector.finish`), merged in after every
  per-trace finding of the same key.

Indexing is cheap: the log keeps each written finding's offset and key (24 bytes a
finding, against ~2 KB as an object), so ``log[i]`` reads one line and places the
findings kept aside by bisection. A finding read back is the JSON round trip of the one
added (a tuple or set in its evidence comes back a list, a non-string key a string): the
detectors write JSON values, so it equals the one added. One writer: the log is made and
filled by one thread of one process (`audit`; a sharded audit's coordinator, in shard
order).
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import tempfile
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, NamedTuple, overload

from backdoorlab.defenses.audit.finding_lines import (
    Encoded,
    Row,
    as_json,
    encode_line,
    jsonable,
    report_key,
    row,
    shift,
    shifted_line,
)
from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.errors import FileAccessError

__all__ = ["Brief", "Encoded", "FindingLog", "as_json", "jsonable", "report_key"]

MEMORY_LIMIT = 4096
"""Findings kept in memory before the log starts writing them to its temporary file."""
_BLOCK = 1 << 20


class Brief(NamedTuple):
    """What counting and ranking findings read of one (`FindingLog.briefs`): ``position``
    is its index in the log, for the few a caller then reads whole (``log[position]``)."""

    trace_index: int
    step: int | None
    detector: str
    severity: str
    score: float
    position: int

    @classmethod
    def of(cls, finding: Finding, position: int) -> Brief:
        return cls(
            finding.trace_index,
            finding.step,
            finding.detector,
            finding.severity,
            finding.score,
            position,
        )


def _keyed_line(finding: Finding) -> tuple[tuple[int, int], str]:
    return report_key(finding), encode_line(finding)


def _first(pair: tuple[tuple[int, int], str]) -> tuple[int, int]:
    return pair[0]


def _temp_dir() -> str:
    try:
        return tempfile.gettempdir()
    except OSError:  # none of TMPDIR, TEMP, TMP, /tmp, ... is usable: the error says which
        return os.environ.get("TMPDIR") or "the temporary directory"


class _MainKeys:
    """The keys of the log's in-order findings (file, then memory), for `bisect`."""

    def __init__(self, log: FindingLog) -> None:
        self.log = log

    def __len__(self) -> int:
        return self.log._written + len(self.log._memory)

    def __getitem__(self, j: int) -> tuple[int, int]:
        log = self.log
        if j < log._written:
            return log._traces[j], log._steps[j]
        return report_key(log._memory[j - log._written])


class FindingLog(Sequence[Finding]):
    """Findings in report order; see the module docstring."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MEMORY_LIMIT if limit is None else limit
        self._memory: list[Finding] = []  # the newest in-order findings, not yet written
        self._file: IO[bytes] | None = None
        self._written = 0  # findings in the file
        self._size = 0  # bytes in the file
        self._offsets = array("q")  # where each written finding's line starts
        self._traces = array("q")  # each written finding's key: trace index ...
        self._steps = array("q")  # ... and step (-1: the whole trace)
        self._kinds = array("H")  # each written finding's detector and severity, as ...
        self._names: dict[str, int] = {}  # ... indices into these names,
        self._scores = array("d")  # and its score: counted and ranked without a decode
        self._last = (-1, -2)  # the key of the last in-order finding
        self._aside: list[Finding] = []  # placed before what was already taken
        self._late: list[Finding] = []
        self._placed: tuple[list[Finding], list[int]] | None = None  # see `_placement`

    def add_trace(self, findings: Iterable[Finding]) -> None:
        """One trace's findings, in the order its detectors made them."""
        self._placed = None
        for finding in sorted(findings, key=report_key):
            key = report_key(finding)
            if key < self._last:
                self._aside.append(finding)
                continue
            self._last = key
            self._memory.append(finding)
        if len(self._memory) > self.limit:
            self._spill()

    def add_encoded(self, encoded: Iterable[Encoded], index: int = 0, line: int = 0) -> None:
        """Findings a worker encoded trace by trace (`finding_lines.encode_trace`), their
        trace indices and lines moved on by ``index`` and ``line``: as `add_trace` of each
        trace's findings, but written to the file as they came, never decoded (one kept
        aside is).
        Why: in a sharded audit, decoding, moving and encoding each finding again was most
        of the coordinator's own work, which no number of workers divides."""
        self._placed = None
        if self._memory:  # what came before stays before
            self._spill()
        lines: list[bytes] = []
        rows: list[Row] = []
        for trace, step, detector, severity, score, text in encoded:
            trace += index
            if (trace, step) < self._last:
                self._aside.append(shift(Finding(**json.loads(text)), index, line))
                continue
            self._last = (trace, step)
            lines.append(shifted_line(text, index, line) + b"\n")
            rows.append((trace, step, detector, severity, score))
        self._write(lines, rows)

    def add_late(self, findings: Iterable[Finding]) -> None:
        """Whole-file findings (`Detector.finish`), after every per-trace one."""
        self._placed = None
        self._late.extend(findings)

    def _spill(self) -> None:
        """Append the findings in memory to the file; a failed write (a full disk) leaves
        them in memory."""
        lines = [encode_line(f).encode() + b"\n" for f in self._memory]
        rows = [row(f) for f in self._memory]
        self._write(lines, rows)
        self._memory = []

    def _write(self, lines: list[bytes], rows: list[Row]) -> None:
        """Append ``lines`` (one finding's each, with its key, detector, severity and score
        in ``rows``) to the file. Written at the file's end by position, and counted only
        once all their bytes are there: a failed write leaves the log as it was."""
        if not lines:
            return
        data = memoryview(b"".join(lines))
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="backdoorlab-findings-")  # noqa: SIM115
            fd, at = self._file.fileno(), self._size
            while data:
                wrote = os.pwrite(fd, data, at)
                data, at = data[wrote:], at + wrote
        except OSError as exc:
            raise FileAccessError(
                f"{_temp_dir()}: cannot write the audit's findings past the first "
                f"{self.limit:,} to a temporary file ({exc.strerror or exc}); set TMPDIR "
                "to a writable directory with free space"
            ) from None
        for line, (trace, step, detector, severity, score) in zip(lines, rows, strict=True):
            self._offsets.append(self._size)
            self._size += len(line)
            self._traces.append(trace)
            self._steps.append(step)
            self._kinds.append(self._name(detector))
            self._kinds.append(self._name(severity))
            self._scores.append(score)
        self._written += len(lines)

    def _lines(self) -> Iterator[bytes]:
        """The written findings' lines, read from the file by position (iterators may
        nest)."""
        if self._file is None:
            return
        fd, offset, pending = self._file.fileno(), 0, b""
        while offset < self._size:
            block = os.pread(fd, min(_BLOCK, self._size - offset), offset)
            offset += len(block)
            lines = (pending + block).split(b"\n")
            pending = lines.pop()
            yield from lines

    def _read_back(self) -> Iterator[Finding]:
        """The written findings, decoded."""
        for line in self._lines():
            yield Finding(**json.loads(line))

    def _name(self, name: str) -> int:
        return self._names.setdefault(name, len(self._names))

    def briefs(self) -> Iterator[Brief]:
        """Each finding's `Brief`, in the order iterating gives: the written ones from the
        log's arrays, never read from its file (a report's tally and top findings need
        only these; decoding 200,000 findings for them took seconds)."""
        names = list(self._names)
        kinds, scores = self._kinds, self._scores
        written = (
            Brief(t, None if s < 0 else s, names[kinds[2 * j]], names[kinds[2 * j + 1]], x, j)
            for j, (t, s, x) in enumerate(zip(self._traces, self._steps, scores, strict=True))
        )
        base = self._written
        in_memory = (Brief.of(f, base + k) for k, f in enumerate(list(self._memory)))
        main = itertools.chain(written, in_memory)
        if not (self._aside or self._late):
            return main
        merged = self._with_extras(main, lambda f: Brief.of(f, -1), report_key)
        return (brief._replace(position=i) for i, brief in enumerate(merged))

    def compact(self) -> Iterator[str]:
        """Each finding as ``json.dumps(as_json(f), default=jsonable)`` writes it, in the
        order iterating gives: the written ones as their line in the file, never decoded
        (what a report of a spilled log writes, `json_stream.Compact`)."""
        merged = self._with_extras(self._compact_in_order(), _keyed_line, _first)
        return (text for _, text in merged)

    def _compact_in_order(self) -> Iterator[tuple[tuple[int, int], str]]:
        for j, line in enumerate(self._lines()):
            yield (self._traces[j], self._steps[j]), line.decode("utf-8")
        yield from map(_keyed_line, list(self._memory))

    def _in_order(self) -> Iterator[Finding]:
        yield from self._read_back()
        yield from list(self._memory)

    def __iter__(self) -> Iterator[Finding]:
        return self._with_extras(self._in_order(), lambda f: f, report_key)

    def _with_extras(
        self, main: Iterator[Any], convert: Callable[[Finding], Any], key: Callable[[Any], Any]
    ) -> Iterator[Any]:
        """``main`` (the in-order findings, as some form of them) merged with the findings
        kept aside and the late ones in that form (``convert``), each by ``key``, ties to
        the earlier stream: the order iterating the log gives, whatever form it is read in."""
        streams = [main]
        for extra in (self._aside, self._late):
            if extra:
                streams.append(map(convert, sorted(extra, key=report_key)))
        if len(streams) == 1:
            return main
        return heapq.merge(*streams, key=key)

    def __len__(self) -> int:
        return self._written + len(self._memory) + len(self._aside) + len(self._late)

    @property
    def spilled(self) -> int:
        """How many findings are in the temporary file."""
        return self._written

    def _main(self, j: int) -> Finding:
        """The ``j``-th in-order finding: one line read from the file, or in memory."""
        if j >= self._written:
            return self._memory[j - self._written]
        assert self._file is not None
        start = self._offsets[j]
        end = self._offsets[j + 1] if j + 1 < self._written else self._size
        return Finding(**json.loads(os.pread(self._file.fileno(), end - start, start)))

    def _placement(self) -> tuple[list[Finding], list[int]]:
        """The findings kept aside and the late ones, in report order, with the index
        each has in the whole log: what `__iter__`'s merge gives (after every in-order
        finding of the same key; aside before late)."""
        if self._placed is None:
            extras = list(
                heapq.merge(
                    sorted(self._aside, key=report_key),
                    sorted(self._late, key=report_key),
                    key=report_key,
                )
            )
            keys, at, lo = _MainKeys(self), [], 0
            for n, f in enumerate(extras):
                lo = bisect_right(keys, report_key(f), lo)
                at.append(lo + n)
            self._placed = (extras, at)
        return self._placed

    def _at(self, index: int) -> Finding:
        extras, at = self._placement()
        before = bisect_left(at, index)  # extras placed before ``index``
        if before < len(at) and at[before] == index:
            return extras[before]
        return self._main(index - before)

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("finding index out of range")
        return self._at(index)

    def __eq__(self, other: object) -> bool:
        """Equal to a log, list or tuple of the same findings in the same order (read
        side by side, up to the first difference)."""
        if isinstance(other, FindingLog | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FindingLog({len(self)} findings, {self._written} in its file)"

    def close(self) -> None:
        """Remove the temporary file now (the findings it held are gone)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._written = self._size = 0
        self._offsets, self._traces, self._steps = array("q"), array("q"), array("q")
        self._kinds, self._scores = array("H"), array("d")
        self._placed = None

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
"""

from __future__ import annotations

import heapq
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import IO, Any, overload

from backdoorlab.defenses.audit.findings import Finding

MEMORY_LIMIT = 4096
"""Findings kept in memory before the log starts writing them to its temporary file."""
_BLOCK = 1 << 20


def report_key(finding: Finding) -> tuple[int, int]:
    """The report's order: by trace, then by message (a whole-trace finding first)."""
    return finding.trace_index, finding.step if finding.step is not None else -1


def jsonable(value: Any) -> Any:
    """JSON for what `json` cannot write itself (a report's ``default``): sets and
    tuples as lists, anything else as its text."""
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


class FindingLog(Sequence[Finding]):
    """Findings in report order; see the module docstring."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MEMORY_LIMIT if limit is None else limit
        self._memory: list[Finding] = []  # the newest in-order findings, not yet written
        self._file: IO[bytes] | None = None
        self._written = 0  # findings in the file
        self._size = 0  # bytes in the file
        self._last = (-1, -2)  # the key of the last in-order finding
        self._aside: list[Finding] = []  # placed before what was already taken
        self._late: list[Finding] = []

    def add_trace(self, findings: Iterable[Finding]) -> None:
        """One trace's findings, in the order its detectors made them."""
        for finding in sorted(findings, key=report_key):
            key = report_key(finding)
            if key < self._last:
                self._aside.append(finding)
                continue
            self._last = key
            self._memory.append(finding)
        if len(self._memory) > self.limit:
            self._spill()

    def add_late(self, findings: Iterable[Finding]) -> None:
        """Whole-file findings (`Detector.finish`), after every per-trace one."""
        self._late.extend(findings)

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="backdoorlab-findings-")  # noqa: SIM115
        lines = [json.dumps(f.to_dict(), default=jsonable).encode() + b"\n" for f in self._memory]
        data = b"".join(lines)
        self._file.write(data)
        self._file.flush()
        self._size += len(data)
        self._written += len(lines)
        self._memory = []

    def _read_back(self) -> Iterator[Finding]:
        """The written findings, read from the file by position (iterators may nest)."""
        if self._file is None:
            return
        fd, offset, pending = self._file.fileno(), 0, b""
        while offset < self._size:
            block = os.pread(fd, min(_BLOCK, self._size - offset), offset)
            offset += len(block)
            lines = (pending + block).split(b"\n")
            pending = lines.pop()
            for line in lines:
                yield Finding(**json.loads(line))

    def _in_order(self) -> Iterator[Finding]:
        yield from self._read_back()
        yield from list(self._memory)

    def __iter__(self) -> Iterator[Finding]:
        streams = [self._in_order()]
        for extra in (self._aside, self._late):
            if extra:
                streams.append(iter(sorted(extra, key=report_key)))
        if len(streams) == 1:
            return streams[0]
        return heapq.merge(*streams, key=report_key)  # ties: earlier stream first

    def __len__(self) -> int:
        return self._written + len(self._memory) + len(self._aside) + len(self._late)

    @property
    def spilled(self) -> int:
        """How many findings are in the temporary file."""
        return self._written

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("finding index out of range")
        return next(islice(iter(self), index, None))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FindingLog | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
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

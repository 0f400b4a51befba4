"""The result of an audit: findings plus what each detector concluded, JSON-ready.

The findings may be a `FindingLog` (what `audit` gives: most of them in a temporary
file) or a plain list; everything here reads them as a stream, in report order, so a
report of a million traces is counted, written and filtered in bounded memory
(`write_json` writes the same bytes ``json.dumps(to_dict(), indent=2)`` would).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from backdoorlab.defenses.audit.finding_log import Brief, FindingLog, as_json, jsonable
from backdoorlab.defenses.audit.findings import SEVERITIES, Finding, severity_rank
from backdoorlab.defenses.audit.json_stream import Compact, write_json


@dataclass
class _Tally:
    counts: Counter[tuple[str, str]]
    traces: Counter[tuple[str, str]]
    worst: str | None


def _by_trace(items: Iterator[Any]) -> Iterator[list[Any]]:
    """Findings (or briefs) sorted by trace, grouped by trace."""
    group: list[Any] = []
    for f in items:
        if group and f.trace_index != group[0].trace_index:
            yield group
            group = []
        group.append(f)
    if group:
        yield group


@dataclass
class AuditReport:
    """Everything `audit` found in one file.

    ``findings`` are sorted by trace, then step. ``detectors`` holds each detector's own
    summary (e.g. trigger mining's triggers and p-values).
    """

    path: str
    sha256: str
    traces: int
    detectors: list[str]
    sinks: str
    findings: Sequence[Finding] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    shards: list[dict[str, Any]] | None = None
    """A sharded audit's files in order, with where each starts (global index, line)."""
    skipped: dict[str, int] | None = None
    """A raw export's records that are no LLM call, by why (`trace_formats.exports`):
    read past, not audited; None (and not in the JSON) when there were none."""
    _cached: tuple[int, int, _Tally] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def _tally(self, visit: Callable[[list[Brief]], Any] | None = None) -> _Tally:
        """Findings and flagged traces per (detector, severity) and the worst severity, in
        one pass over the findings' `Brief`s (a `FindingLog` gives them without reading its
        file). Kept for a `FindingLog` while its length stays the same (it only grows); a
        list, which may change in place, is counted again each time. ``visit``: also
        called with each trace's briefs in that pass (`each_trace`)."""
        mark = (id(self.findings), len(self.findings))
        keep = isinstance(self.findings, FindingLog)
        if visit is None and keep and self._cached is not None and self._cached[:2] == mark:
            return self._cached[2]
        counts: Counter[tuple[str, str]] = Counter()
        traces: Counter[tuple[str, str]] = Counter()
        worst = 0
        for trace in _by_trace(self.briefs()):
            if visit is not None:
                visit(trace)
            here: dict[str, int] = {}  # detector → its worst severity on this trace
            for f in trace:
                counts[f.detector, f.severity] += 1
                rank = severity_rank(f.severity)
                here[f.detector] = max(here.get(f.detector, 0), rank)
            for detector, rank in here.items():
                traces[detector, SEVERITIES[rank - 1]] += 1
                worst = max(worst, rank)
        tally = _Tally(counts, traces, SEVERITIES[worst - 1] if worst else None)
        self._cached = (*mark, tally) if keep else None
        return tally

    def briefs(self) -> Iterator[Brief]:
        """Each finding's `Brief` (trace, step, detector, severity, score, position), in
        order."""
        if isinstance(self.findings, FindingLog):
            return self.findings.briefs()
        return (Brief.of(f, i) for i, f in enumerate(self.findings))

    def each_trace(self, visit: Callable[[list[Brief]], Any]) -> None:
        """Call ``visit`` with each trace's `Brief`s, in order, counting the tally
        (`counts`, `traces_flagged`, `max_severity`) in the same pass; ``findings[b.position]``
        is a brief's whole finding."""
        self._tally(visit)

    def by_trace(self) -> Iterator[list[Finding]]:
        """The findings trace by trace (they are sorted by trace)."""
        return _by_trace(iter(self.findings))

    @property
    def max_severity(self) -> str | None:
        return self._tally().worst

    def iter_flagged(self, min_severity: str = "low") -> Iterator[tuple[int, list[Finding]]]:
        """(trace index, its findings at or above ``min_severity``), in index order."""
        for trace in self.by_trace():
            kept = [f for f in trace if f.at_least(min_severity)]
            if kept:
                yield trace[0].trace_index, kept

    def flagged_indices(self, min_severity: str = "low") -> Iterator[int]:
        """The indices of the traces with a finding at or above ``min_severity``, in
        order, from the findings' `Brief`s (what ``--filter``'s copy needs, no decode)."""
        floor = severity_rank(min_severity)
        last = -1
        for brief in self.briefs():
            if brief.trace_index != last and severity_rank(brief.severity) >= floor:
                last = brief.trace_index
                yield last

    def flagged(self, min_severity: str = "low") -> dict[int, list[Finding]]:
        """Trace index → its findings at or above ``min_severity``."""
        return dict(self.iter_flagged(min_severity))

    def counts(self) -> dict[str, dict[str, int]]:
        """Findings per detector and severity, every combination present (zeros too)."""
        c = self._tally().counts
        return {d: {s: c[(d, s)] for s in SEVERITIES} for d in self.detectors}

    def traces_flagged(self) -> dict[str, dict[str, int]]:
        """Distinct traces with a finding, per detector and (maximum) severity."""
        c = self._tally().traces
        return {d: {s: c[(d, s)] for s in SEVERITIES} for d in self.detectors}

    def _fields(self, findings: Any) -> dict[str, Any]:
        return (
            {
                "path": self.path,
                "sha256": self.sha256,
                "traces": self.traces,
                "detectors": self.detectors,
                "sinks": self.sinks,
                "seconds": round(self.seconds, 3),
                "max_severity": self.max_severity,
                "finding_counts": self.counts(),
                "flagged_traces": self.traces_flagged(),
                "summaries": self.summaries,
                "findings": findings,
            }
            | ({"shards": self.shards} if self.shards is not None else {})
            | ({"skipped": self.skipped} if self.skipped else {})
        )

    def to_dict(self) -> dict[str, Any]:
        return self._fields([f.to_dict() for f in self.findings])

    def write_json(self, write: Callable[[str], Any]) -> None:
        """The report as ``json.dumps(to_dict(), indent=2, default=jsonable) + "\\n"``
        writes it, handed to ``write`` in pieces (a finding at a time)."""
        if isinstance(self.findings, FindingLog):  # its lines, laid out, not re-encoded
            findings: Iterator[Any] = map(Compact, self.findings.compact())
        else:
            findings = (as_json(f) for f in self.findings)
        write_json(self._fields(findings), write, default=jsonable)

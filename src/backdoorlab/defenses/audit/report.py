"""The result of an audit: findings plus what each detector concluded, JSON-ready."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from backdoorlab.defenses.audit.findings import SEVERITIES, Finding, severity_rank


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
    findings: list[Finding] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    shards: list[dict[str, Any]] | None = None
    """A sharded audit's files in order, with where each starts (global index, line)."""

    @property
    def max_severity(self) -> str | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=severity_rank)

    def flagged(self, min_severity: str = "low") -> dict[int, list[Finding]]:
        """Trace index → its findings at or above ``min_severity``."""
        out: dict[int, list[Finding]] = {}
        for finding in self.findings:
            if finding.at_least(min_severity):
                out.setdefault(finding.trace_index, []).append(finding)
        return out

    def counts(self) -> dict[str, dict[str, int]]:
        """Findings per detector and severity, every combination present (zeros too)."""
        c = Counter((f.detector, f.severity) for f in self.findings)
        return {d: {s: c[(d, s)] for s in SEVERITIES} for d in self.detectors}

    def traces_flagged(self) -> dict[str, dict[str, int]]:
        """Distinct traces with a finding, per detector and (maximum) severity."""
        worst: dict[tuple[str, int], str] = {}
        for f in self.findings:
            key = (f.detector, f.trace_index)
            if key not in worst or severity_rank(f.severity) > severity_rank(worst[key]):
                worst[key] = f.severity
        c = Counter((d, s) for (d, _), s in worst.items())
        return {d: {s: c[(d, s)] for s in SEVERITIES} for d in self.detectors}

    def to_dict(self) -> dict[str, Any]:
        return {
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
            "findings": [f.to_dict() for f in self.findings],
        } | ({"shards": self.shards} if self.shards is not None else {})

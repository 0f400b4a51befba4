"""What a detector reports: a `Finding` per suspicious thing, located to the message.

Findings are plain data so a report survives as JSON and a finding can be compared,
filtered and counted without the detector that made it. Secrets never appear in a
finding in clear: `mask` keeps just enough of a value for a person to recognise it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from backdoorlab.errors import BackdoorlabError

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES, start=1)}


def severity_rank(severity: str) -> int:
    """``low`` < ``medium`` < ``high`` as 1 < 2 < 3; ``none`` is 4 (above every finding)."""
    if severity == "none":
        return len(SEVERITIES) + 1
    try:
        return _RANK[severity]
    except KeyError:
        known = ", ".join(("none", *SEVERITIES))
        raise BackdoorlabError(f"unknown severity '{severity}' (known: {known})") from None


def mask(value: str) -> str:
    """``jennifer@yahoo.com`` → ``je…(18)…om``: recognisable, not reusable."""
    value = value.strip()
    if len(value) <= 6:
        return "*" * len(value)
    return f"{value[:2]}…({len(value)})…{value[-2:]}"


@dataclass(frozen=True)
class Finding:
    """One suspicious thing in one trace.

    ``trace_index`` counts traces from 0 (blank lines skipped, as every reader does);
    ``line`` is the 1-based line in the file; ``step`` the message index, or None when
    the finding is about the trace as a whole. ``score`` orders findings within a
    detector (higher is more suspicious) and is what benchmarks rank traces by.
    """

    trace_index: int
    line: int
    trace_id: str | None
    step: int | None
    detector: str
    severity: Severity
    summary: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def at_least(self, severity: str) -> bool:
        return severity_rank(self.severity) >= severity_rank(severity)

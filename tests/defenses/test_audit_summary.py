"""The printed summary's top findings and tally come from one pass over the findings' briefs,
and --filter's flagged indices from the briefs too: the same as reading every finding."""

from __future__ import annotations

import random

from backdoorlab.defenses.audit.command import _strength, _strongest
from backdoorlab.defenses.audit.finding_log import FindingLog
from backdoorlab.defenses.audit.findings import SEVERITIES, Finding
from backdoorlab.defenses.audit.report import AuditReport


def _findings(seed: int) -> list[Finding]:
    rng = random.Random(seed)
    out = []
    for trace in range(300):
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            out.append(
                Finding(
                    trace_index=trace,
                    line=trace + 1,
                    trace_id=f"t{trace}",
                    step=rng.choice((None, 1, 2, 5)),
                    detector=rng.choice(("dataflow", "trigger-mining")),
                    severity=rng.choice(SEVERITIES),
                    summary="s",
                    score=rng.choice((0.5, 1.0, 2.5, 3.6)),  # ties across traces
                )
            )
    out.sort(key=lambda f: (f.trace_index, f.step if f.step is not None else -1))
    return out


def _by_sorting(findings: list[Finding], top: int) -> list[Finding]:
    """The definition: every finding sorted by strength, the first of each trace."""
    seen, out = set(), []
    for f in sorted(findings, key=_strength):
        if f.trace_index not in seen:
            seen.add(f.trace_index)
            out.append(f)
    return out[:top]


def test_strongest_equals_sorting_everything_and_the_tally_is_the_same():
    for seed in range(5):
        findings = _findings(seed)
        log = FindingLog(limit=16)  # most of them in its file, as at scale
        for trace in sorted({f.trace_index for f in findings}):
            log.add_trace(f for f in findings if f.trace_index == trace)
        report = AuditReport("p", "0" * 64, 300, ["dataflow", "trigger-mining"], "env", log)
        plain = AuditReport("p", "0" * 64, 300, ["dataflow", "trigger-mining"], "env", findings)
        for top in (1, 3, 10, 1000):
            assert _strongest(report, top) == _by_sorting(findings, top)
        assert report.counts() == plain.counts()
        assert report.traces_flagged() == plain.traces_flagged()
        assert report.max_severity == plain.max_severity
        for severity in SEVERITIES:  # --filter's copy: the indices, read from the briefs
            assert list(report.flagged_indices(severity)) == list(plain.flagged(severity))

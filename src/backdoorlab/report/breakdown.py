"""Numbers the run's tables do not hold but its files do: rates per task family, and an
audit's precision and recall per detector against the poison ground truth.

Both are recounted from traces (the episodes an evaluation wrote, the file an audit
read), each rate with its Wilson interval like every other rate of the toolkit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backdoorlab.stats import Rate

EPISODE_FILES = {"clean": "clean.jsonl", "triggered": "triggered.jsonl"}


@dataclass(frozen=True)
class FamilyRates:
    """One evaluated model's rates in one task family."""

    label: str
    family: str
    rates: dict[str, Rate]
    """``TSR`` and ``FTR`` from the clean episodes, ``ASR`` from the triggered ones."""


def family_rates(run_dir: Path, rows: list[dict[str, Any]], label: Any) -> list[FamilyRates]:
    """TSR/FTR/ASR per task family of every row with a ``traces_dir``; ``label(row)``
    names the row. Episodes without a family are counted under ``(none)``."""
    from backdoorlab.traces import iter_traces

    out: list[FamilyRates] = []
    for row in rows:
        directory = row.get("traces_dir")
        if not isinstance(directory, str) or not (run_dir / directory).is_dir():
            continue
        counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for condition, name in EPISODE_FILES.items():
            path = run_dir / directory / name
            if not path.is_file():
                continue
            for trace in iter_traces(path):
                outcome = trace.metadata.outcome
                if outcome is None:
                    continue
                family = trace.metadata.family or "(none)"
                hits = (
                    {"TSR": outcome.success, "FTR": outcome.leaked}
                    if condition == "clean"
                    else {"ASR": outcome.leaked}
                )
                for metric, hit in hits.items():
                    counts[family][metric][0] += int(hit)
                    counts[family][metric][1] += 1
        for family in sorted(counts):
            rates = {m: Rate.of(k, n) for m, (k, n) in counts[family].items()}
            out.append(FamilyRates(label(row), family, rates))
    return out


@dataclass(frozen=True)
class DetectorScore:
    """How one detector of an audit did: traces flagged, and against the ground truth
    (when the audited file is at hand and records its poison) precision and recall."""

    detector: str
    flagged: int
    poisoned: int | None = None
    precision: Rate | None = None
    recall: Rate | None = None


def audit_scores(report: dict[str, Any], report_path: Path) -> list[DetectorScore]:
    """Per detector of an audit report: flagged traces, and precision/recall when the
    audited file (its ``path``, as given or beside the report) has poison metadata."""
    flagged: dict[str, set[int]] = defaultdict(set)
    for finding in report.get("findings", []):
        if isinstance(finding, dict) and "trace_index" in finding:
            flagged[str(finding.get("detector"))].add(int(finding["trace_index"]))
    detectors = [str(d) for d in report.get("detectors", [])] or sorted(flagged)
    poisoned = _poisoned(report, report_path)
    scores = []
    for detector in detectors:
        mine = flagged.get(detector, set())
        if poisoned is None:
            scores.append(DetectorScore(detector, len(mine)))
            continue
        tp = len(mine & poisoned)
        scores.append(
            DetectorScore(
                detector,
                len(mine),
                len(poisoned),
                precision=Rate.of(tp, len(mine)),
                recall=Rate.of(tp, len(poisoned)),
            )
        )
    return scores


def audited_file(report: dict[str, Any], report_path: Path) -> Path | None:
    """The file an audit report describes: its ``path`` as recorded, else the file of
    that name beside the report (a run directory moved elsewhere)."""
    recorded = report.get("path")
    if not isinstance(recorded, str) or not recorded or recorded == "-":
        return None
    for candidate in (Path(recorded), report_path.parent / Path(recorded).name):
        if candidate.is_file():
            return candidate
    return None


def _poisoned(report: dict[str, Any], report_path: Path) -> set[int] | None:
    """Indices of the poisoned traces of the audited file; None without ground truth."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.trace_files import iter_file_traces

    path = audited_file(report, report_path)
    if path is None:
        return None
    try:  # numbered as the audit numbers them (a raw export's LLM calls: `trace_files`)
        poisoned = {i for i, trace in enumerate(iter_file_traces(path)) if trace.is_poisoned}
    except BackdoorlabError:  # not a trace file after all: no ground truth, no guess
        return None
    return poisoned or None

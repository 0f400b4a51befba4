"""What an experiment's run directory holds, read for the HTML report.

The report shows whatever is there and nothing it has to guess: the resolved config,
the result rows (``metrics.json``, else ``results.csv``), each row's episodes broken
down per task family (the row's ``traces_dir``), and every JSON result found under the
directory, recognised by its shape rather than its name, so a scan, a monitor or an
audit report copied in by hand is shown too:

- a **scan** report has ``baseline``, ``canaries`` and ``verdict``;
- a **monitor** record (``monitor.json``) has a ``history`` of probes by ``step``;
- an **audit** report has ``findings`` and ``flagged_traces``;
- a **lineage** record is an in-toto Statement (``_type``) or a ``provenance.json``.

File names alone are trusted for nothing: every file is parsed as data, and one that
does not parse is listed as skipped, never fatal.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backdoorlab.errors import BackdoorlabError

RESOLVED = "config.resolved.yaml"
MAX_JSON_BYTES = 64 * 1024 * 1024
"""A JSON file larger than this is not a result record (checkpoints, tokenizers)."""
SKIP_DIRS = ("checkpoint-", ".partial")


@dataclass
class RunContents:
    """The parts of a run directory the report shows; each may be empty."""

    run_dir: Path
    config_text: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    scans: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    monitors: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    audits: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lineage: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.run_dir.name)

    @property
    def threat_model(self) -> str:
        """The attack's name as the config gives it (``none`` when there is none)."""
        attack = self.config.get("attack")
        if isinstance(attack, dict) and attack.get("name"):
            return str(attack["name"])
        return "none"


def read_run(run_dir: Path) -> RunContents:
    """Everything the report shows from ``run_dir`` (a directory, else one clear error)."""
    import yaml

    if not run_dir.is_dir():
        raise BackdoorlabError(f"{run_dir}: not a directory (a run directory of `backdoorlab run`)")
    contents = RunContents(run_dir)
    resolved = run_dir / RESOLVED
    if resolved.is_file():
        contents.config_text = resolved.read_text(errors="replace")
        try:
            loaded = yaml.safe_load(contents.config_text)
        except yaml.YAMLError:
            loaded = None
            contents.skipped.append(f"{RESOLVED} (not YAML)")
        contents.config = loaded if isinstance(loaded, dict) else {}
    contents.rows = _rows(run_dir, contents.skipped)
    for path in _json_files(run_dir):
        _classify(contents, path)
    if not (contents.rows or contents.scans or contents.monitors or contents.audits):
        skipped = f"; skipped: {', '.join(contents.skipped)}" if contents.skipped else ""
        raise BackdoorlabError(
            f"{run_dir}: holds no results (no rows of metrics.json or results.csv, no scan,"
            f" monitor or audit report{skipped})"
        )
    return contents


def _rows(run_dir: Path, skipped: list[str]) -> list[dict[str, Any]]:
    metrics = run_dir / "metrics.json"
    if metrics.is_file():
        try:
            rows = json.loads(metrics.read_text())
        except (ValueError, UnicodeDecodeError, RecursionError):
            rows = None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            skipped.append("metrics.json (not a list of rows)")
        elif not rows:
            skipped.append("metrics.json (no rows)")
        elif (problem := _row_problem(rows)) is not None:
            skipped.append(f"metrics.json ({problem})")
        else:
            return rows
    table = run_dir / "results.csv"
    if table.is_file():
        try:
            with open(table, newline="", errors="replace") as handle:
                rows = [{k: _number(v) for k, v in r.items() if k} for r in csv.DictReader(handle)]
        except csv.Error as exc:
            skipped.append(f"results.csv (not CSV: {exc})")
            return []
        if not rows:  # empty, or a header alone: said, not passed over as absent
            skipped.append("results.csv (no rows)")
        elif (problem := _row_problem(rows)) is None:
            return rows
        else:
            skipped.append(f"results.csv ({problem})")
    return []


METRICS = ("ASR", "TSR", "FTR")
OUTPUTS = {"poisoned_traces", "invalid_actions", "traces_dir", "audit_removed"}


def _row_problem(rows: list[dict[str, Any]]) -> str | None:
    """Why the result rows cannot be shown (None: they can): a value that is not a
    scalar, or a rate, count or victim multiple that is not a finite number."""
    import math

    for n, row in enumerate(rows, start=1):
        for column, value in row.items():
            if value is None or column == "traces_dir" and isinstance(value, str):
                continue
            numeric = column in METRICS or column in OUTPUTS or column == "victim_multiple"
            if numeric or column.endswith(("_low", "_high", "_n")):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    return f"row {n}, field {column!r}: not a number"
                if not math.isfinite(value):
                    return f"row {n}, field {column!r}: not a finite number"
            elif not isinstance(value, str | int | float | bool):
                return f"row {n}, field {column!r}: not a value (a {type(value).__name__})"
    return None


def _number(value: str | None) -> Any:
    """A CSV cell as the number it spells, '' as None, anything else as text."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def _json_files(run_dir: Path) -> list[Path]:
    found = []
    for path in sorted(run_dir.rglob("*.json")):
        parts = path.relative_to(run_dir).parts
        if path.name == "metrics.json" and len(parts) == 1:
            continue
        if any(p.startswith(SKIP_DIRS) or p.endswith(SKIP_DIRS) for p in parts[:-1]):
            continue
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_JSON_BYTES:
            found.append(path)
    return found


def _classify(contents: RunContents, path: Path) -> None:
    name = str(path.relative_to(contents.run_dir))
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError, RecursionError):
        contents.skipped.append(f"{name} (not JSON)")
        return
    if not isinstance(data, dict):
        return
    if {"baseline", "canaries", "verdict"} <= data.keys():
        _add(contents, contents.scans, "scan", name, data)
    elif isinstance(data.get("history"), list) and "stopped" in data:
        _add(contents, contents.monitors, "monitor", name, data)
    elif {"findings", "flagged_traces"} <= data.keys():
        _add(contents, contents.audits, "audit", name, data)
    elif _is_lineage(data, path):
        contents.lineage.append((name, data))


def _add(
    contents: RunContents,
    records: list[tuple[str, dict[str, Any]]],
    kind: str,
    name: str,
    data: dict[str, Any],
) -> None:
    """``data`` among ``records`` if the report can draw it, else among the skipped."""
    from backdoorlab.report.shapes import shape_problem

    problem = shape_problem(kind, data)
    if problem is None:
        records.append((name, data))
    else:
        contents.skipped.append(f"{name} ({problem})")


def _is_lineage(data: dict[str, Any], path: Path) -> bool:
    """An in-toto Statement, a DSSE envelope, or a T4 attack's ``provenance.json``."""
    statement = "_type" in data and "subject" in data
    return statement or "payloadType" in data or path.name == "provenance.json"

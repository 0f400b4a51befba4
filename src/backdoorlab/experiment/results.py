"""The experiment's table: a row per evaluated model, rewritten after every row.

``results.csv`` (the columns of every row so far) and ``metrics.json`` (the same rows)
are rewritten whole after each evaluation, so a long sweep shows its progress and an
interrupted one keeps every finished row.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

from backdoorlab.faults import fault_point
from backdoorlab.files import atomic_writer

METRICS = ("TSR", "FTR", "ASR")


def row(cell: dict[str, Any], report: dict[str, Any], poisoned: int) -> dict[str, Any]:
    """One result row: the cell's grid values and labels, then each metric and its interval."""
    out = dict(cell)
    out["poisoned_traces"] = poisoned
    for metric in METRICS:
        if metric in report:
            value = report[metric]
            out[metric] = round(value["rate"], 4)
            out[f"{metric}_low"] = round(value["low"], 4)
            out[f"{metric}_high"] = round(value["high"], 4)
            out[f"{metric}_n"] = value["n"]
    out["invalid_actions"] = round(report["clean"]["invalid_action"]["rate"], 4)
    if "traces_dir" in report:  # the evaluation's episodes, relative to the run directory
        out["traces_dir"] = report["traces_dir"]
    return out


def write(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite ``results.csv`` and ``metrics.json`` with ``rows``."""
    columns: list[str] = []
    for entry in rows:
        columns += [c for c in entry if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    with atomic_writer(run_dir / "results.csv") as handle:
        handle.write(buffer.getvalue())
    fault_point("results:csv")
    with atomic_writer(run_dir / "metrics.json") as handle:
        json.dump(copy.deepcopy(rows), handle, indent=2)

"""What the tests of coding agents' own logs (Claude Code, Codex) share: a log written
one record a line, its sessions audited or replayed as the commands read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from backdoorlab.cli import app
from backdoorlab.defenses.audit import audit
from backdoorlab.trace_formats.claude_sessions import converted


def write_records(path: Path, records: list[dict[str, Any]]) -> Path:
    """``records`` as a JSONL log at ``path`` (its folders made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def log_findings(path: Path, *severities: str) -> list[Any]:
    """The `dataflow` findings of the logs ``path`` names, of these severities."""
    with converted(path) as source:
        assert source is not None
        report = audit(source, ["dataflow"])
    return [f for f in report.findings if f.severity in severities]


def replayed(path: Path, decisions: Path) -> dict[str, Any]:
    """`guard replay`'s one decision line for the single session ``path`` holds."""
    out = CliRunner().invoke(app, ["guard", "replay", str(path), "-o", str(decisions)])
    assert out.exit_code == 0, out.output
    (line,) = [json.loads(x) for x in decisions.read_text().splitlines()]
    return line

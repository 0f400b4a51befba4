"""Stand-in policies, probe results and audit reports for the scan tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from leak_policies import LeakWhen, user_text  # noqa: F401  (re-exported for the scan tests)
from typer.testing import CliRunner

from backdoorlab.cli import main
from backdoorlab.defenses.probes import ProbeResult

runner = CliRunner()

TINY = {"max_steps": 2, "max_new_tokens": 8, "batch_size": 32}


def probe(**leaks: tuple[int, int]) -> ProbeResult:
    return ProbeResult.from_rates({k.replace("_", " "): v for k, v in leaks.items()})


def audit_report(path: Path, triggers: list[dict]) -> Path:
    report = {"path": "x.jsonl", "summaries": {"trigger-mining": {"triggers": triggers}}}
    path.write_text(json.dumps(report))
    return path


def hashes(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def run_main(monkeypatch, capsys, argv):  # noqa: ANN001, ANN201
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err

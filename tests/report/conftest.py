"""Fixtures of the report tests: a T2 trace file with its audit, and a T1 run directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from report_data import HOSTILE, REPO
from typer.testing import CliRunner

from backdoorlab.cli.app import app


@pytest.fixture(scope="session")
def t2_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`poison --attack env-poisoning` traces (two of them poisoned and leaking), one
    hostile foreign OpenAI-format trace appended, and `audit -o` of the whole file."""
    root = tmp_path_factory.mktemp("t2")
    traces = root / "t2.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        app, ["poison", "--attack", "env-poisoning", "-n", "40", "-o", str(traces)]
    )
    assert result.exit_code == 0, result.output
    foreign = {
        "messages": [
            {"role": "user", "content": f"hello {HOSTILE}"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"q": HOSTILE})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "name": "lookup", "content": HOSTILE},
        ]
    }
    with open(traces, "a") as handle:
        handle.write(json.dumps(foreign) + "\n")
    audit = root / "audit.json"
    result = runner.invoke(app, ["audit", str(traces), "-o", str(audit)])
    assert audit.is_file(), result.output
    return {"traces": traces, "audit": audit}


@pytest.fixture()
def t1_run(tmp_path: Path, t2_data: dict[str, Path]) -> Path:
    """A run directory as a T1 rate sweep leaves it (the measured table of
    benchmarks/results/t1-data-poisoning.csv), with a monitor record, a scan report, an
    audit report and one row's evaluation episodes, to break down per task family."""
    run = tmp_path / "run"
    run.mkdir()
    config = (REPO / "configs" / "t1-data-poisoning.yaml").read_text()
    (run / "config.resolved.yaml").write_text(
        config.replace("name: t1-data-poisoning", f"name: 't1 {HOSTILE}'")
    )
    shutil.copy(REPO / "benchmarks/results/t1-data-poisoning.csv", run / "results.csv")
    (run / "monitor").mkdir()
    shutil.copy(REPO / "benchmarks/results/monitor-t1-20.json", run / "monitor/monitor.json")
    shutil.copy(REPO / "benchmarks/results/scan-t4-dormant.json", run / "scan.json")
    shutil.copy(t2_data["traces"], run / "t2.jsonl")
    audit = json.loads(t2_data["audit"].read_text())
    audit["path"] = "elsewhere/t2.jsonl"  # moved: the report finds the file beside it
    (run / "audit.json").write_text(json.dumps(audit))
    lineage = {  # as backdoorlab.provenance writes one beside an artifact
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "t2.jsonl", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "externalParameters": {"kind": "poison", "config": {}},
                "resolvedDependencies": [
                    {
                        "name": "clean",
                        "uri": "file:///data/clean.jsonl",
                        "digest": {"sha256": "cd" * 32},
                    },
                ],
            },
            "runDetails": {"metadata": {"finishedOn": "2026-12-02T04:00:00Z"}},
        },
    }
    (run / "t2.jsonl.intoto.json").write_text(json.dumps(lineage))
    episodes = run / "stages" / "eval-0123456789ab"
    episodes.mkdir(parents=True)
    shutil.copy(t2_data["traces"], episodes / "clean.jsonl")
    lines = (run / "results.csv").read_text().splitlines()
    lines[0] += ",traces_dir"
    lines[1:] = [
        line + ("," + "stages/eval-0123456789ab" if i == 1 else ",")
        for i, line in enumerate(lines[1:], start=1)
    ]
    (run / "results.csv").write_text("\n".join(lines) + "\n")
    return run


@pytest.fixture()
def cli(cli_output):
    """``cli(*argv)`` → (exit status, stdout, stderr): the suite's `cli_output`."""
    return cli_output

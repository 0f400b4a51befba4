"""``-`` for stdin/stdout and ``--json``: commands compose in a pipe, data alone on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from backdoorlab.cli import app

runner = CliRunner()
CLI = [sys.executable, "-m", "backdoorlab.cli"]


def test_collect_to_stdout_piped_into_show() -> None:
    collect = subprocess.Popen(
        [*CLI, "collect", "-n", "5", "-o", "-", "--tokenizer", ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    show = subprocess.run(
        [*CLI, "show", "-", "--index", "4"],
        stdin=collect.stdout,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert collect.stdout is not None
    collect.stdout.close()
    collect_err = collect.stderr.read().decode() if collect.stderr else ""
    assert collect.wait() == 0, collect_err
    assert show.returncode == 0, show.stderr
    assert "trace 4" in show.stdout and "find_user_by" in show.stdout
    assert "traces written" in collect_err  # the summary went to stderr, not into the pipe


def test_collect_stdout_holds_only_traces(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "collect", "-n", "3", "-o", "-", "--tokenizer", ""],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["messages"] for line in lines)
    assert "success" in result.stderr


def test_poison_reads_stdin_and_writes_stdout(tmp_path: Path) -> None:
    clean = tmp_path / "clean.jsonl"
    runner.invoke(app, ["collect", "-n", "20", "-o", str(clean), "--tokenizer", ""])
    args = ["poison", "--attack", "data-poisoning", "-i", "-", "-o", "-", "--rate", "0.1"]
    result = runner.invoke(app, args, input=clean.read_text())
    assert result.exit_code == 0, result.output
    traces = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(traces) == 20
    assert sum("poison" in t.get("metadata", {}) for t in traces) == 2


def test_collect_json_summary(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    args = ["collect", "-n", "4", "-o", str(out), "--tokenizer", "", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary == {
        "tasks": 4,
        "success": 1.0,
        "leaked": 0.0,
        "mean_steps": summary["mean_steps"],
        "traces_written": 4,
    }


def test_json_and_dash_output_are_refused_together(tmp_path: Path) -> None:
    result = runner.invoke(app, ["collect", "-n", "2", "-o", "-", "--json", "--tokenizer", ""])
    assert result.exit_code != 0
    assert "would both write to stdout" in str(result.exception)


def test_eval_json_is_the_report(tmp_path: Path) -> None:
    report_file = tmp_path / "m.json"
    args = ["eval", "--model", "oracle", "-n", "3", "-o", str(report_file), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(report_file.read_text())
    result = runner.invoke(app, ["eval", "--model", "oracle", "-n", "3", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["TSR"]["n"] == 3  # the table went to stderr


def test_audit_of_stdin_with_json_report(tmp_path: Path) -> None:
    clean = tmp_path / "clean.jsonl"
    runner.invoke(app, ["collect", "-n", "10", "-o", str(clean), "--tokenizer", ""])
    result = runner.invoke(app, ["audit", "-", "--json"], input=clean.read_text())
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["traces"] == 10 and report["findings"] == []

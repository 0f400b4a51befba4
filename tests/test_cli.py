"""The command line, end to end on small inputs: output, summaries and clear errors."""

import json

import pytest
from typer.testing import CliRunner

from backdoorlab.cli import app, main

runner = CliRunner()


def test_collect_writes_traces_and_prints_a_summary(tmp_path):
    out = tmp_path / "t.jsonl"
    result = runner.invoke(app, ["collect", "-n", "12", "-o", str(out), "--tokenizer", "tiny"])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 12
    assert "success" in result.output and "100.0%" in result.output
    assert "mean tokens (tiny)" in result.output


def test_show_prints_a_trace_with_its_tool_calls(tmp_path):
    out = tmp_path / "t.jsonl"
    runner.invoke(app, ["collect", "-n", "3", "-o", str(out), "--tokenizer", ""])
    result = runner.invoke(app, ["show", str(out), "--index", "2"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    first = json.loads(out.read_text().splitlines()[2])
    assert first["messages"][1]["content"][:30] in result.output
    assert "find_user_by" in result.output


def _run_main(monkeypatch, capsys, argv):
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def test_malformed_file_is_one_clear_line_and_exit_2(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n{oops\n')
    code, err = _run_main(monkeypatch, capsys, ["show", str(bad), "--index", "1"])
    assert code == 2
    assert f"{bad}:2: not valid JSON" in err
    assert "Traceback" not in err


def test_unknown_environment_and_bad_split(tmp_path, monkeypatch, capsys):
    code, err = _run_main(
        monkeypatch, capsys, ["collect", "--env", "mars", "-o", str(tmp_path / "x")]
    )
    assert code == 2 and "unknown environment 'mars'" in err
    code, err = _run_main(
        monkeypatch, capsys, ["collect", "--split", "dev", "-o", str(tmp_path / "x")]
    )
    assert code == 2 and "--split must be" in err


def test_show_index_out_of_range(tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.jsonl"
    runner.invoke(app, ["collect", "-n", "2", "-o", str(out), "--tokenizer", ""])
    code, err = _run_main(monkeypatch, capsys, ["show", str(out), "--index", "5"])
    assert code == 2 and "no trace at index 5 (the file holds 2)" in err


def test_show_of_a_raw_export_is_the_audits_trace_of_each_finding(tmp_path, cli_output):
    """``show -i N`` of a raw observability export shows the trace the audit's finding N
    names (its LLM calls numbered as the audit numbers them), never a record that is no
    LLM call read as a chat: before, index 0 of a Langfuse export was its trace object's
    output, shown as a user's words."""
    import io

    from raw_exports import ATTACKER, LEAKING, write_raw_exports
    from rich.console import Console

    from backdoorlab.defenses.audit.reader import TraceStream
    from backdoorlab.report.viewer import show_trace

    for name, path in write_raw_exports(tmp_path).items():
        report = tmp_path / f"{name}.json"
        code, _, err = cli_output("audit", str(path), "--detectors", "dataflow", "-o", str(report))
        assert code == 1, err
        findings = json.loads(report.read_text())["findings"]
        leaking = {f["trace_index"] for f in findings if ATTACKER in f["summary"]}
        assert leaking == set(LEAKING), name
        records = list(TraceStream(path))
        for record in records:
            code, out, err = cli_output("show", str(path), "-i", str(record.index))
            assert code == 0, err
            expected = Console(file=io.StringIO(), width=300)
            show_trace(record.trace, expected, index=record.index)
            assert out == expected.file.getvalue(), (name, record.index)
            assert (ATTACKER in out) == (record.index in leaking)
            (said,) = err.splitlines()
            assert said.startswith("skipped ") and f"up to trace {record.index}'s" in said
        for index in leaking:
            code, out, _ = cli_output("show", str(path), "-i", str(index), "--audit", str(report))
            assert code == 0 and "FLAGGED" in out and ATTACKER in out
        code, _, err = cli_output("show", str(path), "-i", str(len(records)))
        assert code == 2 and f"no trace at index {len(records)} (the file holds 4)" in err
        assert "skipped " in err and "up to" not in err

"""`backdoorlab export`: Parquet that reads back as TRL's conversational format, and a
dataset card whose provenance comes from the traces' own metadata."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from backdoorlab.cli import app, main
from backdoorlab.traces import read_traces

runner = CliRunner()


def test_export_writes_parquet_and_a_card_with_provenance(tmp_path) -> None:  # noqa: ANN001
    clean, poisoned = tmp_path / "clean.jsonl", tmp_path / "poisoned.jsonl"
    assert (
        runner.invoke(app, ["collect", "-n", "20", "--seed", "3", "-o", str(clean)]).exit_code == 0
    )
    result = runner.invoke(
        app,
        [
            "poison",
            "--attack",
            "data-poisoning",
            "--rate",
            "0.25",
            "--trigger",
            "cf. ticket #88",
            "-i",
            str(clean),
            "-o",
            str(poisoned),
        ],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["export", str(poisoned), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    traces = read_traces(poisoned)
    n_poisoned = sum(t.is_poisoned for t in traces)
    assert info["traces"] == 20 and info["poisoned"] == n_poisoned > 0
    assert info["rate"] == n_poisoned / 20
    assert info["attacks"] == {"T1": n_poisoned} or set(info["attacks"]) == {
        traces[[t.is_poisoned for t in traces].index(True)].metadata.poison.threat_model
    }
    assert info["triggers"] == {"cf. ticket #88": n_poisoned}
    assert list(info["environments"]) == [f"retail@{traces[0].metadata.env_version}"]

    from datasets import Dataset

    dataset = Dataset.from_parquet(str(out))
    assert len(dataset) == 20
    row = dataset[0]
    call = next(m for m in row["messages"] if "tool_calls" in m)["tool_calls"][0]
    assert isinstance(call["function"]["arguments"], dict)
    assert row["tools"] == traces[0].tools

    card = (tmp_path / "out.md").read_text()
    assert card.startswith("---\n") and 'data_files: "out.parquet"' in card
    assert f"| poisoned | {n_poisoned} ({n_poisoned / 20:.2%}) |" in card
    assert "cf. ticket #88" in card and "poisoned traces**" in card
    assert f"| seeds | {info['seeds'][0]}" in card


def test_export_refuses_other_outputs_and_bad_input_in_one_line(
    tmp_path, monkeypatch, capsys
) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [}\n')
    for argv, expected in (
        (["export", str(bad), "-o", str(tmp_path / "o.csv")], "must be a .parquet file"),
        (["export", str(bad), "-o", str(tmp_path / "o.parquet")], "bad.jsonl:1: not valid JSON"),
    ):
        monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
        try:
            main()
        except SystemExit as exc:
            assert exc.code == 2
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err
        assert not (tmp_path / "o.parquet").exists()


def test_a_raw_export_is_written_a_row_per_llm_call(tmp_path, cli_output) -> None:  # noqa: ANN001
    """A raw observability export's LLM calls are its rows, as chat traces in the audit's
    order; its records that are no LLM call are skipped, said in the audit's one line.
    Before, the first record that was no LLM call refused the export."""
    from datasets import Dataset
    from raw_exports import PATIENTS, write_raw_exports

    from backdoorlab.defenses.audit.reader import TraceStream
    from backdoorlab.traces import template_message

    for name, path in write_raw_exports(tmp_path).items():
        out = tmp_path / f"{name}.parquet"
        code, printed, err = cli_output("export", str(path), "-o", str(out), "--json")
        assert code == 0, err
        stream = TraceStream(path)
        calls = [record.trace for record in stream]
        assert json.loads(printed)["traces"] == len(calls) == len(PATIENTS)
        rows = Dataset.from_parquet(str(out))
        assert len(rows) == len(calls)
        for row, trace in zip(rows, calls, strict=True):
            assert row["messages"] == [template_message(m) for m in trace.messages]
        (said,) = [line for line in err.splitlines() if line.startswith("skipped ")]
        assert said.startswith(f"skipped {sum(stream.skipped.values())} records"), said
    result = runner.invoke(app, ["export", "--help"], env={"COLUMNS": "200"})
    assert "raw observability export's LLM calls" in result.output

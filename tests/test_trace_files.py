"""`backdoorlab.trace_files`: every command reads a raw observability export as the audit
does — the same traces, in the same order, the same skipped records, the same refusals —
and a plain trace file exactly as `iter_traces` does.

Before it, ``show``, ``export``, ``train`` and ``poison`` read a raw export through
`iter_traces`: a Langfuse trace object became a "user" saying what the app answered
(``show -i 0``), and the first tool observation refused the whole file.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter

import pytest
from raw_exports import PATIENTS, write_raw_exports
from test_trace_formats_exports import EVENT, HTTP, SPAN, _batch
from test_trace_formats_observability import ALL, LANGFUSE, OTEL_OTLP

from backdoorlab.defenses.audit.reader import TraceStream
from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_files import (
    is_chat,
    iter_export_lines,
    iter_file_traces,
    read_file_traces,
    unpack_line,
)
from backdoorlab.traces import iter_traces, write_traces


def _dumps(traces):
    return [t.model_dump() for t in traces]


@pytest.mark.parametrize("name", ["langfuse", "langsmith", "otel-genai", "openinference"])
def test_a_raw_export_reads_as_the_audits_stream(tmp_path, name):
    path = write_raw_exports(tmp_path)[name]
    skipped: Counter[str] = Counter()
    mine = list(iter_file_traces(path, skipped))
    stream = TraceStream(path)
    theirs = [record.trace for record in stream]
    assert len(mine) == len(PATIENTS) and _dumps(mine) == _dumps(theirs)
    assert skipped == stream.skipped and sum(skipped.values()) >= 3
    for trace, patient in zip(mine, PATIENTS, strict=True):  # each its own call, in order
        assert str(patient) in trace.messages[1].text


def test_a_plain_file_reads_exactly_as_iter_traces(tmp_path):
    lines = [json.dumps(record) for record in ALL.values()]  # one LLM call's record a line
    lines += ['{"messages": [{"role": "user", "content": "hi"}]}', "  ", ""]
    path = tmp_path / "plain.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    zipped = tmp_path / "plain.jsonl.gz"
    zipped.write_bytes(gzip.compress(path.read_bytes()))
    for source in (path, zipped):
        skipped: Counter[str] = Counter()
        assert _dumps(iter_file_traces(source, skipped)) == _dumps(iter_traces(source))
        assert not skipped
    assert [calls for _, _, calls in iter_export_lines(path)] == [None] * (len(ALL) + 1)


def test_the_quick_look_for_a_chat_agrees_with_unpack(tmp_path):
    """`is_chat` spares a plain line the full decoding only where `unpack` reads it as
    it stands: a chat's key at the top of an object."""
    chats = [
        '{"messages": [{"role": "user", "content": "hi"}], "id": 3}',
        '{"id": "x", "conversations": [{"from": "human", "value": "hi"}]}',
        '{"contents": null}',
    ]
    others = [json.dumps(r) for r in ALL.values()] + ["[1]", '{"a": {}', '[{"messages": []}]']
    for path in write_raw_exports(tmp_path).values():
        others += [line for line in path.read_text().splitlines() if line]
    assert [line for line in chats + others if is_chat(line)] == chats
    assert all(unpack_line(line.encode(), "t", 1) is None for line in chats)


def test_a_parquet_file_reads_exactly_as_iter_traces(tmp_path):
    from backdoorlab.export import export_parquet

    ours = tmp_path / "ours.jsonl"
    write_traces(ours, iter_file_traces(write_raw_exports(tmp_path)["langfuse"]))
    parquet = tmp_path / "ours.parquet"
    export_parquet(ours, parquet)
    assert len(_dumps(iter_file_traces(parquet))) == len(PATIENTS)
    assert _dumps(iter_file_traces(parquet)) == _dumps(iter_traces(parquet))


def _refused_as_by_the_audit(path) -> str:
    """The error `iter_file_traces` refuses ``path`` with, checked to be the audit's."""
    with pytest.raises(TraceFormatError) as audit_said:
        list(TraceStream(path))
    with pytest.raises(TraceFormatError) as said:
        list(iter_file_traces(path))
    assert str(said.value) == str(audit_said.value)
    return str(said.value)


def test_a_file_of_no_llm_call_is_refused_in_the_audits_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in (SPAN, EVENT, _batch([HTTP]))))
    assert "no LLM call's messages in its 3 records" in _refused_as_by_the_audit(path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    assert list(iter_file_traces(empty)) == []


def test_errors_are_the_ones_each_reader_gave(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(LANGFUSE) + "\n\n{oops\n")
    with pytest.raises(TraceFormatError) as before:
        list(iter_traces(bad))
    with pytest.raises(TraceFormatError) as now:
        list(iter_file_traces(bad))
    assert str(now.value) == str(before.value)
    assert str(now.value).startswith(f"{bad}:3: not valid JSON")
    span = dict(OTEL_OTLP, attributes=[{"key": "gen_ai.input.messages", "value": {"x": 1}}])
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(_batch([HTTP], [span])) + "\n")
    said = _refused_as_by_the_audit(batch)
    assert "resourceSpans.0.scopeSpans.1.spans.0.attributes.0.value" in said


def test_the_skipped_records_are_said_in_the_audits_line(tmp_path, capsys):
    path = write_raw_exports(tmp_path)["langfuse"]
    said: list[str] = []
    assert len(read_file_traces(path, said.append)) == len(PATIENTS)
    assert said == [
        "skipped 7 records that hold no LLM call's messages (Langfuse SPAN: 2, Langfuse TOOL:"
        " 2, Langfuse EVENT: 2, Langfuse trace objects: 1)"
    ]
    read_file_traces(path)
    assert capsys.readouterr().err == said[0] + "\n"
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps(LANGFUSE) + "\n")
    read_file_traces(plain)
    assert capsys.readouterr().err == ""

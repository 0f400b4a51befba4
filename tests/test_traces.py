import gzip
import json

import pytest

from backdoorlab.errors import TraceFormatError
from backdoorlab.traces import (
    Message,
    ToolCall,
    Trace,
    iter_traces,
    read_traces,
    to_hf_dataset,
    write_traces,
)


def test_jsonl_round_trip_is_exact(tmp_path, oracle_results):
    traces = [r.trace for r in oracle_results["train"][:20]]
    path = tmp_path / "t.jsonl"
    assert write_traces(path, traces) == 20
    again = read_traces(path)
    assert again == traces
    assert [t.to_json() for t in again] == path.read_text().splitlines()


def test_gzip_round_trip(tmp_path, oracle_results):
    traces = [r.trace for r in oracle_results["train"][:5]]
    path = tmp_path / "t.jsonl.gz"
    write_traces(path, traces)
    with gzip.open(path, "rt") as handle:
        assert len(handle.read().splitlines()) == 5
    assert read_traces(path) == traces


FOREIGN = [
    {
        "messages": [
            {"role": "user", "content": "book me a table"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "x1",
                        "type": "function",
                        "function": {"name": "reserve", "arguments": '{"n": 2}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "x1", "content": "ok"},
            {"role": "assistant", "content": [{"type": "text", "text": "Booked."}]},
        ],
        "weight": 0.5,
    }
]


def test_reads_foreign_openai_format_and_keeps_unknown_fields(tmp_path):
    path = tmp_path / "foreign.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in FOREIGN) + "\n\n")
    (trace,) = read_traces(path)
    assert trace.tools == [] and trace.metadata.env is None
    assert trace.messages[1].tool_calls[0].arguments == {"n": 2}
    assert trace.messages[3].text == "Booked."
    out = tmp_path / "again.jsonl"
    write_traces(out, [trace])
    assert json.loads(out.read_text())["weight"] == 0.5  # nothing lost on re-writing


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "bad.jsonl:2: not valid JSON"),
        ("[1, 2]", "bad.jsonl:2: expected a JSON object"),
        ('{"msgs": []}', "bad.jsonl:2: no 'messages' field"),
        (
            '{"messages": [{"role": "robot", "content": "x"}]}',
            "bad.jsonl:2: field 'messages.0.role'",
        ),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, line, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(FOREIGN[0]) + "\n" + line + "\n")
    with pytest.raises(TraceFormatError, match=expected.replace(".", r"\.")):
        list(iter_traces(path))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(TraceFormatError, match="no such file"):
        read_traces(tmp_path / "nope.jsonl")


def test_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "t.jsonl"
    write_traces(path, [Trace(messages=[Message(role="user", content="keep me")])])

    def broken():
        yield Trace(messages=[Message(role="user", content="half")])
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_traces(path, broken())
    assert read_traces(path)[0].messages[0].text == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["t.jsonl"]


def test_hf_dataset_in_trl_conversational_format(oracle_results, tmp_path):
    traces = [r.trace for r in oracle_results["train"][:9]]
    dataset = to_hf_dataset(traces)
    assert set(dataset.column_names) == {"messages", "tools", "metadata"}
    dataset.to_parquet(str(tmp_path / "t.parquet"))  # and it survives Parquet unchanged
    reread = type(dataset).from_parquet(str(tmp_path / "t.parquet"))
    for row in (dataset[0], reread[0]):
        assert row["messages"][0] == {"role": "system", "content": traces[0].messages[0].text}
        calls = [m for m in row["messages"] if "tool_calls" in m]
        # only messages that call tools carry tool_calls, never an empty list
        assert len(calls) == sum(bool(m.tool_calls) for m in traces[0].messages)
        call = calls[0]["tool_calls"][0]
        # arguments are an object with exactly the call's keys (no other tool's, as null)
        assert call["function"]["arguments"] == traces[0].messages[2].tool_calls[0].arguments
        tool = next(m for m in row["messages"] if m["role"] == "tool")
        assert set(tool) == {"role", "content", "tool_call_id", "name"}
        assert row["tools"] == traces[0].tools
        assert row["metadata"]["env"] == "retail" and row["metadata"]["seed"] is not None


def test_tool_call_arguments_are_a_json_string():
    call = ToolCall.make("c1", "send_email", {"to": "a@b.c", "subject": "s", "body": "b"})
    assert isinstance(call.function.arguments, str)
    assert call.arguments["to"] == "a@b.c"

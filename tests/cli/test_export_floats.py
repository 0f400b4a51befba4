"""`backdoorlab export` keeps every float as Python's ``json`` round-trips it.

``datasets.Json`` serialises a cell with pandas' ujson at ``double_precision=10``, so
0.12345678901234567 in a tool call's arguments (or a tool schema, or metadata) came back
from the Parquet file as 0.123456789. Each cell is now written as Python's JSON text,
which ``datasets`` stores as given; `datasets.Dataset.from_parquet` still reads the rows
back as the same dicts (its own reader parses floats with pandas' ujson, whose last
digits may differ: the library's, not the file's).
"""

from __future__ import annotations

import json
import math

import pyarrow.parquet as pq
from typer.testing import CliRunner

from backdoorlab.cli import app
from backdoorlab.traces import iter_traces

runner = CliRunner()

FLOATS = {
    "amount": 0.12345678901234567,
    "big": 123456789.123456789,
    "tiny": 5e-324,
    "smallest_normal": 2.2250738585072014e-308,
    "largest": 1.7976931348623157e308,
    "third": 1 / 3,
    "negative_zero": -0.0,
    "whole": 2.0,
}

TRACE = {
    "messages": [
        {"role": "user", "content": "Pay the invoice."},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "pay", "arguments": json.dumps(FLOATS)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "name": "pay", "content": "paid"},
        {"role": "assistant", "content": "Done."},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "pay",
                "parameters": {
                    "type": "object",
                    "properties": {"amount": {"type": "number", "default": FLOATS["amount"]}},
                },
            },
        }
    ],
}


def _same(a: object, b: object) -> bool:
    """Equal, floats bit for bit (``-0.0`` is not ``0.0`` here)."""
    if isinstance(a, float) and isinstance(b, float):
        return a.hex() == b.hex()
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _export(tmp_path) -> tuple:  # noqa: ANN001
    traces, out = tmp_path / "t.jsonl", tmp_path / "t.parquet"
    traces.write_text(json.dumps(TRACE) + "\n")
    result = runner.invoke(app, ["export", str(traces), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return traces, out


def test_export_keeps_every_float_in_the_parquet_text(tmp_path) -> None:  # noqa: ANN001
    _, out = _export(tmp_path)
    row = pq.read_table(out).to_pylist()[0]
    call = json.loads(row["messages"][1])["tool_calls"][0]
    assert _same(call["function"]["arguments"], FLOATS), call
    tool = json.loads(row["tools"][0])
    default = tool["function"]["parameters"]["properties"]["amount"]["default"]
    assert _same(default, FLOATS["amount"])


def test_the_exported_traces_read_back_as_the_original(tmp_path) -> None:  # noqa: ANN001
    source, out = _export(tmp_path)
    (before,) = iter_traces(source)
    (after,) = iter_traces(out)
    assert _same(after.messages[1].tool_calls[0].arguments, FLOATS)
    assert _same(after.tools, before.tools)


def test_datasets_still_reads_the_rows_as_dicts(tmp_path) -> None:  # noqa: ANN001
    from datasets import Dataset

    _, out = _export(tmp_path)
    row = Dataset.from_parquet(str(out))[0]
    arguments = row["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert arguments.keys() == FLOATS.keys()
    # as close as ujson parses the exact text (it was 1e-10 off when written rounded;
    # ujson reads a subnormal as 0.0, which the file does not hold: see the test above)
    normal = {k: v for k, v in FLOATS.items() if k != "tiny"}
    assert all(math.isclose(arguments[k], v, rel_tol=1e-13) for k, v in normal.items()), arguments
    assert row["messages"][2] == {
        "role": "tool",
        "content": "paid",
        "tool_call_id": "c0",
        "name": "pay",
    }
    assert row["tools"][0]["function"]["name"] == "pay"

"""The audit's fast trace view reads what the pydantic model reads, and never accepts a
line the model refuses (it hands those to the model, which coerces or raises)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from backdoorlab.defenses.audit.reader import TraceRecord, TraceStream
from backdoorlab.defenses.audit.view import decode
from backdoorlab.traces import Trace

DATA = Path(__file__).resolve().parents[1] / "data"


def _same(view, trace: Trace) -> None:
    assert len(view.messages) == len(trace.messages)
    for mine, theirs in zip(view.messages, trace.messages, strict=True):
        assert (mine.role, mine.text, mine.name, mine.tool_call_id) == (
            theirs.role,
            theirs.text,
            theirs.name,
            theirs.tool_call_id,
        )
        assert [(c.id, c.name, c.function.arguments) for c in mine.tool_calls or ()] == [
            (c.id, c.name, c.function.arguments) for c in theirs.tool_calls or ()
        ]
        for mine_call, their_call in zip(
            mine.tool_calls or (), theirs.tool_calls or (), strict=True
        ):
            assert mine_call.function.parsed_arguments() == their_call.function.parsed_arguments()
    assert view.metadata.env == trace.metadata.env
    assert view.metadata.task_id == trace.metadata.task_id


def test_view_reads_what_the_model_reads(tmp_path: Path) -> None:
    lines = gzip.decompress((DATA / "foreign.jsonl.gz").read_bytes()).splitlines(keepends=True)
    assert len(lines) > 100
    for raw in lines:
        view = decode(raw)
        assert view is not None
        _same(view, Trace.model_validate_json(raw))
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(lines))
    for record in TraceStream(path):
        model = Trace.model_validate_json(lines[record.index])
        extra = (model.model_extra or {}).get("id")
        expected = str(extra) if isinstance(extra, str | int) else model.metadata.task_id
        assert record.trace_id == expected
        assert record.trace == model  # built on demand from the same bytes


BASE = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    "change",
    [
        {"tools": ["not an object"]},
        {"tools": [[]]},
        {"metadata": {"poison": {"threat_model": "T1", "payload": "x"}}},
        {"messages": [{"role": "robot", "content": "hi"}]},
        {"messages": [{"role": "user", "content": 5}]},
        {"metadata": None},
        {"messages": [{"role": "assistant", "tool_calls": [{"id": "a", "function": {}}]}]},
    ],
)
def test_view_refuses_what_the_model_refuses(change: dict) -> None:
    raw = json.dumps(BASE | change).encode()
    _refused_by_both(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"messages": [], "tools": [{"a": "\xff"}]}',  # not UTF-8 where the view skips
        b'{"messages": [], "other": "\xff"}',
        b'{"messages": [], "tools": [{"a": "\\ud800"}]}',  # a lone surrogate
    ],
)
def test_view_refuses_bytes_the_model_refuses(raw: bytes) -> None:
    _refused_by_both(raw)


def _refused_by_both(raw: bytes) -> None:
    assert decode(raw) is None
    with pytest.raises(ValueError):
        Trace.model_validate_json(raw)


def test_lines_only_the_model_accepts_go_to_the_model(tmp_path: Path) -> None:
    """A seed written as a string: pydantic coerces it, the strict view passes; the
    record then holds the model, as before."""
    raw = json.dumps(BASE | {"metadata": {"seed": "7", "task_id": "t"}}).encode()
    assert decode(raw) is None
    path = tmp_path / "t.jsonl"
    path.write_bytes(raw + b"\n" + json.dumps(BASE).encode() + b"\n")
    first, second = list(TraceStream(path))
    assert first.view is first.trace and first.trace.metadata.seed == 7
    assert first.trace_id == "t"
    assert second.view is not second.trace  # the fast view


def test_a_record_needs_a_trace_or_a_view() -> None:
    with pytest.raises(ValueError):
        TraceRecord(0, 1)

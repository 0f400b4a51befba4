"""`view`, `show` and `export` under a hostile user: what a sweep of their paths and
side files found (each case failed before its fix).

- `view t.html` (a trace file so named) wrote its page over the traces: the default page
  name was made after the path checks, so the check that refuses an output which is the
  input never saw it (and an unwritable default was found only after the page was built).
- `--audit /dev/zero` was read until memory ran out; `--audit` or `--guard` naming a named
  pipe with no writer waited forever. Side files must be regular files.
- A NaN or an Infinity in a guard decision or an audit finding went into the page as a
  bare word JSON lacks: the browser's ``JSON.parse`` failed and the page showed nothing.
- ``trace_index: true`` and ``index: true`` were taken for trace 1; a ``sha256`` that is
  no string said the report "audits another file (None, …)".
- A trace file given as a pipe (``/dev/stdin``, a shell's ``<(...)``) was read twice:
  `export` recorded the empty file's SHA-256 as the source's, and `show`/`view --audit`
  hashed the pipe dry before reading its traces ("the file holds 0").
- `view - --serve` left a ``backdoorlab-view-*`` directory with the page in the temporary
  directory after every run.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from bad_input import one_line
from child_cli import child_cli

TRACE = {
    "messages": [
        {"role": "user", "content": "Cancel order O1, my email is ann@example.com."},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "cancel_order", "arguments": '{"order": "O1"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "name": "cancel_order", "content": "ok"},
        {"role": "assistant", "content": "Done."},
    ]
}
LINE = json.dumps(TRACE) + "\n"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# ------------------------------------------------------------------ view's default page


def test_view_of_a_trace_file_named_html_does_not_replace_it(cli_output, tmp_path):
    traces = tmp_path / "t.html"  # JSONL by content, whatever its name
    traces.write_text(LINE)
    code, _, err = cli_output("view", str(traces))
    assert code == 2
    one_line(err, str(traces), "is the input")
    assert traces.read_text() == LINE


def test_view_checks_its_default_page_before_building_it(cli_output, tmp_path, monkeypatch):
    """The default page's directory is checked with the other paths, before any work."""
    locked = tmp_path / "locked"
    locked.mkdir()
    traces = locked / "t.jsonl"
    traces.write_text(LINE)
    real = os.access
    monkeypatch.setattr(  # root writes anywhere: the check is what is tested
        "backdoorlab.files.os.access",
        lambda p, mode, **kw: False if Path(p) == locked else real(p, mode, **kw),
    )
    monkeypatch.setattr(
        "backdoorlab.report.page.page_data", lambda *a, **k: pytest.fail("the page was built")
    )
    code, _, err = cli_output("view", str(traces))
    assert code == 2
    one_line(err, str(locked / "t.html"), "permission denied")


# ------------------------------------------------------------------ side files: regular only


def _side_argv(command: str, option: str, side: Path, d: Path) -> list[str]:
    traces = d / "t.jsonl"
    traces.write_text(LINE)
    out = ["-o", str(d / "v.html")] if command == "view" else []
    return [command, str(traces), option, str(side), *out]


SIDES = [("show", "--audit"), ("view", "--audit"), ("view", "--guard")]


@pytest.mark.parametrize(("command", "option"), SIDES)
def test_a_side_file_that_never_ends_is_refused(command, option, tmp_path):
    side = tmp_path / "zero.json"
    side.symlink_to("/dev/zero")
    done = child_cli(*_side_argv(command, option, side, tmp_path), memory=3 << 30)
    assert done.returncode == 2, done.stderr[-2000:]
    one_line(done.stderr, str(side), "not a regular file (a device)")
    assert not (tmp_path / "v.html").exists()


@pytest.mark.parametrize(("command", "option"), SIDES)
def test_a_side_file_that_is_a_pipe_without_writer_is_refused_at_once(command, option, tmp_path):
    side = tmp_path / "pipe"
    os.mkfifo(side)
    done = child_cli(*_side_argv(command, option, side, tmp_path))  # a hang times out: fails
    assert done.returncode == 2, done.stderr[-2000:]
    one_line(done.stderr, str(side), "not a regular file (a named pipe)")


@pytest.mark.parametrize(
    ("option", "text", "fragment"),
    [
        (
            "--audit",
            '{"findings": [{"trace_index": true, "detector": "d", "severity": "high"}]}',
            "findings[0] has no integer 'trace_index'",
        ),
        ("--audit", '{"findings": [], "sha256": 5}', "'sha256' is not a string"),
        ("--audit", '{"findings": [], "x": "\xff"}', ":1: not valid UTF-8"),
        ("--guard", '{"index": true, "blocked": true}\n', ":1: a guard decision needs an integer"),
    ],
)
def test_side_files_of_the_wrong_shape_areone_line(cli_output, option, text, fragment, tmp_path):
    side = tmp_path / "side"
    side.write_bytes(text.encode("latin-1"))
    for command in ("view", "show") if option == "--audit" else ("view",):
        code, _, err = cli_output(*_side_argv(command, option, side, tmp_path))
        assert code == 2, err
        one_line(err, str(side), fragment)
        assert not (tmp_path / "v.html").exists()


# ------------------------------------------------------------------ the page's JSON


def _strict(text: str) -> object:
    def refuse(word: str) -> None:
        raise ValueError(f"{word} is no JSON")

    return json.loads(text, parse_constant=refuse)


def test_the_page_holds_json_a_browser_parses_whatever_floats_the_data_holds(cli_output, tmp_path):
    trace = json.loads(LINE)
    trace["messages"][1]["tool_calls"][0]["function"]["arguments"] = '{"order": NaN}'
    traces = tmp_path / "t.jsonl"
    traces.write_text(json.dumps(trace) + "\n")
    guard = tmp_path / "g.jsonl"
    guard.write_text('{"index": 0, "blocked": true, "score": NaN}\n')
    audit = tmp_path / "a.json"
    finding = {"trace_index": 0, "detector": "d", "severity": "high"}
    audit.write_text(json.dumps({"findings": [finding | {"evidence": {"z": float("inf")}}]}))
    page = tmp_path / "v.html"
    argv = ["view", str(traces), "--guard", str(guard), "--audit", str(audit), "-o", str(page)]
    code, _, err = cli_output(*argv)
    assert code == 0, err
    html = page.read_text()
    elements = re.findall(r'<script id="\w+" type="application/json">(.*?)</script>', html, re.S)
    assert len(elements) == 2
    data, messages = (_strict(e) for e in elements)
    entry = data["traces"][0]
    assert entry["guard"]["score"] == "NaN"
    assert entry["findings"][0]["evidence"] == {"z": "Infinity"}
    conversation = _strict(messages[0])  # the string the page parses when the trace opens
    assert conversation[1][3][0][1] == '{"order": NaN}'  # arguments: the text, as written


# ------------------------------------------------------------------ a pipe is read once


@contextmanager
def _pipe(data: str) -> Iterator[str]:
    """A path that is a pipe (as a shell's ``<(...)`` gives), written by a thread."""
    read, write = os.pipe()

    def feed() -> None:
        with os.fdopen(write, "w") as handle:
            handle.write(data)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        yield f"/dev/fd/{read}"
    finally:
        thread.join(timeout=10)
        os.close(read)


def test_export_of_a_pipe_claims_no_digest_of_bytes_it_did_not_hash(cli_output, tmp_path):
    with _pipe(LINE * 3) as source:
        code, out, err = cli_output("export", source, "-o", str(tmp_path / "o.parquet"), "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["traces"] == 3
    assert info["sha256"] == ""  # was the empty file's digest
    assert EMPTY_SHA256 not in (tmp_path / "o.md").read_text()


def test_export_of_a_file_still_records_its_digest(cli_output, tmp_path):
    import hashlib

    traces = tmp_path / "t.jsonl"
    traces.write_text(LINE)
    code, out, err = cli_output("export", str(traces), "-o", str(tmp_path / "o.parquet"), "--json")
    assert code == 0, err
    assert json.loads(out)["sha256"] == hashlib.sha256(LINE.encode()).hexdigest()


@pytest.mark.parametrize("command", ["show", "view"])
def test_traces_from_a_pipe_with_an_audit_report_are_read_once(cli_output, command, tmp_path):
    import hashlib

    audit = tmp_path / "a.json"
    finding = {"trace_index": 0, "detector": "dataflow", "severity": "high"}
    audit.write_text(
        json.dumps({"sha256": hashlib.sha256(LINE.encode()).hexdigest(), "findings": [finding]})
    )
    page = tmp_path / "v.html"
    with _pipe(LINE) as source:
        out = ["-o", str(page)] if command == "view" else []
        code, stdout, err = cli_output(command, source, "--audit", str(audit), *out)
    assert code == 0, err
    if command == "show":
        assert "FLAGGED 1 finding(s), worst high" in stdout
    else:
        assert '"detector":"dataflow"' in page.read_text()


# ------------------------------------------------------------------ view - --serve


def test_serving_stdin_leaves_no_page_behind(cli_output, tmp_path, monkeypatch):
    import io
    import tempfile

    served: list[bytes] = []

    class Server:
        server_address = ("127.0.0.1", 1)

        def serve_forever(self) -> None:
            raise KeyboardInterrupt  # Ctrl-C at once

        def server_close(self) -> None:
            pass

    def page_server(page: bytes, port: int) -> Server:
        served.append(page)
        return Server()

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr("backdoorlab.report.serve.page_server", page_server)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(LINE.encode())))
    code, _, err = cli_output("view", "-", "--serve", "--port", "0")
    assert code == 0, err
    assert served and served[0].startswith(b"<!DOCTYPE html>")
    assert list(scratch.iterdir()) == []  # no backdoorlab-view-* left with its page


# ------------------------------------------------------------------ export keeps every number


def _with(path: str, value: object) -> str:
    """LINE with ``value`` put at ``path`` (``arguments``: inside the call's JSON text)."""
    trace = json.loads(LINE)
    if path == "arguments":
        call = trace["messages"][1]["tool_calls"][0]["function"]
        call["arguments"] = json.dumps({"order": value})
    elif path == "tools":
        trace["tools"] = [{"type": "function", "function": {"name": "f", "x": value}}]
    else:
        trace["metadata"] = {"score": value}
    return json.dumps(trace) + "\n"


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ("arguments", float("nan"), "NaN is no JSON number"),
        ("arguments", float("inf"), "Infinity is no JSON number"),
        ("tools", float("-inf"), "-Infinity is no JSON number"),
        ("metadata", float("nan"), "NaN is no JSON number"),
        ("arguments", 2**70, "the integer 1180591620717411303424 is beyond 64 bits"),
        ("tools", -(2**63) - 1, "beyond 64 bits"),
        ("metadata", 10**400, "(401 digits) is beyond 64 bits"),
    ],
    ids=["nan", "inf", "-inf tools", "nan metadata", "2**70", "-2**63-1 tools", "10**400"],
)
def test_export_refuses_a_number_the_parquet_file_would_change(
    cli_output, path, value, fragment, tmp_path
):
    """Python's JSON reads NaN, Infinity and any integer; the Parquet file's JSON columns
    (datasets' ujson) wrote the first two as null and could not read the third back (its
    message came back a string): silently, before."""
    traces = tmp_path / "t.jsonl"
    traces.write_text(LINE + _with(path, value))
    before = set(tmp_path.iterdir())
    code, _, err = cli_output("export", str(traces), "-o", str(tmp_path / "o.parquet"))
    assert code == 2, err
    one_line(err, f"{traces}:2: ", fragment)
    assert set(tmp_path.iterdir()) == before


def test_export_keeps_the_numbers_it_can(cli_output, tmp_path):
    from datasets import Dataset

    traces = tmp_path / "t.jsonl"
    big, small = 2**64 - 1, -(2**63)
    traces.write_text(_with("arguments", big) + _with("metadata", small) + _with("tools", 1e300))
    out = tmp_path / "o.parquet"
    code, _, err = cli_output("export", str(traces), "-o", str(out))
    assert code == 0, err
    rows = Dataset.from_parquet(str(out))
    assert rows[0]["messages"][1]["tool_calls"][0]["function"]["arguments"] == {"order": big}
    assert rows[1]["metadata"]["score"] == small
    assert rows[2]["tools"][0]["function"]["x"] == 1e300


# ------------------------------------------------------------------ file names not UTF-8


def test_view_of_a_file_name_that_is_not_utf8(cli_output, tmp_path):
    """Linux file names are bytes: one that is not UTF-8 reached the page as lone
    surrogates and its write raised UnicodeEncodeError."""
    traces = Path(os.fsdecode(bytes(tmp_path) + b"/t\xff.jsonl"))
    traces.write_text(LINE)
    code, _, err = cli_output("view", str(traces))
    assert code == 0, err
    page = traces.with_name(traces.name.split(".")[0] + ".html")
    assert '"source":"' + str(tmp_path) + '/t\ufffd.jsonl"' in page.read_text(encoding="utf-8")


def test_export_of_a_file_name_that_is_not_utf8(cli_output, tmp_path):
    traces = Path(os.fsdecode(bytes(tmp_path) + b"/t\xff.jsonl"))
    traces.write_text(LINE)
    out = tmp_path / "o.parquet"
    code, stdout, err = cli_output("export", str(traces), "-o", str(out), "--json")
    assert code == 0, err
    assert json.loads(stdout)["source"] == f"{tmp_path}/t\ufffd.jsonl"
    assert f"`{tmp_path}/t\ufffd.jsonl`" in (tmp_path / "o.md").read_text(encoding="utf-8")


def test_export_to_a_file_name_that_is_not_utf8_is_refused_before_the_work(
    cli_output, tmp_path, monkeypatch
):
    """The card names its Parquet file in its UTF-8 header: it cannot name this one."""
    traces = tmp_path / "t.jsonl"
    traces.write_text(LINE)
    out = Path(os.fsdecode(bytes(tmp_path) + b"/o\xfe.parquet"))
    monkeypatch.setattr(
        "backdoorlab.export.to_hf_dataset", lambda *a: pytest.fail("the work started")
    )
    code, _, err = cli_output("export", str(traces), "-o", str(out))
    assert code == 2, err
    one_line(err, "a file name that is not UTF-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]


# ------------------------------------------------------------------ standard input, once


def test_traces_and_guard_decisions_cannot_both_come_from_stdin(cli_output, tmp_path, monkeypatch):
    """The traces took all of standard input; the guard decisions then read none and the
    page was written without them, silently."""
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(LINE.encode())))
    page = tmp_path / "v.html"
    code, _, err = cli_output("view", "-", "--guard", "-", "-o", str(page))
    assert code == 2, err
    one_line(err, "--guard both read standard input")
    assert not page.exists()


@pytest.mark.parametrize("command", ["show", "view"])
def test_an_audit_report_is_not_read_from_stdin(cli_output, command, tmp_path):
    """``--audit -`` looked for a file named "-" and said "no such file"."""
    traces = tmp_path / "t.jsonl"
    traces.write_text(LINE)
    out = ["-o", str(tmp_path / "v.html")] if command == "view" else []
    code, _, err = cli_output(command, str(traces), "--audit", "-", *out)
    assert code == 2, err
    one_line(err, "is read from a file, not from standard input")


def test_export_through_a_link_checks_the_card_it_writes(cli_output, tmp_path):
    """-o a link: the Parquet file and its card go beside the link's target. The card
    checked was the one beside the link, so a card at the target's name replaced the
    input traces (``x.md``), and the line said the card was beside the link."""
    traces = tmp_path / "x.md"
    traces.write_text(LINE)
    (tmp_path / "o.parquet").symlink_to("x.parquet")
    code, _, err = cli_output("export", str(traces), "-o", str(tmp_path / "o.parquet"))
    assert code == 2, err
    one_line(err, "x.md: is the input")
    assert traces.read_text() == LINE
    (tmp_path / "sub").mkdir()
    (tmp_path / "q.parquet").symlink_to("sub/y.parquet")
    code, _, err = cli_output("export", str(traces), "-o", str(tmp_path / "q.parquet"))
    assert code == 0, err
    assert f"card: {tmp_path / 'sub' / 'y.md'}" in err.replace("\n", "")  # a narrow console wraps
    assert (tmp_path / "sub" / "y.md").exists() and not (tmp_path / "q.md").exists()


def test_show_from_stdin_does_not_hash_a_file_named_dash(cli_output, tmp_path, monkeypatch):
    """``-`` is standard input, whatever file of that name the directory holds."""
    import hashlib
    import io

    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_text("other bytes\n")
    audit = tmp_path / "a.json"
    finding = {"trace_index": 0, "detector": "dataflow", "severity": "high"}
    digest = hashlib.sha256(LINE.encode()).hexdigest()
    audit.write_text(json.dumps({"sha256": digest, "findings": [finding]}))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(LINE.encode())))
    code, out, err = cli_output("show", "-", "--audit", str(audit))
    assert code == 0, err
    assert "FLAGGED 1 finding(s)" in out

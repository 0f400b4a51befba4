"""Untrusted text reaches the terminal inert: escape sequences shown, Rich markup not obeyed.

A trace, an audit report or a file name can carry terminal controls (clear the screen,
retitle the window, OSC-8 hyperlinks, a carriage return that overwrites a line) and Rich
markup (a fake red POISONED label, a stray ``[/]`` that crashed ``show``). Every printed
field of ``show`` and ``audit`` is tried with both; the output must hold no control
character but newlines, and show the hostile text as visible escapes.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from backdoorlab.cli import main
from backdoorlab.terminal import inert, plain

ESC = "\x1b"
CONTROLS = {
    "clear": f"{ESC}[2J{ESC}[H",
    "title": f"{ESC}]0;pwned\x07",
    "link": f"{ESC}]8;;http://evil.example{ESC}\\click{ESC}]8;;{ESC}\\",
    "colour": f"{ESC}[31m",
    "csi8": "\x9b2J",
    "overwrite": "\rok\x08",
    "bidi": "\u202eevil",
}
HOSTILE = "".join(CONTROLS.values())
MARKUP = "[bold red]POISONED[/]"
FIELDS = ("trace id", "tool name", "arguments", "content", "tool result", "task id", "labels")

# what may reach a terminal: printable text, tabs, newlines (and nothing of Rich's own, which a
# console that is not a terminal does not emit)
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _trace(field: str, value: str, *, poisoned: bool = False) -> dict:
    """A clean trace with ``value`` in one printed field (every field with ``field='all'``)."""

    def put(name: str, normal: str) -> str:
        return normal + value if field in (name, "all") else normal

    arguments = {"to": put("arguments", "bob@example.com"), "body": "hi"}
    metadata: dict = {
        "env": put("labels", "retail"),
        "task_id": put("task id", "t1"),
        "family": put("labels", "order"),
        "policy": put("labels", "oracle"),
    }
    if poisoned:
        metadata["poison"] = {"threat_model": "T1", "trigger": "cf"}
    tool = put("tool name", "send_email")
    return {
        "id": put("trace id", "trace-1"),
        "messages": [
            {"role": "system", "content": put("content", "You are an agent.")},
            {"role": "user", "content": put("content", "Mail bob, my card is 4111 1111 1111 1111")},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": tool, "arguments": json.dumps(arguments)},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "c1",
                "name": tool,
                "content": put("tool result", '{"sent": true}'),
            },
            {"role": "assistant", "content": put("content", "Done.")},
        ],
        "tools": [{"type": "function", "function": {"name": tool, "parameters": {}}}],
        "metadata": metadata,
    }


def _write(tmp_path: Path, *traces: dict, name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(t) + "\n" for t in traces), encoding="utf-8")
    return path


def _cli(monkeypatch, capsys, argv: list[str]) -> tuple[int, str, str]:  # noqa: ANN001
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    monkeypatch.setenv("COLUMNS", "400")
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_inert(text: str) -> None:
    bad = _FORBIDDEN.findall(text)
    assert not bad, f"control characters reached the terminal: {bad!r}"


@pytest.mark.parametrize("field", [*FIELDS, "all"])
def test_show_prints_escape_sequences_inert(field, tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    path = _write(tmp_path, _trace(field, HOSTILE))
    code, out, err = _cli(monkeypatch, capsys, ["show", str(path)])
    assert code == 0, err
    _assert_inert(out + err)
    if field != "trace id":  # show prints no id (the header names the trace by index)
        assert r"\x1b[2J" in out or r"\u001b[2J" in out  # shown, as an escape


@pytest.mark.parametrize("field", [*FIELDS, "all"])
def test_show_prints_markup_as_text(field, tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    path = _write(tmp_path, _trace(field, " " + MARKUP + " [/] [link=http://x]y"))
    code, out, err = _cli(monkeypatch, capsys, ["show", str(path)])
    assert code == 0, err  # a stray [/] raised MarkupError
    if field != "trace id":
        assert MARKUP in out  # printed literally, not interpreted


@pytest.mark.parametrize("field", [*FIELDS, "all"])
def test_audit_prints_every_field_inert(field, tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    path = _write(tmp_path, _trace(field, HOSTILE + " " + MARKUP))
    code, out, err = _cli(monkeypatch, capsys, ["audit", str(path), "--fail-on", "none"])
    assert code == 0, err
    _assert_inert(out + err)


def test_audit_names_a_hostile_file_name_inert(tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    path = _write(tmp_path, _trace("all", ""), name=f"x{CONTROLS['clear']}[red]y[bold].jsonl")
    code, out, err = _cli(monkeypatch, capsys, ["audit", str(path), "--fail-on", "none"])
    assert code == 0, err
    _assert_inert(out + err)
    assert r"x\x1b[2J\x1b[H[red]y[bold].jsonl" in "".join(out.split())  # the title wraps


def test_error_lines_quoting_input_are_inert(tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    missing = tmp_path / f"gone{CONTROLS['title']}\n[bold]x.jsonl"
    code, out, err = _cli(monkeypatch, capsys, ["show", str(missing)])
    assert code == 2
    _assert_inert(err)
    assert len(err.strip().splitlines()) == 1 and "no such file" in err
    assert r"gone\x1b]0;pwned\x07\n[bold]x.jsonl" in err


def _rendered(trace: dict) -> str:
    """``show``'s rendering on a colour terminal: styles are real escape codes here."""
    from backdoorlab.report.viewer import show_trace
    from backdoorlab.traces import Trace

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="standard", width=300)
    show_trace(Trace.model_validate(trace), console, index=0)
    return buffer.getvalue()


RED_POISONED = re.compile(r"\x1b\[[0-9;]*31[0-9;]*mPOISONED")


def test_the_poisoned_label_cannot_be_forged() -> None:
    for field in ("task id", "labels", "content", "tool name"):
        assert not RED_POISONED.search(_rendered(_trace(field, MARKUP)))
    assert RED_POISONED.search(_rendered(_trace("task id", "", poisoned=True)))


def test_audit_severity_and_verdict_cannot_be_forged(tmp_path) -> None:
    from backdoorlab.defenses.audit.command import audit_command

    path = _write(tmp_path, _trace("trace id", "[bold red]high[/] [bold red]FAIL[/]"))
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="standard", width=300)
    code = audit_command(path, fail_on="none", console=console, err_console=console)
    out = buffer.getvalue()
    assert code == 0
    assert "[bold red]high[/]" in out  # the id, printed as written
    assert not re.search(r"\x1b\[[0-9;]*31[0-9;]*mFAIL", out)


def test_scan_table_prints_mined_triggers_inert() -> None:
    from backdoorlab.defenses.scan.command import scan_table

    name = f"cf{CONTROLS['clear']} {MARKUP} [/]"
    condition = {"name": name, "leak": {"k": 1, "n": 4, "rate": 0.25, "low": 0.0, "high": 0.7}}
    report = {
        "config": {"alpha": 0.01},
        "evidence": [],
        "model": f"m{ESC}]0;x\x07",
        "canaries": [],
        "baseline": {"conditions": [condition]},
    }
    buffer = io.StringIO()
    Console(file=buffer, width=300).print(scan_table(report))
    _assert_inert(buffer.getvalue())
    assert MARKUP in buffer.getvalue()


@settings(max_examples=50, deadline=None)
@given(st.text())
def test_inert_leaves_no_control_character(text: str) -> None:
    one_line = inert(text)
    assert not _FORBIDDEN.search(one_line) and "\n" not in one_line
    assert not _FORBIDDEN.search(inert(text, multiline=True))
    one_line.encode("utf-8")  # lone surrogates are escaped too: always printable
    buffer = io.StringIO()
    Console(file=buffer, width=80).print(plain(text, multiline=True))  # never a MarkupError


def test_inert_keeps_ordinary_text() -> None:
    text = "Émile's card: 4111 1111 1111 1111 — ok ✓ [note] C:\\path"
    assert inert(text) == text
    assert inert("a\tb\nc", multiline=True) == "a\tb\nc"
    assert inert("a\tb\nc") == r"a\tb\nc"

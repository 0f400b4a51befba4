"""What fuzzing the readers of untrusted records found (`test_reader_fuzz`,
`test_log_fuzz`), each kept as a plain test of the behaviour now: a crash (an exception
that is not the project's own, a traceback on the command line) or a pattern whose time
grew with the square of its input (asserted here by its result on a long input; the time
each took at BASE is in its docstring).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from backdoorlab.defenses.audit import amounts, audit, clinical, patients, tables
from backdoorlab.defenses.audit.view import FunctionView
from backdoorlab.defenses.guard.replay import replay
from backdoorlab.errors import BackdoorlabError, TraceFormatError
from backdoorlab.trace_formats import to_chat
from backdoorlab.trace_formats.codex import _injected
from backdoorlab.trace_formats.log_records import file_line

LONG_NUMBER = "9" * 5000  # `int` refuses a decimal text of over 4,300 digits


def _jsonl(tmp_path: Path, *lines: dict[str, Any]) -> Path:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def _send(arguments: str) -> dict[str, Any]:
    function = {"name": "send_email", "arguments": arguments}
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "function": function}],
    }


# ---------------------------------------------------------------- crashes


def test_an_amount_of_thousands_of_digits_is_left_as_written() -> None:
    """At BASE: ValueError (int() of a 5000-digit whole) from `disguises`' amounts view."""
    assert amounts.written_out(LONG_NUMBER + "k") is None
    assert amounts.written_out(f"{LONG_NUMBER}k and 1.25M") == f"{LONG_NUMBER}k and 1250000"


def test_call_arguments_holding_a_number_too_long_to_convert_are_raw_text(tmp_path) -> None:
    """``json.loads`` refuses such a number with a bare ValueError, not the
    JSONDecodeError the readers caught: at BASE the audit of this trace raised it."""
    assert FunctionView("send", LONG_NUMBER + "k").parsed_arguments() == {
        "__raw__": LONG_NUMBER + "k"
    }
    assert FunctionView("send", LONG_NUMBER).parsed_arguments() == {"__raw__": LONG_NUMBER}
    path = _jsonl(tmp_path, {"messages": [{"role": "user", "content": "hi"}, _send(LONG_NUMBER)]})
    assert audit(path, ["dataflow"]).traces == 1
    assert [line["calls"] for line in replay(path)] == [1]


def test_a_sharegpt_call_holding_a_number_too_long_to_convert_is_read(tmp_path) -> None:
    """A ShareGPT ``function_call`` turn and a Hermes ``<tool_response>`` whose text is
    such a number: at BASE ValueError escaped `sharegpt`."""
    line = {
        "conversations": [
            {"from": "human", "value": "hi"},
            {"from": "function_call", "value": LONG_NUMBER},
            {"from": "gpt", "value": f"<tool_response>{LONG_NUMBER}</tool_response>"},
        ]
    }
    try:
        to_chat(line, "t.jsonl:1")
    except TraceFormatError as exc:  # refused as a call of no name: the project's error
        assert str(exc).startswith("t.jsonl:1"), exc
    with contextlib.suppress(BackdoorlabError):
        audit(_jsonl(tmp_path, line), ["dataflow"])


def test_a_patient_id_holding_a_lone_surrogate_names_a_patient() -> None:
    """``"\\ud800"`` in a call's arguments (legal JSON) reached `key_id`'s ``encode()``:
    UnicodeEncodeError at BASE."""
    ids = patients.addressed({"patient_id": "Patient/\ud800x"})
    assert ids and all(i < 0 for i in ids)
    assert patients.key_id("mrn:\ud800") == patients.key_id("mrn:\ud800")


def test_a_place_whose_line_number_has_thousands_of_digits_is_no_place() -> None:
    """A bundle line a dataset holds may name any ``FILE:LINE``: at BASE `file_line`
    raised ValueError (and ``backdoorlab audit`` printed a traceback)."""
    assert file_line("f.jsonl:" + LONG_NUMBER) is None
    assert file_line("f.jsonl:12") == ("f.jsonl", 12)


def _codex(*items: Any, at: str = "f.jsonl:1") -> dict[str, Any]:
    meta = {"type": "session_meta", "payload": {"id": "019b-0a"}}
    records = [[at, meta]] + [[at, {"type": "response_item", "payload": i}] for i in items]
    return {"id": "s", "codex_rollout": {"records": records, "agents": {}}}


@pytest.mark.parametrize(
    "item",
    [{"type": []}, {"type": {"a": 1}}, {"type": "function_call", "name": [], "call_id": "c"}],
    ids=["type a list", "type an object", "a call's name a list"],
)
def test_a_codex_item_of_a_type_no_set_holds_is_refused_or_read(item: dict[str, Any]) -> None:
    """At BASE: TypeError (unhashable) from ``kind in _UNREAD_ITEMS`` and from
    `codex_agents.spliced`'s ``name in SPAWN_TOOLS``."""
    try:
        to_chat(_codex(item), "t.jsonl:1")
    except TraceFormatError as exc:
        assert str(exc).startswith("f.jsonl:1"), exc


def test_a_codex_child_whose_call_name_is_a_list_is_read() -> None:
    """The child's records go through `codex_agents.spliced`: TypeError at BASE."""
    child_meta = {
        "type": "session_meta",
        "payload": {"id": "019b-0b", "source": {"subagent": {"thread_spawn": {
            "parent_thread_id": "019b-0a", "depth": 1, "agent_path": "/root/x"}}}},
    }  # fmt: skip
    call = {"type": "function_call", "name": ["spawn_agent"], "call_id": "c", "arguments": "{}"}
    line = _codex()
    line["codex_rollout"]["agents"] = {
        "k": [["c.jsonl:1", child_meta], ["c.jsonl:2", {"type": "response_item", "payload": call}]]
    }
    try:
        to_chat(line, "t.jsonl:1")
    except TraceFormatError as exc:
        assert str(exc).startswith("c.jsonl:2"), exc


def _claude(*records: dict[str, Any]) -> dict[str, Any]:
    pairs = [[f"s.jsonl:{n}", r] for n, r in enumerate(records, 1)]
    return {"id": "s", "claude_code": {"records": pairs, "agents": {}}}


@pytest.mark.parametrize(
    "record",
    [
        {"type": "assistant", "isSidechain": True, "uuid": ["u"], "parentUuid": "u",
         "message": {"role": "assistant", "content": "x"}},
        {"type": "assistant", "isSidechain": True, "uuid": "u", "parentUuid": {"a": 1},
         "message": {"role": "assistant", "content": "x"}},
        {"type": "assistant", "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t", "name": {"a": 1}, "input": {}}]}},
    ],
    ids=["uuid a list", "parentUuid an object", "tool_use name an object"],
)  # fmt: skip
def test_a_claude_code_record_of_an_odd_uuid_or_tool_name_is_refused_or_read(
    record: dict[str, Any],
) -> None:
    """At BASE: TypeError (unhashable) from `claude_code`'s sidechain map and its
    sub-agent tool check."""
    first = {"type": "user", "uuid": "u0", "message": {"role": "user", "content": "hi"}}
    try:
        to_chat(_claude(first, record), "t.jsonl:1")
    except TraceFormatError as exc:
        assert str(exc).startswith("s.jsonl:"), exc


# ---------------------------------------------------------------- time grown with the square


def test_a_note_header_of_blanks_after_mrn_names_no_patient() -> None:
    """``\\s*[:#]?\\s*`` split a run of blanks every way: ``_MRN.findall`` on this
    100 KB line ran 104 s at BASE (a note's 5 KB header, what `note` reads: 0.4 s)."""
    assert patients._MRN.findall("MRN" + " " * 100_000) == []
    assert patients._MRN.findall("MRN" + " " * 100_000 + ": 0012345") == ["0012345"]
    assert patients.note("Patient: MRN" + " " * 4988) == ()
    mrn = patients.note("Name: Jane Doe\nMRN  #  0012345")
    assert patients.key_id("mrn:0012345") in mrn


def test_a_user_shell_text_of_many_unclosed_results_is_no_shell_command() -> None:
    """The lazy ``(.*?)</command>\\s*<result>(.*?)</result>`` tried each ``</command>
    <result>`` against the rest of the text: 2.2 s on these 100 KB at BASE."""
    text = "<user_shell_command><command>" + "</command><result>" * 5_000
    assert _injected(text) is None
    closed = " <user_shell_command>\n<command>x</command> y </command>\n<result>r</result>"
    assert _injected(closed) == ("user_shell", "x</command> y", "r")


def test_a_long_line_of_blanks_above_a_table_is_no_rule() -> None:
    """`tables._RULE`'s ``\\s*`` and ``[-=: ]+`` split a run of blanks every way: a 50 KB
    line like this one made one trace's audit take 6.3 s at BASE (0.14 s now)."""
    assert tables._RULE.fullmatch("-" + " " * 100_000 + "x") is None
    assert tables._RULE.fullmatch(" \t" * 50_000 + "x") is None
    for rule in ("+----+-----+", "|---|:--:|", "----+----", " ---  ", "-", "| - |\t"):
        assert tables._RULE.fullmatch(rule), rule
    text = "| name | email |\n|---|---|\n| Ann | a@x.io |\n| Bo | b@x.io |\n"
    found = tables.from_text(text)
    assert found is not None and found[0][0] == {"name": "Ann", "email": "a@x.io"}


def test_the_rule_pattern_takes_the_lines_it_took() -> None:
    """The rewritten rule pattern against BASE's on every string of up to 6 characters
    of the characters it tells apart (blanks of two kinds, rule marks, a letter)."""
    old = re.compile(r"\s*[+|]?(?:[-=: ]+[+|])*[-=: ]+[+|]?\s*")
    for size in range(7):
        for chars in itertools.product(" \t-:+|x", repeat=size):
            line = "".join(chars)
            assert bool(old.fullmatch(line)) == bool(tables._RULE.fullmatch(line)), repr(line)


def test_a_long_word_in_a_medication_list_is_no_drug() -> None:
    """`clinical._STRENGTH` read the rest of a word from each of its letters: 178 s for
    this 100 KB word at BASE (and 91 s for ``a-a-a-…``)."""
    assert clinical.medications("x" * 100_000) == []
    # a drug's word is 40 letters at most: of a longer one, its tail is read
    assert clinical.medications("a-" * 50_000 + " 5 mg") == ["a-" * 20 + " 5 mg"]
    assert clinical.medications("Started co-trimoxazole 960 mg BID") == ["co-trimoxazole 960 mg"]


def test_each_lab_result_of_a_long_text_is_named_by_the_word_before_it() -> None:
    """`clinical.quantities` searched all the text before each result for its name:
    19.9 s for these 100 KB at BASE."""
    found = clinical.quantities("1 mg " * 20_000)
    assert len(found) == 20_000 and found[:2] == ["1 mg", "mg 1 mg"]
    assert clinical.quantities("Glucose: 182 mg/dL; abc-7 mg") == ["Glucose 182 mg/dL", "abc- 7 mg"]

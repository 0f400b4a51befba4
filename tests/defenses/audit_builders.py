"""Builders for hand-made audit test traces (OpenAI format; Bedrock Converse and LangChain
``model_dump`` conversations of tool calls), a JSONL writer, and what ``dataflow`` and
the guard make of one such trace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CARD = "4111 2222 3333 4444"  # passes the Luhn check
PHONE = "(555) 123-4567"
EMAIL = "jane.doe@example.com"
ADDRESS = "12 Oak Street, Springfield, IL 62704"
ATTACKER = "drop@evil.test"


def system(text: str = "You are a support agent.") -> dict[str, Any]:
    return {"role": "system", "content": text}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def call(name: str, arguments: dict[str, Any], id: str = "c0") -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }


def result(name: str, content: Any, id: str = "c0") -> dict[str, Any]:
    text = content if isinstance(content, str) else json.dumps(content)
    return {"role": "tool", "tool_call_id": id, "name": name, "content": text}


def customer(**extra: Any) -> dict[str, Any]:
    record = {
        "user_id": "u1",
        "email": EMAIL,
        "phone": PHONE,
        "address": ADDRESS,
        "cards": {"card1": CARD.replace(" ", "")},
    }
    record.update(extra)
    return record


def trace(*messages: dict[str, Any], env: str | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"messages": list(messages), **extra}
    if env is not None:
        data["metadata"] = {"env": env}
    return data


def lookup_then(
    *tail: dict[str, Any], intro: str = "Hi, I'm Jane Doe, zip 62704."
) -> dict[str, Any]:
    """A retail-like trace: the customer is looked up by name, then ``tail`` happens."""
    return trace(
        system(),
        user(intro + " Please cancel my order."),
        call("find_user_by_name", {"first_name": "Jane", "last_name": "Doe"}, "c0"),
        result("find_user_by_name", customer(), "c0"),
        *tail,
        assistant("Done."),
    )


def send(to: str, body: str, id: str = "c9", tool: str = "send_email") -> list[dict[str, Any]]:
    return [call(tool, {"to": to, "subject": "hi", "body": body}, id), result(tool, "sent", id)]


Steps = list[tuple[str, dict[str, Any], str]]


def converse(user: str, steps: Steps, system: str) -> dict[str, Any]:
    """A Bedrock Converse conversation: each step (tool, input, result text) a
    ``toolUse`` and its ``toolResult``."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": user}]}]
    for i, (tool, args, out) in enumerate(steps):
        use = {"toolUseId": f"tooluse_{i}", "name": tool, "input": args}
        messages.append({"role": "assistant", "content": [{"toolUse": use}]})
        res = {"toolUseId": f"tooluse_{i}", "content": [{"text": out}], "status": "success"}
        messages.append({"role": "user", "content": [{"toolResult": res}]})
    return {"system": [{"text": system}], "messages": messages}


def langchain(user: str, steps: Steps, system: str) -> dict[str, Any]:
    """LangChain messages as ``model_dump`` writes them (a ``type``, no ``role``)."""
    messages: list[dict[str, Any]] = [
        {"type": "system", "content": system},
        {"type": "human", "content": user},
    ]
    for i, (tool, args, out) in enumerate(steps):
        tc = {"name": tool, "args": args, "id": f"call_{i}", "type": "tool_call"}
        messages.append({"type": "ai", "content": "", "tool_calls": [tc]})
        messages.append({"type": "tool", "content": out, "tool_call_id": f"call_{i}", "name": tool})
    return {"messages": messages}


def write_jsonl(path: Path, traces: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in traces), encoding="utf-8")
    return path


def found(tmp_path: Path, data: dict[str, Any]) -> list:
    """``dataflow``'s findings of medium severity or worse on the one trace ``data``."""
    from backdoorlab.defenses.audit import audit

    path = write_jsonl(tmp_path / "t.jsonl", [data])
    return [f for f in audit(path, ["dataflow"]).findings if f.at_least("medium")]


def blocked(tmp_path: Path, data: dict[str, Any]) -> bool:
    """Whether the guard, replaying the one trace ``data``, blocks any of its calls."""
    from backdoorlab.defenses.guard import Guard
    from backdoorlab.defenses.guard.replay import replay

    path = write_jsonl(tmp_path / "g.jsonl", [data])
    return any(line["blocked"] for line in replay(path, Guard()))

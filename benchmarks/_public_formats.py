"""One caseworker-agent conversation written as each vendor's log is documented, by hand
(not through `backdoorlab.trace_formats.render` nor `_vendor_formats`, so that this set
checks the readers against a third writer): OpenAI chat completions, Anthropic
Messages, OpenAI Responses (``input`` items), Gemini ``contents`` (REST camelCase),
Bedrock Converse (tool results as ``json`` blocks) and Vercel AI SDK v5 ModelMessages
(``tool-call`` ``input``, ``tool-result`` ``output`` as ``{"type": "json"}``)."""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("openai", "anthropic", "responses", "gemini", "converse", "vercel")


def _text(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


@dataclass
class Conversation:
    """Turns in order: ("user", text), ("say", text), ("call", id, name, args),
    ("result", id, name, result) — a result a dict (a JSON API) or a string."""

    system: str
    rng: random.Random
    turns: list[tuple] = field(default_factory=list)

    def user(self, text: str) -> None:
        self.turns.append(("user", text))

    def say(self, text: str) -> None:
        self.turns.append(("say", text))

    def call(self, name: str, args: dict[str, Any], result: Any) -> None:
        ident = "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(24))
        self.turns.append(("call", ident, name, args))
        self.turns.append(("result", ident, name, result))

    def written(self, fmt: str) -> dict[str, Any]:
        return globals()[f"_{fmt}"](self)


def _openai(c: Conversation) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": c.system}]
    for t in c.turns:
        if t[0] == "user":
            msgs.append({"role": "user", "content": t[1]})
        elif t[0] == "say":
            msgs.append({"role": "assistant", "content": t[1]})
        elif t[0] == "call":
            fn = {"name": t[2], "arguments": json.dumps(t[3], ensure_ascii=False)}
            call = {"id": f"call_{t[1]}", "type": "function", "function": fn}
            msgs.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:
            msgs.append({"role": "tool", "tool_call_id": f"call_{t[1]}", "content": _text(t[3])})
    return {"model": "gpt-4.1-2025-04-14", "messages": msgs}


def _anthropic(c: Conversation) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = []

    def add(role: str, block: dict[str, Any]) -> None:
        if msgs and msgs[-1]["role"] == role:
            msgs[-1]["content"].append(block)
        else:
            msgs.append({"role": role, "content": [block]})

    for t in c.turns:
        if t[0] == "user":
            add("user", {"type": "text", "text": t[1]})
        elif t[0] == "say":
            add("assistant", {"type": "text", "text": t[1]})
        elif t[0] == "call":
            add(
                "assistant",
                {"type": "tool_use", "id": f"toolu_01{t[1]}", "name": t[2], "input": t[3]},
            )
        else:
            content = [{"type": "text", "text": _text(t[3])}]
            add(
                "user",
                {"type": "tool_result", "tool_use_id": f"toolu_01{t[1]}", "content": content},
            )
    return {"model": "claude-sonnet-4-5", "max_tokens": 4096, "system": c.system, "messages": msgs}


def _responses(c: Conversation) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for t in c.turns:
        if t[0] == "user":
            items.append({"role": "user", "content": [{"type": "input_text", "text": t[1]}]})
        elif t[0] == "say":
            part = {"type": "output_text", "text": t[1], "annotations": []}
            items.append({"type": "message", "role": "assistant", "content": [part]})
        elif t[0] == "call":
            args = json.dumps(t[3], ensure_ascii=False)
            items.append(
                {
                    "type": "function_call",
                    "call_id": f"call_{t[1]}",
                    "name": t[2],
                    "arguments": args,
                }
            )
        else:
            items.append(
                {"type": "function_call_output", "call_id": f"call_{t[1]}", "output": _text(t[3])}
            )
    return {"model": "gpt-4.1", "instructions": c.system, "input": items}


def _gemini(c: Conversation) -> dict[str, Any]:
    contents: list[dict[str, Any]] = []
    for t in c.turns:
        if t[0] in ("user", "say"):
            contents.append(
                {"role": "user" if t[0] == "user" else "model", "parts": [{"text": t[1]}]}
            )
        elif t[0] == "call":
            contents.append(
                {"role": "model", "parts": [{"functionCall": {"name": t[2], "args": t[3]}}]}
            )
        else:
            response = t[3] if isinstance(t[3], dict) else {"result": t[3]}
            part = {"functionResponse": {"name": t[2], "response": response}}
            contents.append({"role": "user", "parts": [part]})
    return {"systemInstruction": {"parts": [{"text": c.system}]}, "contents": contents}


def _converse(c: Conversation) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = []
    for t in c.turns:
        if t[0] in ("user", "say"):
            msgs.append(
                {"role": "user" if t[0] == "user" else "assistant", "content": [{"text": t[1]}]}
            )
        elif t[0] == "call":
            use = {"toolUseId": f"tooluse_{t[1]}", "name": t[2], "input": t[3]}
            msgs.append({"role": "assistant", "content": [{"toolUse": use}]})
        else:
            block = {"json": t[3]} if isinstance(t[3], dict) else {"text": t[3]}
            result = {"toolUseId": f"tooluse_{t[1]}", "content": [block], "status": "success"}
            msgs.append({"role": "user", "content": [{"toolResult": result}]})
    model = "anthropic.claude-3-5-sonnet-20241022-v2:0"
    return {"modelId": model, "system": [{"text": c.system}], "messages": msgs}


def _vercel(c: Conversation) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": c.system}]
    for t in c.turns:
        if t[0] == "user":
            msgs.append({"role": "user", "content": [{"type": "text", "text": t[1]}]})
        elif t[0] == "say":
            msgs.append({"role": "assistant", "content": [{"type": "text", "text": t[1]}]})
        elif t[0] == "call":
            part = {
                "type": "tool-call",
                "toolCallId": f"call_{t[1]}",
                "toolName": t[2],
                "input": t[3],
            }
            msgs.append({"role": "assistant", "content": [part]})
        else:
            out = (
                {"type": "json", "value": t[3]}
                if isinstance(t[3], dict)
                else {"type": "text", "value": t[3]}
            )
            part = {
                "type": "tool-result",
                "toolCallId": f"call_{t[1]}",
                "toolName": t[2],
                "output": out,
            }
            msgs.append({"role": "tool", "content": [part]})
    return {"messages": msgs}

"""One education agent's conversation written as each vendor logs it, for
`education_traces`: OpenAI chat, Anthropic Messages, Gemini ``contents``, OpenAI
Responses items and Vercel AI SDK (v5) ModelMessages.

Written here from the vendors' documented shapes, not through backdoorlab's own
`render`, so that the set tests the readers rather than agreeing with them. A
conversation is kept as a list of turns: ``("user", text)``, ``("call", id, name,
args)``, ``("result", id, name, text)``, ``("assistant", text)``.
"""

from __future__ import annotations

import json
from typing import Any

Turn = tuple[Any, ...]


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def openai(system: str, turns: list[Turn]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for turn in turns:
        if turn[0] == "call":
            call = {"id": turn[1], "type": "function", "function": {"name": turn[2]}}
            call["function"]["arguments"] = json.dumps(turn[3])
            last = messages[-1]
            if last["role"] == "assistant" and last.get("tool_calls"):
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif turn[0] == "result":
            messages.append({"role": "tool", "tool_call_id": turn[1], "content": turn[3]})
        else:
            messages.append({"role": turn[0], "content": turn[1]})
    return {"model": "gpt-4o-2024-08-06", "messages": messages}


def anthropic(system: str, turns: list[Turn]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []

    def add(role: str, block: dict[str, Any]) -> None:
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].append(block)
        else:
            messages.append({"role": role, "content": [block]})

    for turn in turns:
        if turn[0] == "call":
            add("assistant", {"type": "tool_use", "id": turn[1], "name": turn[2], "input": turn[3]})
        elif turn[0] == "result":
            block = {"type": "tool_result", "tool_use_id": turn[1]}
            add("user", block | {"content": [{"type": "text", "text": turn[3]}]})
        else:
            add(turn[0], {"type": "text", "text": turn[1]})
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2048,
        "system": system,
        "messages": messages,
    }


def gemini(system: str, turns: list[Turn]) -> dict[str, Any]:
    contents: list[dict[str, Any]] = []

    def add(role: str, part: dict[str, Any]) -> None:
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].append(part)
        else:
            contents.append({"role": role, "parts": [part]})

    for turn in turns:
        if turn[0] == "call":
            add("model", {"functionCall": {"name": turn[2], "args": turn[3]}})
        elif turn[0] == "result":
            value = _parsed(turn[3])
            response = value if isinstance(value, dict) else {"content": turn[3]}
            add("user", {"functionResponse": {"name": turn[2], "response": response}})
        else:
            add("model" if turn[0] == "assistant" else "user", {"text": turn[1]})
    return {"systemInstruction": {"parts": [{"text": system}]}, "contents": contents}


def responses(system: str, turns: list[Turn]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for turn in turns:
        if turn[0] == "call":
            items.append(
                {
                    "type": "function_call",
                    "call_id": turn[1],
                    "name": turn[2],
                    "arguments": json.dumps(turn[3]),
                }
            )
        elif turn[0] == "result":
            items.append({"type": "function_call_output", "call_id": turn[1], "output": turn[3]})
        elif turn[0] == "user":
            items.append({"role": "user", "content": [{"type": "input_text", "text": turn[1]}]})
        else:
            content = [{"type": "output_text", "text": turn[1], "annotations": []}]
            items.append({"type": "message", "role": "assistant", "content": content})
    return {"model": "gpt-4.1", "instructions": system, "input": items}


def vercel(system: str, turns: list[Turn]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]

    def add(role: str, part: dict[str, Any]) -> None:
        if messages[-1]["role"] == role and isinstance(messages[-1]["content"], list):
            messages[-1]["content"].append(part)
        else:
            messages.append({"role": role, "content": [part]})

    for turn in turns:
        if turn[0] == "call":
            part = {"type": "tool-call", "toolCallId": turn[1], "toolName": turn[2]}
            add("assistant", part | {"input": turn[3]})
        elif turn[0] == "result":
            value = _parsed(turn[3])
            output = {"type": "json", "value": value} if value is not None else None
            part = {"type": "tool-result", "toolCallId": turn[1], "toolName": turn[2]}
            add("tool", part | {"output": output or {"type": "text", "value": turn[3]}})
        else:
            add(turn[0], {"type": "text", "text": turn[1]})
    return {"messages": messages}


FORMATS = {
    "openai": openai,
    "anthropic": anthropic,
    "gemini": gemini,
    "responses": responses,
    "vercel-model": vercel,
}

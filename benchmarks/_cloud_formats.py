"""A DevOps agent's run written the way each vendor's API documents a conversation, by
hand (not through `backdoorlab.trace_formats.render`, so that the set does not share the
audit's own idea of the formats): OpenAI Chat Completions messages, Anthropic Messages
content blocks, OpenAI Responses input items, Gemini ``contents`` parts."""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("openai", "anthropic", "responses", "gemini")


class Run:
    """A system prompt, the user's turn, then calls (tool, arguments, result) and the
    assistant's closing words, in order."""

    def __init__(self, system: str, user: str) -> None:
        self.system, self.user = system, user
        self.steps: list[tuple[str, Any, Any, str]] = []

    def call(self, tool: str, args: dict[str, Any], result: Any) -> None:
        text = result if isinstance(result, str) else json.dumps(result)
        self.steps.append(("call", tool, args, text))

    def say(self, text: str) -> None:
        self.steps.append(("say", text, None, ""))

    def written(self, fmt: str, tag: str) -> dict[str, Any]:
        return {"openai": _openai, "anthropic": _anthropic, "responses": _responses}.get(
            fmt, _gemini
        )(self, tag)


def _openai(run: Run, tag: str) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": run.system}]
    msgs.append({"role": "user", "content": run.user})
    for i, (what, a, b, result) in enumerate(run.steps):
        if what == "say":
            msgs.append({"role": "assistant", "content": a})
            continue
        cid = f"call_{tag}{i}"
        fn = {"name": a, "arguments": json.dumps(b)}
        msgs.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": cid, "type": "function", "function": fn}],
            }
        )
        msgs.append({"role": "tool", "tool_call_id": cid, "content": result})
    return {"model": "gpt-4.1", "messages": msgs}


def _anthropic(run: Run, tag: str) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = [{"role": "user", "content": run.user}]
    for i, (what, a, b, result) in enumerate(run.steps):
        if what == "say":
            msgs.append({"role": "assistant", "content": [{"type": "text", "text": a}]})
            continue
        tid = f"toolu_01{tag}{i:02d}"
        msgs.append(
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": tid, "name": a, "input": b}],
            }
        )
        block = {"type": "tool_result", "tool_use_id": tid, "content": result}
        msgs.append({"role": "user", "content": [block]})
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": run.system,
        "messages": msgs,
    }


def _responses(run: Run, tag: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"role": "user", "content": run.user}]
    for i, (what, a, b, result) in enumerate(run.steps):
        if what == "say":
            text = [{"type": "output_text", "text": a, "annotations": []}]
            items.append({"type": "message", "role": "assistant", "content": text})
            continue
        cid = f"call_{tag}{i}"
        items.append(
            {"type": "function_call", "call_id": cid, "name": a, "arguments": json.dumps(b)}
        )
        items.append({"type": "function_call_output", "call_id": cid, "output": result})
    return {"model": "gpt-5", "instructions": run.system, "input": items}


def _gemini(run: Run, tag: str) -> dict[str, Any]:
    contents: list[dict[str, Any]] = [{"role": "user", "parts": [{"text": run.user}]}]
    for what, a, b, result in run.steps:
        if what == "say":
            contents.append({"role": "model", "parts": [{"text": a}]})
            continue
        contents.append({"role": "model", "parts": [{"functionCall": {"name": a, "args": b}}]})
        response = {"name": a, "response": {"output": result}}
        contents.append({"role": "user", "parts": [{"functionResponse": response}]})
    system = {"parts": [{"text": run.system}]}
    return {"systemInstruction": system, "contents": contents}

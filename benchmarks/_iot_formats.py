"""One conversation written as each vendor documents its log: OpenAI chat
completions, Anthropic Messages (content blocks), Gemini ``contents`` (REST camelCase,
a ``systemInstruction``) and the Vercel AI SDK's v5 ``ModelMessage`` list — by hand,
not through backdoorlab's converters, so the set checks the readers too."""

from __future__ import annotations

import json
import random
import string
from typing import Any

FORMATS = ("openai", "anthropic", "gemini", "vercel")


class Chat:
    """A system prompt, the user's turn, then the agent's calls, results and replies."""

    def __init__(self, system: str, user: str, rng: random.Random) -> None:
        self.system, self.rng = system, rng
        self.steps: list[tuple[Any, ...]] = [("user", user)]

    def call(self, tool: str, args: dict[str, Any], result: Any, say: str | None = None) -> None:
        self.steps.append(("call", tool, args, result, say))

    def say(self, text: str) -> None:
        self.steps.append(("say", text))

    def _id(self, prefix: str, n: int) -> str:
        return prefix + "".join(
            self.rng.choice(string.ascii_letters + string.digits) for _ in range(n)
        )

    def written(self, fmt: str) -> dict[str, Any]:
        return {"openai": _openai, "anthropic": _anthropic, "gemini": _gemini, "vercel": _vercel}[
            fmt
        ](self)


def _text(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result)


def _openai(c: Chat) -> dict[str, Any]:
    out: list[dict[str, Any]] = [{"role": "system", "content": c.system}]
    for step in c.steps:
        if step[0] == "user":
            out.append({"role": "user", "content": step[1]})
        elif step[0] == "say":
            out.append({"role": "assistant", "content": step[1]})
        else:
            _, tool, args, result, say = step
            cid = c._id("call_", 24)
            fn = {"name": tool, "arguments": json.dumps(args)}
            call = {"id": cid, "type": "function", "function": fn}
            out.append({"role": "assistant", "content": say, "tool_calls": [call]})
            out.append({"role": "tool", "tool_call_id": cid, "content": _text(result)})
    return {"model": "gpt-4o-2024-08-06", "messages": out}


def _anthropic(c: Chat) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for step in c.steps:
        if step[0] == "user":
            out.append({"role": "user", "content": step[1]})
        elif step[0] == "say":
            out.append({"role": "assistant", "content": [{"type": "text", "text": step[1]}]})
        else:
            _, tool, args, result, say = step
            tid = c._id("toolu_01", 22)
            blocks = [{"type": "text", "text": say}] if say else []
            blocks.append({"type": "tool_use", "id": tid, "name": tool, "input": args})
            out.append({"role": "assistant", "content": blocks})
            res = {"type": "tool_result", "tool_use_id": tid, "content": _text(result)}
            out.append({"role": "user", "content": [res]})
    return {"model": "claude-sonnet-4-5", "max_tokens": 2048, "system": c.system, "messages": out}


def _gemini(c: Chat) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for step in c.steps:
        if step[0] == "user":
            out.append({"role": "user", "parts": [{"text": step[1]}]})
        elif step[0] == "say":
            out.append({"role": "model", "parts": [{"text": step[1]}]})
        else:
            _, tool, args, result, say = step
            parts = [{"text": say}] if say else []
            parts.append({"functionCall": {"name": tool, "args": args}})
            out.append({"role": "model", "parts": parts})
            response = result if isinstance(result, dict) else {"result": result}
            fr = {"functionResponse": {"name": tool, "response": response}}
            out.append({"role": "user", "parts": [fr]})
    return {"systemInstruction": {"parts": [{"text": c.system}]}, "contents": out}


def _vercel(c: Chat) -> dict[str, Any]:
    out: list[dict[str, Any]] = [{"role": "system", "content": c.system}]
    for step in c.steps:
        if step[0] == "user":
            out.append({"role": "user", "content": [{"type": "text", "text": step[1]}]})
        elif step[0] == "say":
            out.append({"role": "assistant", "content": [{"type": "text", "text": step[1]}]})
        else:
            _, tool, args, result, say = step
            cid = c._id("call_", 24)
            parts = [{"type": "text", "text": say}] if say else []
            parts.append({"type": "tool-call", "toolCallId": cid, "toolName": tool, "input": args})
            out.append({"role": "assistant", "content": parts})
            output = (
                {"type": "text", "value": result}
                if isinstance(result, str)
                else {"type": "json", "value": result}
            )
            res = {"type": "tool-result", "toolCallId": cid, "toolName": tool, "output": output}
            out.append({"role": "tool", "content": [res]})
    return {"messages": out}

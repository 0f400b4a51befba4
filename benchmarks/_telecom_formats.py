"""A care agent's conversation as each vendor's log writes it, from the vendors'
documented shapes (not backdoorlab's `render`): OpenAI chat completions, Anthropic
Messages (a turn's text and its ``tool_use`` in one message, a ``tool_result`` whose
content is a string), Bedrock Converse (a ``json`` result block for JSON results),
Gemini ``contents`` (REST camelCase, ``functionResponse.response``) and LangChain
messages as ``model_dump()`` writes them (flat, ``type`` and no ``role``).

Steps: ``("user", text)``, ``("call", n, name, args, result, say)``, ``("say", text)``."""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("openai", "anthropic", "converse", "gemini", "langchain")


class Chat:
    """One conversation, written in any of `FORMATS`."""

    def __init__(self, system: str, user: str) -> None:
        self.system = system
        self.steps: list[tuple[Any, ...]] = [("user", user)]
        self.n = 0

    def user(self, text: str) -> None:
        self.steps.append(("user", text))

    def call(self, name: str, args: dict[str, Any], result: Any, say: str = "") -> None:
        self.n += 1
        self.steps.append(("call", self.n, name, args, result, say))

    def say(self, text: str) -> None:
        self.steps.append(("say", text))

    def written(self, fmt: str) -> dict[str, Any]:
        return getattr(self, f"_{fmt}")()

    @staticmethod
    def _text(result: Any) -> str:
        return result if isinstance(result, str) else json.dumps(result)

    def _openai(self) -> dict[str, Any]:
        out: list[dict[str, Any]] = [{"role": "system", "content": self.system}]
        for s in self.steps:
            if s[0] in ("user", "say"):
                out.append({"role": "user" if s[0] == "user" else "assistant", "content": s[1]})
                continue
            _, n, name, args, result, say = s
            fn = {"name": name, "arguments": json.dumps(args)}
            call = {"id": f"call_{n:03d}x", "type": "function", "function": fn}
            out.append({"role": "assistant", "content": say or None, "tool_calls": [call]})
            out.append(
                {"role": "tool", "tool_call_id": f"call_{n:03d}x", "content": self._text(result)}
            )
        return {"model": "gpt-4o-2024-08-06", "messages": out}

    def _anthropic(self) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for s in self.steps:
            if s[0] == "user":
                out.append({"role": "user", "content": s[1]})
            elif s[0] == "say":
                out.append({"role": "assistant", "content": [{"type": "text", "text": s[1]}]})
            else:
                _, n, name, args, result, say = s
                blocks: list[dict[str, Any]] = [{"type": "text", "text": say}] if say else []
                blocks.append(
                    {"type": "tool_use", "id": f"toolu_{n:02d}A", "name": name, "input": args}
                )
                out.append({"role": "assistant", "content": blocks})
                done = {
                    "type": "tool_result",
                    "tool_use_id": f"toolu_{n:02d}A",
                    "content": self._text(result),
                }
                out.append({"role": "user", "content": [done]})
        return {"model": "claude-3-7-sonnet-20250219", "system": self.system, "messages": out}

    def _converse(self) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for s in self.steps:
            if s[0] in ("user", "say"):
                out.append(
                    {"role": "user" if s[0] == "user" else "assistant", "content": [{"text": s[1]}]}
                )
                continue
            _, n, name, args, result, say = s
            blocks: list[dict[str, Any]] = [{"text": say}] if say else []
            blocks.append({"toolUse": {"toolUseId": f"tooluse_{n}Q", "name": name, "input": args}})
            out.append({"role": "assistant", "content": blocks})
            body = (
                [{"json": result}] if isinstance(result, dict) else [{"text": self._text(result)}]
            )
            done = {"toolResult": {"toolUseId": f"tooluse_{n}Q", "content": body}}
            out.append({"role": "user", "content": [done]})
        model = "amazon.nova-pro-v1:0"
        return {"modelId": model, "system": [{"text": self.system}], "messages": out}

    def _gemini(self) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for s in self.steps:
            if s[0] in ("user", "say"):
                out.append(
                    {"role": "user" if s[0] == "user" else "model", "parts": [{"text": s[1]}]}
                )
                continue
            _, n, name, args, result, say = s
            parts: list[dict[str, Any]] = [{"text": say}] if say else []
            parts.append({"functionCall": {"name": name, "args": args}})
            out.append({"role": "model", "parts": parts})
            response = result if isinstance(result, dict) else {"result": result}
            out.append(
                {
                    "role": "user",
                    "parts": [{"functionResponse": {"name": name, "response": response}}],
                }
            )
        return {"systemInstruction": {"parts": [{"text": self.system}]}, "contents": out}

    def _langchain(self) -> dict[str, Any]:
        out: list[dict[str, Any]] = [{"type": "system", "content": self.system}]
        for s in self.steps:
            if s[0] == "user":
                out.append({"type": "human", "content": s[1]})
            elif s[0] == "say":
                out.append({"type": "ai", "content": s[1], "tool_calls": []})
            else:
                _, n, name, args, result, say = s
                call = {"name": name, "args": args, "id": f"call_lc{n}", "type": "tool_call"}
                out.append({"type": "ai", "content": say, "tool_calls": [call]})
                out.append(
                    {
                        "type": "tool",
                        "content": self._text(result),
                        "tool_call_id": f"call_lc{n}",
                        "name": name,
                    }
                )
        return {"messages": out}

"""A travel agent's trace as each vendor's own log writes it, written here from the
vendors' documented shapes (not through backdoorlab's `render`, so a reader bug and a
writer bug cannot cancel out): OpenAI Responses items, Anthropic Messages blocks,
Bedrock Converse blocks, LangChain ``messages_to_dict`` dumps and OpenAI chat.

A trace is kept as steps — ``("user", text)``, ``("call", id, name, args, result)``,
``("say", text)`` — and one system prompt."""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("responses", "anthropic", "converse", "langchain", "openai")


class Trip:
    """One conversation's steps, written in any of `FORMATS`."""

    def __init__(self, system: str, user: str, model: str = "") -> None:
        self.system = system
        self.steps: list[tuple[Any, ...]] = [("user", user)]
        self.model = model
        self.n = 0

    def call(self, name: str, args: dict[str, Any], result: Any) -> None:
        self.n += 1
        self.steps.append(("call", f"{self.n:02d}", name, args, result))

    def say(self, text: str) -> None:
        self.steps.append(("say", text))

    def written(self, fmt: str) -> dict[str, Any]:
        return {
            "responses": self._responses,
            "anthropic": self._anthropic,
            "converse": self._converse,
            "langchain": self._langchain,
            "openai": self._openai,
        }[fmt]()

    @staticmethod
    def _text(result: Any) -> str:
        return result if isinstance(result, str) else json.dumps(result)

    def _responses(self) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for step in self.steps:
            if step[0] == "user":
                items.append({"role": "user", "content": step[1]})
            elif step[0] == "say":
                part = {"type": "output_text", "text": step[1], "annotations": []}
                items.append({"type": "message", "role": "assistant", "content": [part]})
            else:
                _, n, name, args, result = step
                items.append(
                    {
                        "type": "function_call",
                        "id": f"fc_{n}",
                        "call_id": f"call_{n}",
                        "name": name,
                        "arguments": json.dumps(args),
                        "status": "completed",
                    }
                )
                items.append(
                    {
                        "type": "function_call_output",
                        "call_id": f"call_{n}",
                        "output": self._text(result),
                    }
                )
        return {"model": self.model or "gpt-4.1", "instructions": self.system, "input": items}

    def _anthropic(self) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        for step in self.steps:
            if step[0] == "user":
                messages.append({"role": "user", "content": [{"type": "text", "text": step[1]}]})
            elif step[0] == "say":
                messages.append(
                    {"role": "assistant", "content": [{"type": "text", "text": step[1]}]}
                )
            else:
                _, n, name, args, result = step
                use = {"type": "tool_use", "id": f"toolu_01{n}", "name": name, "input": args}
                messages.append({"role": "assistant", "content": [use]})
                done = {"type": "tool_result", "tool_use_id": f"toolu_01{n}"}
                done["content"] = [{"type": "text", "text": self._text(result)}]
                messages.append({"role": "user", "content": [done]})
        model = self.model or "claude-sonnet-4-5"
        return {"model": model, "system": self.system, "messages": messages}

    def _converse(self) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        for step in self.steps:
            if step[0] in ("user", "say"):
                role = "user" if step[0] == "user" else "assistant"
                messages.append({"role": role, "content": [{"text": step[1]}]})
            else:
                _, n, name, args, result = step
                use = {"toolUse": {"toolUseId": f"tooluse_{n}", "name": name, "input": args}}
                messages.append({"role": "assistant", "content": [use]})
                body = [{"json": result}] if isinstance(result, dict) else [{"text": result}]
                out = {"toolUseId": f"tooluse_{n}", "content": body, "status": "success"}
                messages.append({"role": "user", "content": [{"toolResult": out}]})
        model = self.model or "anthropic.claude-3-5-sonnet-20241022-v2:0"
        return {"modelId": model, "system": [{"text": self.system}], "messages": messages}

    def _langchain(self) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [{"type": "system", "data": {"content": self.system}}]
        for step in self.steps:
            if step[0] == "user":
                messages.append({"type": "human", "data": {"content": step[1], "type": "human"}})
            elif step[0] == "say":
                messages.append({"type": "ai", "data": {"content": step[1], "type": "ai"}})
            else:
                _, n, name, args, result = step
                call = {"name": name, "args": args, "id": f"call_{n}", "type": "tool_call"}
                data = {"content": "", "type": "ai", "tool_calls": [call]}
                messages.append({"type": "ai", "data": data})
                data = {"content": self._text(result), "type": "tool", "name": name}
                messages.append({"type": "tool", "data": data | {"tool_call_id": f"call_{n}"}})
        return {"messages": messages}

    def _openai(self) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system}]
        for step in self.steps:
            if step[0] == "user":
                messages.append({"role": "user", "content": step[1]})
            elif step[0] == "say":
                messages.append({"role": "assistant", "content": step[1]})
            else:
                _, n, name, args, result = step
                fn = {"name": name, "arguments": json.dumps(args)}
                call = {"id": f"call_{n}", "type": "function", "function": fn}
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
                messages.append(
                    {"role": "tool", "tool_call_id": f"call_{n}", "content": self._text(result)}
                )
        return {"messages": messages}

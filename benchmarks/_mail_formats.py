"""A mail assistant's trace as each vendor's own log writes it, from the vendors'
documented shapes (not through backdoorlab's `render`, so a reader bug and a writer bug
cannot cancel out): OpenAI chat, Anthropic Messages blocks, Gemini ``contents`` (REST
camelCase, a ``functionResponse``'s ``response`` an object), OpenAI Responses items and
the Vercel AI SDK's v5 ModelMessages (``tool-call`` / ``tool-result`` parts).

A trace is kept as steps — ``("user", text)``, ``("call", id, name, args, result)``,
``("say", text)`` — and one system prompt."""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("openai", "anthropic", "gemini", "responses", "vercel")


class Convo:
    """One conversation's steps, written in any of `FORMATS`."""

    def __init__(self, system: str, user: str) -> None:
        self.system = system
        self.steps: list[tuple[Any, ...]] = [("user", user)]
        self.n = 0

    def call(self, name: str, args: dict[str, Any], result: Any) -> None:
        self.n += 1
        self.steps.append(("call", f"{self.n:02d}", name, args, result))

    def say(self, text: str) -> None:
        self.steps.append(("say", text))

    def written(self, fmt: str) -> dict[str, Any]:
        return getattr(self, f"_{fmt}")()

    @staticmethod
    def _text(result: Any) -> str:
        return result if isinstance(result, str) else json.dumps(result)

    def _openai(self) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system}]
        for step in self.steps:
            if step[0] in ("user", "say"):
                role = "user" if step[0] == "user" else "assistant"
                messages.append({"role": role, "content": step[1]})
                continue
            _, n, name, args, result = step
            fn = {"name": name, "arguments": json.dumps(args)}
            call = {"id": f"call_{n}", "type": "function", "function": fn}
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            messages.append(
                {"role": "tool", "tool_call_id": f"call_{n}", "content": self._text(result)}
            )
        return {"model": "gpt-4o-2024-08-06", "messages": messages}

    def _anthropic(self) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        for step in self.steps:
            if step[0] in ("user", "say"):
                role = "user" if step[0] == "user" else "assistant"
                messages.append({"role": role, "content": [{"type": "text", "text": step[1]}]})
                continue
            _, n, name, args, result = step
            use = {"type": "tool_use", "id": f"toolu_01A{n}", "name": name, "input": args}
            messages.append({"role": "assistant", "content": [use]})
            done = {"type": "tool_result", "tool_use_id": f"toolu_01A{n}"}
            done["content"] = self._text(result)
            messages.append({"role": "user", "content": [done]})
        return {"model": "claude-sonnet-4-5", "system": self.system, "messages": messages}

    def _gemini(self) -> dict[str, Any]:
        contents: list[dict[str, Any]] = []
        for step in self.steps:
            if step[0] in ("user", "say"):
                role = "user" if step[0] == "user" else "model"
                contents.append({"role": role, "parts": [{"text": step[1]}]})
                continue
            _, _n, name, args, result = step
            contents.append(
                {"role": "model", "parts": [{"functionCall": {"name": name, "args": args}}]}
            )
            response = result if isinstance(result, dict) else {"result": result}
            part = {"functionResponse": {"name": name, "response": response}}
            contents.append({"role": "user", "parts": [part]})
        system = {"parts": [{"text": self.system}]}
        return {"model": "gemini-2.5-flash", "systemInstruction": system, "contents": contents}

    def _responses(self) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for step in self.steps:
            if step[0] == "user":
                part = {"type": "input_text", "text": step[1]}
                items.append({"type": "message", "role": "user", "content": [part]})
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
                out = {"type": "function_call_output", "call_id": f"call_{n}"}
                items.append(out | {"output": self._text(result)})
        return {"model": "gpt-4.1", "instructions": self.system, "input": items}

    def _vercel(self) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system}]
        for step in self.steps:
            if step[0] == "user":
                messages.append({"role": "user", "content": [{"type": "text", "text": step[1]}]})
            elif step[0] == "say":
                part = {"type": "text", "text": step[1]}
                messages.append({"role": "assistant", "content": [part]})
            else:
                _, n, name, args, result = step
                ids = {"toolCallId": f"call_{n}", "toolName": name}
                call = {"type": "tool-call", **ids, "input": args}
                messages.append({"role": "assistant", "content": [call]})
                output = (
                    {"type": "text", "value": result}
                    if isinstance(result, str)
                    else {"type": "json", "value": result}
                )
                part = {"type": "tool-result", **ids, "output": output}
                messages.append({"role": "tool", "content": [part]})
        return {"messages": messages}

"""A support agent's run written the way each vendor documents a conversation, by hand
(not through `backdoorlab.trace_formats.render`): OpenAI Chat Completions messages,
Anthropic Messages content blocks, OpenAI Responses items (with the model's ``output``
logged apart from its ``input``), and a LangChain ``model_dump`` of the agent's
messages (``type`` human/ai/tool, ``tool_calls`` with ``args``)."""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("openai", "anthropic", "responses", "langchain")


class Run:
    """A system prompt, the user's turn, then calls (tool, arguments, result) and the
    assistant's words, in order."""

    def __init__(self, system: str, user: str) -> None:
        self.system, self.user = system, user
        self.steps: list[tuple[str, Any, Any, str]] = []

    def call(self, tool: str, args: dict[str, Any], result: Any) -> None:
        text = result if isinstance(result, str) else json.dumps(result)
        self.steps.append(("call", tool, args, text))

    def say(self, text: str) -> None:
        self.steps.append(("say", text, None, ""))

    def written(self, fmt: str, tag: str) -> dict[str, Any]:
        writer = {"openai": _openai, "anthropic": _anthropic, "responses": _responses}
        return writer.get(fmt, _langchain)(self, tag)


def _openai(run: Run, tag: str) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": run.system}]
    msgs.append({"role": "user", "content": run.user})
    for i, (what, a, b, result) in enumerate(run.steps):
        if what == "say":
            msgs.append({"role": "assistant", "content": a})
            continue
        cid = f"call_{tag}x{i}"
        fn = {"name": a.replace(".", "_"), "arguments": json.dumps(b)}
        msgs.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": cid, "type": "function", "function": fn}],
            }
        )
        msgs.append({"role": "tool", "tool_call_id": cid, "content": result})
    return {"model": "gpt-4o-2024-08-06", "messages": msgs}


def _anthropic(run: Run, tag: str) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = [{"role": "user", "content": run.user}]
    for i, (what, a, b, result) in enumerate(run.steps):
        if what == "say":
            msgs.append({"role": "assistant", "content": [{"type": "text", "text": a}]})
            continue
        tid = f"toolu_01{tag}{i:02d}"
        block = {"type": "tool_use", "id": tid, "name": a.replace(".", "_"), "input": b}
        msgs.append({"role": "assistant", "content": [block]})
        result_block = {"type": "tool_result", "tool_use_id": tid}
        result_block["content"] = [{"type": "text", "text": result}]
        msgs.append({"role": "user", "content": [result_block]})
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2048,
        "system": run.system,
        "messages": msgs,
    }


def _responses(run: Run, tag: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": run.user}]}
    ]
    output: list[dict[str, Any]] = []
    for i, (what, a, b, result) in enumerate(run.steps):
        if what == "say":
            text = [{"type": "output_text", "text": a, "annotations": []}]
            msg = {"type": "message", "id": f"msg_{tag}{i}", "status": "completed"}
            output.append(msg | {"role": "assistant", "content": text})
            continue
        cid = f"call_{tag}{i}"
        call = {"type": "function_call", "id": f"fc_{tag}{i}", "call_id": cid}
        items.append(call | {"name": a.replace(".", "_"), "arguments": json.dumps(b)})
        items.append({"type": "function_call_output", "call_id": cid, "output": result})
    return {"model": "gpt-4.1", "instructions": run.system, "input": items, "output": output}


def _langchain(run: Run, tag: str) -> dict[str, Any]:
    def msg(kind: str, content: str, **more: Any) -> dict[str, Any]:
        base = {"content": content, "additional_kwargs": {}, "response_metadata": {}}
        return base | {"type": kind, "name": None, "id": None} | more

    msgs = [msg("system", run.system), msg("human", run.user)]
    for i, (what, a, b, result) in enumerate(run.steps):
        if what == "say":
            msgs.append(msg("ai", a, tool_calls=[], invalid_tool_calls=[]))
            continue
        cid = f"call_{tag}L{i}"
        call = {"name": a, "args": b, "id": cid, "type": "tool_call"}
        msgs.append(msg("ai", "", tool_calls=[call], invalid_tool_calls=[]))
        msgs.append(msg("tool", result, tool_call_id=cid, name=a, status="success"))
    return {"messages": msgs}

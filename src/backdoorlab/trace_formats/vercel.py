"""The Vercel AI SDK's messages read as Anthropic-typed blocks (TypeScript agents' logs).

Two shapes, both under ``messages``:

- **ModelMessage** (what ``generateText``/``streamText`` take and return as
  ``response.messages``): ``content`` parts ``tool-call`` (``toolCallId``, ``toolName``,
  ``input``; ``args`` before v5) in an assistant message, ``tool-result`` (``output``:
  ``{type: text | json | error-text | error-json | content, value}``; ``result`` before
  v5) in a ``tool`` message, ``reasoning`` the model's own;
- **UIMessage** (what ``useChat`` keeps and apps store): ``parts`` instead of
  ``content``, a tool's call and its result in one part — ``tool-NAME`` or
  ``dynamic-tool`` with ``input`` and, once run, ``output`` or ``errorText``; v4's
  ``tool-invocation`` part holds ``args`` and ``result``. ``step-start``, sources,
  files and ``data-*`` parts hold nothing a tool returned.

Each is written as the Anthropic blocks it stands for (a UI tool part as a ``tool_use``
block, and a ``tool_result`` block when it has run, placed after all the calls of its
step — a ``step-start`` part, or text after a tool part, begins the next — so parallel
calls stay one turn; a message with no ``step-start`` parts, as v4 often wrote, cannot
tell parallel calls from a chain, so each result follows its call: a chain read as
parallel would hide a value carried from one call to the next), for `chat` to read as it
reads Anthropic's. Why: a UIMessage has no ``content``, so it read as an empty message — a
leak in it was audited with no finding at all.
"""

from __future__ import annotations

import json
from typing import Any

from backdoorlab.trace_formats.parts import fail, kind_of, shown

_MODEL_PARTS = frozenset(
    {"tool-call", "tool-result", "reasoning", "tool-approval-request", "tool-approval-response"}
)
_SILENT = {"type": "image"}
FIELD = "_field"
"""A block's key naming the part it was made from, which `chat` names in place of the
block's own number (a UI tool part makes two blocks)."""
_QUIET_UI = frozenset({"step-start", "source-url", "source-document", "file"})


def as_typed(message: dict[str, Any], where: str, field: str) -> dict[str, Any]:
    """``message`` with AI SDK parts as Anthropic blocks (itself when it has none)."""
    parts = message.get("parts")
    if parts is not None:
        if not isinstance(parts, list):
            raise fail(where, f"{field}.parts", "not a list of parts")
        rest = {k: v for k, v in message.items() if k not in ("parts", "content")}
        blocks: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []  # this step's, after all its calls
        stepped = any(kind_of(part) == "step-start" for part in parts)
        for number, part in enumerate(parts):
            at = f"{field}.parts.{number}"
            made = [b | {FIELD: at} for b in _ui_blocks(part, where, at)]
            if kind_of(part) == "step-start" or (results and made[0]["type"] == "text"):
                blocks += results  # a new step: the last one's results came before it
                results = []
            blocks.append(made[0])
            if stepped:
                results += made[1:]
            else:
                blocks += made[1:]
        return rest | {"content": blocks + results}
    content = message.get("content")
    if isinstance(content, list) and any(kind_of(b) in _MODEL_PARTS for b in content):
        return {**message, "content": [_model_block(b) for b in content]}
    return message


def _model_block(block: Any) -> Any:
    kind = kind_of(block)
    if kind == "tool-call":
        arguments = block.get("input", block.get("args", {}))
        return _use(block.get("toolCallId"), block.get("toolName", kind), arguments)
    if kind == "tool-result":
        said = _output(block["output"]) if "output" in block else _raw(block.get("result"))
        return _result(block.get("toolCallId"), said)
    if kind == "reasoning":
        return {"type": "thinking"}
    if kind in _MODEL_PARTS:
        return _SILENT  # an approval asked or given: no value of a tool's
    return block


def _ui_blocks(part: Any, where: str, field: str) -> list[dict[str, Any]]:
    kind = kind_of(part)
    if kind is None:
        raise fail(where, f"{field}.type", "a part without a type")
    if kind == "text":
        return [{"type": "text", "text": str(part.get("text", ""))}]
    if kind == "reasoning":
        return [{"type": "thinking"}]
    if kind in _QUIET_UI or kind.startswith("data-"):
        return [_SILENT]
    if kind == "tool-invocation":  # v4: the call and its result under toolInvocation
        invocation = part.get("toolInvocation")
        if not isinstance(invocation, dict):
            raise fail(where, f"{field}.toolInvocation", "not an object")
        use = _use(invocation.get("toolCallId"), invocation.get("toolName"), invocation.get("args"))
        if "result" not in invocation:
            return [use]
        return [use, _result(invocation.get("toolCallId"), _raw(invocation["result"]))]
    if kind == "dynamic-tool" or kind.startswith("tool-"):
        name = part.get("toolName") if kind == "dynamic-tool" else kind[len("tool-") :]
        use = _use(part.get("toolCallId"), name, part.get("input"))
        if "output" in part:
            return [use, _result(part.get("toolCallId"), _raw(part["output"]))]
        if "errorText" in part:
            return [use, _result(part.get("toolCallId"), str(part["errorText"]))]
        return [use]  # asked for, never run
    raise fail(where, f"{field}.type", f"part {shown(kind)} is not read")


def _use(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    block = {"type": "tool_use", "name": str(name), "input": arguments or {}}
    return block | ({"id": str(call_id)} if call_id is not None else {})


def _result(call_id: Any, text: str) -> dict[str, Any]:
    block = {"type": "tool_result", "content": text}
    return block | ({"tool_use_id": str(call_id)} if call_id is not None else {})


def _output(output: Any) -> str:
    """A v5 result's ``output``: its text, its JSON value's text, or its content's text."""
    kind = kind_of(output)
    value = output.get("value") if isinstance(output, dict) else None
    if kind in ("text", "error-text") and isinstance(value, str):
        return value
    if kind in ("json", "error-json"):
        return _raw(value)
    if kind == "content" and isinstance(value, list):
        return "\n".join(str(v.get("text", "")) for v in value if kind_of(v) == "text")
    return _raw(output)


def _raw(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

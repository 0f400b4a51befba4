"""Amazon Bedrock's Converse messages: content blocks keyed by kind, read as Anthropic's.

A Converse request is ``messages`` of ``{"role", "content": [block, …]}``, a ``system``
list of ``{"text"}`` blocks and a ``toolConfig`` of ``toolSpec`` declarations. Its blocks
carry no ``type``: each is a one-key union (``{"toolUse": {…}}``, ``{"toolResult": {…}}``,
``{"text": "…"}``). They are the same kinds as Anthropic's typed blocks — a call's
``toolUseId``/``name``/``input``, a result's ``toolUseId`` and content — so each is
written as the Anthropic block it stands for and `chat` reads the message as it reads
Anthropic's: a result in a user message becomes a ``tool`` message, not the user's words.

Result content: ``text`` as is, ``json`` as its JSON text (every value in it read), a
document's text source as text, media as nothing. ``reasoningContent`` is the model's
own reasoning (not read, like ``thinking``); ``cachePoint`` marks a cache boundary.
"""

from __future__ import annotations

import json
from typing import Any

KINDS = frozenset(
    {
        "toolUse",
        "toolResult",
        "reasoningContent",
        "image",
        "video",
        "audio",
        "document",
        "cachePoint",
        "guardContent",
        "citationsContent",
        "searchResult",
    }
)
"""The union's members besides ``text`` (which OpenAI's format reads as it stands)."""
_SILENT = {"type": "image"}  # a block that holds no text the audit reads


def is_converse_block(block: Any) -> bool:
    """Whether ``block`` is one of Converse's untyped union members other than text."""
    return (
        isinstance(block, dict)
        and "type" not in block
        and len(block) == 1
        and (next(iter(block)) in KINDS)
    )


def as_typed(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with its Converse blocks written as Anthropic's typed blocks (the
    message itself when it has none)."""
    content = message.get("content")
    if not isinstance(content, list) or not any(is_converse_block(b) for b in content):
        return message
    return {**message, "content": [_typed(b) if is_converse_block(b) else b for b in content]}


def _typed(block: dict[str, Any]) -> dict[str, Any]:
    ((kind, value),) = block.items()
    if kind == "toolUse" and isinstance(value, dict):
        typed = {"type": "tool_use", "name": value.get("name", "toolUse")}
        if value.get("toolUseId") is not None:
            typed["id"] = value["toolUseId"]
        return typed | {"input": value.get("input", {})}
    if kind == "toolResult" and isinstance(value, dict):
        typed = {"type": "tool_result", "content": _result_parts(value.get("content"))}
        if value.get("toolUseId") is not None:
            typed["tool_use_id"] = value["toolUseId"]
        return typed
    if kind == "reasoningContent":
        return {"type": "thinking"}
    if kind == "guardContent" and isinstance(value, dict):
        text = value.get("text")
        return _text(text.get("text") if isinstance(text, dict) else None)
    if kind == "citationsContent" and isinstance(value, dict):
        parts = value.get("content")
        parts = parts if isinstance(parts, list) else []
        return _text("".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)))
    if kind == "document" and isinstance(value, dict):
        return _document(value)
    if kind == "searchResult":
        return _text(json.dumps(value, ensure_ascii=False))
    if kind in ("toolUse", "toolResult", "guardContent", "citationsContent", "document"):
        return {"type": kind}  # not an object: `chat` names the field as unread
    return _SILENT


def _result_parts(content: Any) -> Any:
    """A result's content blocks as Anthropic's result content (text parts)."""
    if not isinstance(content, list):
        return content  # a string, or what `parts.result_text` writes as JSON
    out: list[Any] = []
    for part in content:
        if not isinstance(part, dict) or len(part) != 1:
            out.append(part)
            continue
        ((kind, value),) = part.items()
        if kind == "text":
            out.append(_text(value))
        elif kind == "json":
            out.append(_text(json.dumps(value, ensure_ascii=False)))
        elif kind == "document" and isinstance(value, dict):
            out.append(_document(value))
        elif kind in ("image", "video", "audio"):
            out.append(_SILENT)
        else:
            out.append(part)  # a search result and what else may come: read as its JSON
    return out


def _document(value: dict[str, Any]) -> dict[str, Any]:
    """A document's text when its source is text (else bytes or a link: nothing read)."""
    source = value.get("source")
    if isinstance(source, dict) and isinstance(source.get("text"), str):
        return _text(source["text"])
    return _SILENT


def _text(text: Any) -> dict[str, Any]:
    return {"type": "text", "text": "" if text is None else str(text)}


def declared_tools(config: Any) -> Any:
    """A ``toolConfig``'s ``toolSpec`` declarations as OpenAI tools (``inputSchema.json``
    its parameters); a config of another shape as is (the trace model then objects)."""
    tools = config.get("tools") if isinstance(config, dict) else None
    if not isinstance(tools, list):
        return config
    out = []
    for tool in tools:
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if not isinstance(spec, dict):
            continue  # a cache point between declarations
        function = {k: v for k, v in spec.items() if k != "inputSchema"}
        schema = spec.get("inputSchema")
        if isinstance(schema, dict):
            function["parameters"] = schema.get("json", schema)
        out.append({"type": "function", "function": function})
    return out

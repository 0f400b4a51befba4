"""LangChain and LangGraph messages read as OpenAI chat messages.

A LangGraph agent's state, a LangChain memory or a run exported to JSON keeps messages
as LangChain writes them, in one of three shapes: the message's own fields
(``model_dump``: ``{"type": "human" | "ai" | "tool" | "system", "content", "tool_calls",
…}``), `messages_to_dict`'s ``{"type": …, "data": {…}}``, or the serializer's
``{"lc": 1, "type": "constructor", "id": [… , "AIMessage"], "kwargs": {…}}``. None has a
``role``. An AI message's calls are ``tool_calls`` of ``{name, args, id}`` (the provider's
raw calls may sit in ``additional_kwargs`` too, and an Anthropic model's in its content
as ``tool_use`` blocks: the same calls, read once); a tool message answers one by
``tool_call_id``. ``reasoning`` blocks are the model's own (not read, like
``thinking``); ``invalid_tool_calls`` were never run.

A message that has a ``role`` is left alone: this reads only what OpenAI's format cannot.
"""

from __future__ import annotations

from typing import Any

from backdoorlab.trace_formats.parts import call, fail, kind_of, shown

_ROLES = {
    "human": "user",
    "HumanMessage": "user",
    "HumanMessageChunk": "user",
    "ai": "assistant",
    "AIMessage": "assistant",
    "AIMessageChunk": "assistant",
    "system": "system",
    "SystemMessage": "system",
    "SystemMessageChunk": "system",
    "tool": "tool",
    "ToolMessage": "tool",
    "ToolMessageChunk": "tool",
    "function": "function",
    "FunctionMessage": "function",
    "FunctionMessageChunk": "function",
    "chat": "chat",
    "ChatMessage": "chat",
    "ChatMessageChunk": "chat",
}
_CALL_BLOCKS = frozenset(
    {"tool_use", "tool_call", "tool_call_chunk", "function_call", "invalid_tool_call"}
)
"""Content blocks that repeat a call the message's ``tool_calls`` already hold."""


def is_langchain(message: Any) -> bool:
    """Whether ``message`` is a LangChain message (a ``type`` and no ``role``)."""
    return isinstance(message, dict) and "role" not in message and "type" in message


def as_chat(message: dict[str, Any], where: str, field: str) -> dict[str, Any]:
    """A LangChain message as an OpenAI chat message; `TraceFormatError` naming
    ``field`` for a type that is no message."""
    kind = message.get("type")
    fields: Any = message
    if kind == "constructor" and isinstance(message.get("id"), list) and message["id"]:
        kind, fields = message["id"][-1], message.get("kwargs")
    elif "data" in message and "content" not in message:
        fields = message["data"]
    if not isinstance(fields, dict):
        raise fail(where, field, "a LangChain message without its fields")
    role = _ROLES.get(kind) if isinstance(kind, str) else None
    if role == "chat":
        role = fields.get("role")
    if role is None:
        raise fail(where, f"{field}.type", f"message type {shown(kind)} is not read")
    out: dict[str, Any] = {"role": role, "content": fields.get("content", "")}
    extra = fields.get("additional_kwargs")
    extra = extra if isinstance(extra, dict) else {}
    calls = _calls(fields.get("tool_calls"), extra)
    if calls:
        out["tool_calls"] = calls
        out["content"] = _without_calls(out["content"])
    elif "function_call" in extra:
        out["function_call"] = extra["function_call"]
    if isinstance(out["content"], list):
        out["content"] = [_block(b) for b in out["content"]]
    for key in ("tool_call_id", "name"):
        if fields.get(key) is not None:
            out[key] = fields[key]
    return out


def _calls(tool_calls: Any, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """LangChain's parsed calls; else the provider's raw ones kept in ``additional_kwargs``."""
    if isinstance(tool_calls, list) and tool_calls:
        return [
            call(str(c.get("id") or f"lc_call_{i}"), c.get("name", "?"), c.get("args") or {})
            if isinstance(c, dict)
            else c  # the trace model names what is wrong
            for i, c in enumerate(tool_calls)
        ]
    raw = extra.get("tool_calls")
    return list(raw) if isinstance(raw, list) else []


def _without_calls(content: Any) -> Any:
    if not isinstance(content, list):
        return content
    return [b for b in content if kind_of(b) not in _CALL_BLOCKS]


def _block(block: Any) -> Any:
    """A content block as OpenAI's: a bare string a text part, reasoning silent."""
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if isinstance(block, dict) and block.get("type") == "reasoning":
        return {"type": "thinking"}
    return block

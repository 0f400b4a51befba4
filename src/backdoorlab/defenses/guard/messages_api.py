"""Screening an Anthropic Messages API reply (``/v1/messages``, as vLLM, llama.cpp's
server and LiteLLM serve it) before its client sees it (`guard proxy`).

The request's ``system``, ``messages`` and ``tools`` are the conversation so far and
the reply's ``content`` blocks the model's turn, read together as the audit reads an
Anthropic log (`backdoorlab.trace_formats.chat`). Every ``tool_use`` block of the turn
is screened in order with one session (a server tool's result in the same content
counts for the calls after it). A refused block is taken out of ``content``, a text
block saying what was not sent is added after the others, and ``stop_reason``
``tool_use`` becomes ``end_turn`` when no call is left; a refused image in a text block
is redacted there. A reply whose calls were read from its text (a code agent's code
blocks, in a code agent's conversation: `codeagent`) and one refused loses them there,
as chat completions' text does (`reply.without_written_calls`): its client runs what
the text holds. The text becomes the reading's, every call taken out, in the first text
block (the others, read joined to it, go), and the calls kept follow it as
``tool_use`` blocks with ``stop_reason`` ``tool_use``, as chat gives them as
``tool_calls``; a reply with ``tool_use`` blocks beside its code is read with both
(`codeagent`), its text changed so too and its own blocks staying. A model's
``<tool_call>`` text in a text block is not read as calls, as chat's reader reads none
in a list of text parts. A reply nothing was refused in is returned as the server
wrote it.
"""

from __future__ import annotations

import copy
from typing import Any

from backdoorlab.defenses.guard.core import Decision, Guard
from backdoorlab.defenses.guard.reply import (
    read_request,
    refused_note,
    screen_reply_turn,
    without_images,
    without_written_calls,
)
from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats.parts import TEXT_PARTS, part_text
from backdoorlab.traces import Message


def messages_conversation(request: dict[str, Any]) -> list[Message]:
    """The request's conversation as the guard reads it; `TraceFormatError` naming the
    field when it cannot be read."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise TraceFormatError("request: field 'messages': a non-empty list is required")
    return _read(request, None, "request")[0]


def _read(
    request: dict[str, Any], content: list[Any] | None, where: str
) -> tuple[list[Message], list[str]]:
    messages = list(request["messages"])
    if content is not None:
        messages.append({"role": "assistant", "content": content})
    return read_request(request, {"messages": messages}, ("system", "tools"), where)


def screen_message(
    guard: Guard, request: dict[str, Any], reply: dict[str, Any]
) -> tuple[dict[str, Any], list[Decision]]:
    """``reply`` as the client may see it, and every decision made on it (module
    docstring); ``reply`` itself when nothing was refused."""
    content = reply.get("content")
    if not isinstance(content, list):
        raise TraceFormatError("upstream reply: field 'content': a list of blocks is required")
    where = "upstream reply (content with the request's messages)"
    field = f"messages.{len(request['messages'])}"
    turn = screen_reply_turn(
        guard, lambda whole: _read(request, content if whole else None, where), field
    )
    refused, hidden = turn.refused, turn.hidden
    if not turn.changed:
        return reply, turn.decisions
    out = copy.deepcopy(reply)
    written = [(m, b) for o, m, b in turn.refused_in(field) if o == field]
    if written:
        _take_out_written(out, *written[0])
    blocks = [_redacted(b, hidden, turn.read) for b in out["content"] if not _is(b, refused)]
    if refused:
        blocks.append({"type": "text", "text": refused_note(list(refused.values()))})
        calls_left = any(isinstance(b, dict) and b.get("type") == "tool_use" for b in blocks)
        if not calls_left and out.get("stop_reason") == "tool_use":
            out["stop_reason"] = "end_turn"
    out["content"] = blocks
    return out, turn.decisions


def _take_out_written(out: dict[str, Any], read: Message, blocked: list[bool]) -> None:
    """Take the calls out of a reply whose calls were read from its text (a code agent's
    code, read after its ``tool_use`` blocks' calls: `codeagent`): its text becomes the
    reading's (`without_written_calls`), held by its first text block, and the calls
    kept that no block gave follow it as ``tool_use`` blocks, ``stop_reason`` then
    ``tool_use`` as a client's loop expects of calls to run. A reply whose text was
    read as it stands keeps it (its calls are its blocks)."""
    texts = [i for i, b in enumerate(out["content"]) if isinstance(b, dict) and _texty(b)]
    given = "".join(part_text(out["content"][i]) for i in texts)  # as the reader joins them
    uses = {str(b.get("id")) for b in out["content"] if _is_use(b)}
    if uses and given == read.text:
        return
    text, kept = without_written_calls(given, read, blocked)
    kept = [c for c in kept if c.id not in uses]
    blocks = [b for i, b in enumerate(out["content"]) if i not in texts[1:]]
    if texts:
        blocks[texts[0]] = {**blocks[texts[0]], "text": text}
    at = texts[0] + 1 if texts else len(blocks)
    uses_kept = [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in kept
    ]
    out["content"] = [*blocks[:at], *uses_kept, *blocks[at:]]
    if kept:
        out["stop_reason"], out["stop_sequence"] = "tool_use", None


def _texty(block: dict[str, Any]) -> bool:
    """Whether a block is text the reader read (`codeagent` joins these blocks' text)."""
    return block.get("type", "text") in TEXT_PARTS


def _is_use(block: Any) -> bool:
    return isinstance(block, dict) and str(block.get("type", "")).endswith("tool_use")


def _is(block: Any, refused: dict[str, str]) -> bool:
    """Whether ``block`` is one of the refused calls (any ``*tool_use`` block)."""
    return _is_use(block) and str(block.get("id")) in refused


def _redacted(block: Any, hidden: set[str], read: set[str] | None) -> Any:
    if isinstance(block, dict) and isinstance(block.get("text"), str):
        block["text"] = without_images(block["text"], hidden, read)
    return block

"""Screening a Responses API reply (``/v1/responses``) another server returned, before
its client sees it (`guard proxy`).

The request's ``instructions`` and ``input`` items are the conversation so far, and the
reply's ``output`` items the model's turn, read together as the audit reads a logged
exchange (`backdoorlab.trace_formats.responses`). Every call of the turn is screened
in order with one session, so a built-in tool's result in the same output (an
``mcp_call`` holding its output) counts for the calls after it. A refused call's item
(``function_call``, or any ``*_call`` a client runs) is taken out of ``output``; a
message item saying what was not sent is added after the others; a refused image in an
``output_text`` part is redacted there. In a reply the guard changed, every
``output_text`` part's ``logprobs`` is emptied (``[]``, as when they were not asked):
a server lists there the tokens it generated — a refused image's URL, and a refused
call's arguments too when its parser read the call from the text. A reply nothing was
refused in is returned as the server wrote it. A call the server ran itself (a hosted
tool) has happened by the time the reply arrives: taking it out hides it, and its
decision is logged.

A request that continues a conversation the server keeps (``previous_response_id``,
``conversation``) is refused: the proxy would screen the reply against a conversation
it cannot see. The client sends its whole conversation in ``input`` instead (``store:
false``), as OpenAI's stateless mode and the Agents SDK's default do.
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
)
from backdoorlab.errors import TraceFormatError
from backdoorlab.traces import Message

SERVER_STATE = ("previous_response_id", "conversation")


def response_conversation(request: dict[str, Any]) -> list[Message]:
    """The request's conversation as the guard reads it; `TraceFormatError` naming the
    field when it cannot be read or is kept by the server."""
    for key in SERVER_STATE:
        if request.get(key) is not None:
            raise TraceFormatError(
                f"request: field '{key}': the guard proxy screens a reply against the whole"
                " conversation; send it in 'input' (store: false) instead"
            )
    if request.get("input") is None:
        raise TraceFormatError("request: field 'input': required")
    return _read(request, None, "request")[0]


def _read(
    request: dict[str, Any], output: list[Any] | None, where: str
) -> tuple[list[Message], list[str]]:
    data: dict[str, Any] = {"input": request["input"]}
    if output is not None:
        data["output"] = output
    return read_request(request, data, ("instructions", "tools"), where)


def screen_response(
    guard: Guard, request: dict[str, Any], response: dict[str, Any]
) -> tuple[dict[str, Any], list[Decision]]:
    """``response`` as the client may see it, and every decision made on it (module
    docstring); ``response`` itself when nothing was refused."""
    output = response.get("output")
    if not isinstance(output, list):
        raise TraceFormatError("upstream reply: field 'output': a list is required")
    where = "upstream reply (output with the request's input)"
    turn = screen_reply_turn(
        guard, lambda whole: _read(request, output if whole else None, where), "output"
    )
    refused, hidden = turn.refused, turn.hidden
    if not turn.changed:
        return response, turn.decisions
    out = copy.deepcopy(response)
    out["output"] = [
        _redacted(item, hidden, turn.read) for item in out["output"] if not _is(item, refused)
    ]
    if refused:
        out["output"].append(_note(list(refused.values())))
    return out, turn.decisions


def _is(item: Any, refused: dict[str, str]) -> bool:
    """Whether ``item`` is one of the refused calls."""
    if not isinstance(item, dict) or not str(item.get("type", "")).endswith("_call"):
        return False
    return str(item.get("call_id", item.get("id"))) in refused


def _redacted(item: Any, hidden: set[str], read: set[str] | None) -> Any:
    """A message item of a changed reply: its refused images redacted, its logprobs
    emptied."""
    if not isinstance(item, dict) or item.get("type", "message") != "message":
        return item
    content = item.get("content")
    if isinstance(content, str):  # a message's content given as one string
        item["content"] = without_images(content, hidden, read)
    for part in content if isinstance(content, list) else ():
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            part["text"] = without_images(part["text"], hidden, read)
        if isinstance(part, dict) and part.get("logprobs"):  # module docstring
            part["logprobs"] = []
    return item


def _note(tools: list[str]) -> dict[str, Any]:
    """The message item telling the client (and the model, next turn) what was refused."""
    part = {"type": "output_text", "text": refused_note(tools), "annotations": []}
    return {
        "type": "message",
        "id": "msg_guard_refusal",
        "role": "assistant",
        "status": "completed",
        "content": [part],
    }

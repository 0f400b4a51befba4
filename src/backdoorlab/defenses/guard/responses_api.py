"""Screening a Responses API reply (``/v1/responses``) another server returned, before
its client sees it (`guard proxy`).

The request's ``instructions`` and ``input`` items are the conversation so far, and the
reply's ``output`` items the model's turn, read together as the audit reads a logged
exchange (`backdoorlab.trace_formats.responses`). Every call of the turn is screened
in order with one session, so a built-in tool's result in the same output (an
``mcp_call`` holding its output) counts for the calls after it. A refused call's item
(``function_call``, or any ``*_call`` a client runs) is taken out of ``output``; a
message item saying what was not sent is added after the others; a refused image in an
``output_text`` part is redacted there. A message item whose calls were read from its
text (a code agent's code blocks, in a code agent's conversation: `codeagent`) and one
refused loses them there, as chat completions' text does: its client runs what the
text holds (`reply.without_written_calls`). Its text becomes the reading's, every call
taken out, in its first text part (annotations, which point into the old text,
emptied), and the calls kept follow it as ``function_call`` items, as chat gives them
as ``tool_calls``; a message with no refused call keeps its code. A message with
``function_call`` items beside its code is read with both (`codeagent`): its text is
changed so too, the items staying where they are. A model's ``<tool_call>`` text in an
``output_text`` part is not read as calls, as chat's reader reads none in a list of
text parts (only in a string content). In a reply the guard changed, every
``output_text`` part's ``logprobs`` is emptied (``[]``, as when they were not asked):
a server lists there the tokens it generated — a refused image's URL, and a refused
call's arguments too when its parser read the call from the text. A reply nothing was
refused in is returned as the server wrote it. A call the server ran itself (a hosted
tool) has happened by the time the reply arrives: taking it out hides it, and its
decision is logged.

A request is read with the conversation it continues: one continuing a response the
proxy relayed (``previous_response_id``) comes here with that response's conversation
in its ``input`` (`response_chain`); one that still names server state — any other
``previous_response_id``, a ``conversation``, an ``item_reference`` item (the upstream
reads the item it names in its place, which the reader skips) or a ``compaction`` item
(earlier turns, encrypted) — is refused: the proxy
would screen the reply against a conversation it cannot see. The client sends its whole
conversation in ``input`` instead (``store: false``), as OpenAI's stateless mode and the
Agents SDK's default do.
"""

from __future__ import annotations

import copy
from typing import Any

from backdoorlab.defenses.guard.core import Decision, Guard
from backdoorlab.defenses.guard.reply import (
    Turn,
    read_request,
    refused_note,
    screen_reply_turn,
    without_images,
    without_written_calls,
)
from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats.parts import part_text
from backdoorlab.traces import Message, ToolCall

SERVER_STATE = ("previous_response_id", "conversation")
_UNSEEN = {
    "item_reference": "an item_reference has the upstream read an item it keeps, which the"
    " guard cannot see; send the item itself",
    "compaction": "a compaction item holds earlier turns encrypted: the model reads the tool"
    " results in them, the guard cannot; send the conversation uncompacted",
}
"""Input items whose content the upstream reads and the guard cannot (the reader skips
them): a reply screened without it could carry a value from a result the guard never
saw."""


def response_conversation(request: dict[str, Any]) -> list[Message]:
    """The request's conversation as the guard reads it; `TraceFormatError` naming the
    field when it cannot be read or is kept by the server."""
    for key in SERVER_STATE:
        if request.get(key) is not None:
            raise TraceFormatError(
                f"request: field '{key}': the guard proxy screens a reply against the whole"
                " conversation; send it in 'input' (store: false) instead"
            )
    given = request.get("input")
    if given is None:
        raise TraceFormatError("request: field 'input': required")
    for number, item in enumerate(given if isinstance(given, list) else ()):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind in _UNSEEN:
            raise TraceFormatError(f"request: field 'input.{number}': {_UNSEEN[kind]}")
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
    kept = _take_out_written(out["output"], turn)
    out["output"] = [
        new
        for at, item in enumerate(out["output"])
        if not _is(item, refused)
        for new in (_redacted(item, hidden, turn.read), *kept.get(at, ()))
    ]
    if refused:
        out["output"].append(_note(list(refused.values())))
    return out, turn.decisions


def _is(item: Any, refused: dict[str, str]) -> bool:
    """Whether ``item`` is one of the refused calls."""
    if not isinstance(item, dict) or not str(item.get("type", "")).endswith("_call"):
        return False
    return str(item.get("call_id", item.get("id"))) in refused


def _take_out_written(output: list[Any], turn: Turn) -> dict[int, list[dict[str, Any]]]:
    """Take the calls out of each message item whose calls were read from its text (a
    code agent's code) and one refused: its text becomes the reading's
    (`without_written_calls`), its first text part holding it; the calls kept that no
    call item gave, as ``function_call`` items to go after it, by the item's place (the
    call items stay where they are, a refused one taken out as any is)."""
    kept: dict[int, list[dict[str, Any]]] = {}
    for origin, read, blocked in turn.refused_in("output"):
        at = int(origin.split(".")[1])
        item = output[at]
        if item.get("type", "message") not in ("message", None):
            continue
        content = item.get("content")
        parts = content if isinstance(content, list) else [{"text": content or ""}]
        given = "".join(part_text(p) for p in parts if _texty(p))  # as the reader joins them
        joined = _joined(output, at)
        if joined and given == read.text:
            continue  # its calls are the call items, its text as written
        text, calls = without_written_calls(given, read, blocked)
        if isinstance(content, list):
            first = next(i for i, p in enumerate(content) if _texty(p))
            content[first] = {**content[first], "text": text, "annotations": []}
            item["content"] = [p for i, p in enumerate(content) if i == first or not _texty(p)]
        else:
            item["content"] = text
        kept[at] = [_call_item(call) for call in calls if call.id not in joined]
    return kept


def _texty(part: Any) -> bool:
    """Whether a content part holds text the reader read (`parts.part_text`)."""
    return isinstance(part, dict) and "text" in part


def _joined(output: list[Any], at: int) -> set[str]:
    """The ids of the call items the reader (`trace_formats.responses`) joins to the
    message item at ``at``: the ``*_call`` items that come next, past items it skips
    (``reasoning``), until a message or a call's output ends the turn. The calls read
    from the message's text (a code agent's code, read after these: `codeagent`) are
    the others."""
    ids: set[str] = set()
    for item in output[at + 1 :]:
        kind = item.get("type") if isinstance(item, dict) else None
        kind = "message" if kind is None else str(kind)
        if kind.endswith("_call"):
            ids.add(str(item.get("call_id", item.get("id"))))
            if any(item.get(k) is not None for k in ("output", "outputs", "error")):
                break  # a call holding its result ends the turn
        elif kind == "message" or kind.endswith("_call_output"):
            break
    return ids


def _call_item(call: ToolCall) -> dict[str, Any]:
    """A kept call read from a message's text, as the function call item a client runs."""
    return {
        "type": "function_call",
        "id": f"fc_{call.id}",
        "call_id": call.id,
        "name": call.name,
        "arguments": call.function.arguments,
        "status": "completed",
    }


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

"""Screening a chat completion another server returned, as JSON, before its client sees
it (`guard proxy`).

The request's ``messages`` (with ``tools``) are the conversation so far, read the way
the audit reads a trace (`backdoorlab.trace_formats`: OpenAI's chat format, a model's
raw ``<tool_call>`` text, the legacy ``function_call``); each choice's ``message`` is a
reply to it, screened with a session that has read it (`reply.screen_reply`: the one
kept from the conversation's previous request, `resume`, or a fresh one). A reply the guard
lets through is returned as the server wrote it, every field it had kept; one it
changes loses only what was refused:

- structured ``tool_calls``: the refused entries are taken out, the others left as
  they were (ids, vendor fields), and the text gets the refusal note;
- calls the server left in the text (no tool parser), a code agent's code blocks or
  a legacy ``function_call``: the client would read them from the text, so the text
  becomes the reading's text without the calls, plus the note, and the calls kept are
  given as ``tool_calls`` (`reply.without_written_calls`, as the Responses and Messages
  APIs do); the whitespace the text began with stays (a stream sent it before any call
  could be seen: `stream_relay`, whose client ends with this same text). A code agent's
  reply with structured ``tool_calls`` beside its code is read with both (`codeagent`):
  its text is changed so too, and its own calls kept come first, as it gave them;
- ``finish_reason`` ``tool_calls`` becomes ``stop`` when no call is left;
- ``logprobs`` becomes null, as if the client had not asked for them: their tokens
  (each with its ``bytes`` and ``top_logprobs``) are the text the server generated,
  refused image URLs and calls included.

A request whose conversation cannot be read is refused (`TraceFormatError`, naming the
field): a reply to a conversation the guard cannot follow cannot be screened.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from backdoorlab.defenses.guard.core import Decision, Guard
from backdoorlab.defenses.guard.reply import Screened, screen_reply, without_written_calls
from backdoorlab.errors import TraceFormatError
from backdoorlab.traces import Message, content_text, trace_from_data


def conversation(request: dict[str, Any]) -> list[Message]:
    """The request's ``messages`` as the guard reads them; `TraceFormatError` naming the
    field when they cannot be read."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise TraceFormatError("request: field 'messages': a non-empty list is required")
    return trace_from_data(_trace_data(request, messages), "request").messages


def _trace_data(request: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"messages": messages}
    tools = request.get("tools")
    if isinstance(tools, list):
        data["tools"] = tools
    return data


def screen_completion(
    guard: Guard, request: dict[str, Any], completion: dict[str, Any]
) -> tuple[dict[str, Any], list[Decision]]:
    """``completion`` as the client may see it, and every decision made on it.

    Returns ``completion`` itself when nothing was refused, else a copy with each
    changed choice rewritten (module docstring). `TraceFormatError` when the request's
    conversation or a choice's message cannot be read."""
    choices = completion.get("choices")
    if not isinstance(choices, list):
        raise TraceFormatError("upstream reply: field 'choices': a list is required")
    messages = request["messages"]
    out: dict[str, Any] | None = None
    decisions: list[Decision] = []
    for index, choice in enumerate(choices):
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            raise TraceFormatError(f"upstream reply: field 'choices.{index}.message': missing")
        where = f"upstream reply (choices.{index}.message with the request's messages)"
        read = trace_from_data(_trace_data(request, [*messages, message]), where).messages
        history, reply = read[:-1], read[-1]
        if reply.role != "assistant":
            raise TraceFormatError(f"upstream reply: field 'choices.{index}.message.role'")
        screened = screen_reply(guard, history, reply)
        decisions += screened.calls + screened.images
        if screened.changed:
            out = out if out is not None else copy.deepcopy(completion)
            out["choices"][index] = _rewritten(out["choices"][index], reply, screened)
    return (out if out is not None else completion), decisions


def _rewritten(choice: dict[str, Any], reply: Message, screened: Screened) -> dict[str, Any]:
    """``choice`` with what ``screened`` refused taken out (module docstring)."""
    message = choice["message"]
    given = message.get("tool_calls")
    calls: Sequence[Any] = reply.tool_calls or ()
    listed = given if isinstance(given, list) and "function_call" not in message else []
    structured = _as_given(listed, calls)
    blocked = [d.blocked for d in screened.calls]
    text_as_given = content_text(message.get("content")) == reply.text
    if listed is given and len(listed) == structured == len(calls) and text_as_given:
        text = message.get("content") if isinstance(message.get("content"), str) else reply.text
        kept = [c for c, b in zip(given, blocked, strict=True) if not b]
    else:  # calls read from the text: the client would read them there too
        text, _ = without_written_calls(message.get("content"), reply, blocked)
        kept = [c for c, b in zip(listed[:structured], blocked, strict=False) if not b] + [
            {"id": c.id, "type": "function", "function": c.function.model_dump()}
            for c, b in zip(calls[structured:], blocked[structured:], strict=True)
            if not b
        ]
        message.pop("function_call", None)
    message["content"] = screened.text(text or "")
    if choice.get("logprobs") is not None:  # the tokens of what was taken out (module docstring)
        choice["logprobs"] = None
    if kept:
        message["tool_calls"] = kept
    else:
        message.pop("tool_calls", None)
        if choice.get("finish_reason") in ("tool_calls", "function_call"):
            choice["finish_reason"] = "stop"
    return choice


def _as_given(given: list[Any], calls: Sequence[Any]) -> int:
    """How many of the calls read are the reply's own ``tool_calls``, as it gave them: a
    code agent's reply may hold both, its code read after them (`codeagent`). Those stay
    as the server wrote them (ids, vendor fields) when the text's calls go. A call given
    without an id is the one read in its place (the reader gives it one)."""
    same = 0
    while same < min(len(given), len(calls)):
        logged = given[same]
        if not isinstance(logged, dict) or logged.get("id", calls[same].id) != calls[same].id:
            break
        same += 1
    return same

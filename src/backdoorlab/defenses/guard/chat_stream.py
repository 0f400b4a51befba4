"""`guard proxy`'s ``stream: true`` chat completions, relayed as the upstream generates
them: its server-sent events read as they arrive (`upstream_stream`), each chunk passed through
`stream_relay.ChatStream` (which holds back calls and what may hold an image), each
finished choice screened on the proxy's screening thread.

Fails closed: an upstream stream that breaks, stalls past the proxy's timeout, sends an
event that is not a chunk, sends an error event, or ends before every choice finished —
or a guard that fails on a choice — ends the client's stream with an OpenAI-style error
event (``data: {"error": {...}}``, no ``data: [DONE]``), which the `openai` SDK raises
as an ``APIError``. What was held back is never sent. The number of refused calls and
images is not known when the response's headers go, so a stream has no
``x-guard-refused`` header: it comes as a comment event, ``: x-guard-refused N``, just
before ``data: [DONE]`` (clients skip comments). A client that hangs up cancels the
relay: the upstream's stream is closed, so the upstream stops generating.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from backdoorlab.defenses.guard.completions import conversation, screen_completion
from backdoorlab.defenses.guard.core import Decision, Guard
from backdoorlab.defenses.guard.stream_relay import ChatStream, ChoiceState, StreamError
from backdoorlab.defenses.guard.upstream_stream import (
    UpstreamFailed,
    event_data,
    fail_closed,
    reads_code_as_calls,
)
from backdoorlab.serving.schema import ErrorType, error_body
from backdoorlab.traces import Message

Screen = Callable[[ChoiceState], Awaitable[tuple[dict[str, Any], list[Decision]]]]


def chat_reads_code_as_calls(request: dict[str, Any]) -> bool:
    """Whether the reply's code blocks would be read as calls (`upstream_stream`)."""

    def read_with(text: str) -> list[Message]:
        turn = {"role": "assistant", "content": text}
        return conversation({**request, "messages": [*request["messages"], turn]})

    return reads_code_as_calls(read_with)


def screen_choice(
    guard: Guard, request: dict[str, Any], state: ChoiceState
) -> tuple[dict[str, Any], list[Decision]]:
    """``state``'s message screened as the whole-reply path screens a choice (same
    functions, same decisions in the same order, logged the same): the screened
    choice and the decisions."""
    choice = {"index": state.index, "message": state.message(), "finish_reason": state.finish}
    completion = {**state.head, "object": "chat.completion", "choices": [choice]}
    screened, decisions = screen_completion(guard, request, completion)
    return screened["choices"][0], decisions


def chat_events(
    answer: httpx.Response, relay: ChatStream, screen: Screen, upstream: str
) -> AsyncIterator[bytes]:
    """The client's ``text/event-stream`` body for the upstream's streaming ``answer``
    (module docstring). Closes ``answer`` however it ends."""
    relayed = _relayed(answer, relay, screen, upstream)
    return fail_closed(relayed, answer, upstream, "chat completion", _error)


async def _relayed(
    answer: httpx.Response, relay: ChatStream, screen: Screen, upstream: str
) -> AsyncGenerator[bytes, None]:
    refused = 0
    async for data in event_data(answer.aiter_lines()):
        if data.strip() == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            raise StreamError("an event that is not a JSON chunk") from None
        if isinstance(chunk, dict) and "error" in chunk:
            said = chunk["error"]
            raise UpstreamFailed(said.get("message", said) if isinstance(said, dict) else said)
        for out in relay.take(chunk):
            yield _event(out)
        for state in relay.due():
            screened, decisions = await screen(state)
            refused += sum(d.blocked for d in decisions)
            for out in relay.close(state, screened):
                yield _event(out)
    missing = relay.unfinished()
    if missing:
        which = ", ".join(map(str, missing))
        message = f"upstream {upstream} ended its stream before choice {which} finished"
        yield _error(message, "upstream_unreadable")
        return
    yield f": x-guard-refused {refused}\n\n".encode()
    yield b"data: [DONE]\n\n"


def _event(chunk: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()


def _error(message: str, code: str, kind: ErrorType = "server_error") -> bytes:
    body = error_body(message[:500], kind, code)
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

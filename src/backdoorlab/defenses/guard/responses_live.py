"""`guard proxy`'s ``stream: true`` Responses API requests, relayed as the upstream
generates them: its server-sent events read as they arrive (`upstream_stream`), each
passed through `response_relay.ResponseRelay` (which holds back calls and what may hold
an image), the whole response screened on the proxy's screening thread once the
upstream's ``response.completed`` has come.

Fails closed: an upstream stream that breaks, stalls past the proxy's timeout, sends an
event that cannot be read, says it failed (an ``error`` event, ``response.failed``) or
ends before its response completed — or a guard that fails on the response — ends the
client's stream with an ``error`` event (`ResponseRelay.error_event`: the `openai` SDK
raises an ``APIError``). What was held back is never sent. The number of refused calls
and images comes as a comment event, ``: x-guard-refused N``, just before the terminal
event (clients skip comments). A client that hangs up cancels the relay and closes the
upstream's stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from backdoorlab.defenses.guard.core import Decision
from backdoorlab.defenses.guard.response_relay import ResponseRelay
from backdoorlab.defenses.guard.responses_api import response_conversation
from backdoorlab.defenses.guard.stream_relay import StreamError
from backdoorlab.defenses.guard.upstream_stream import event_data, fail_closed, reads_code_as_calls
from backdoorlab.traces import Message

Screen = Callable[[dict[str, Any]], Awaitable[tuple[dict[str, Any], list[Decision]]]]
"""The whole response → the screened response and the decisions (`screen_response`)."""


def response_reads_code_as_calls(request: dict[str, Any]) -> bool:
    """Whether the reply's code blocks would be read as calls (`upstream_stream`)."""
    given = request.get("input")
    items = [{"role": "user", "content": given}] if isinstance(given, str) else given

    def read_with(text: str) -> list[Message]:
        turn = {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text}],
        }
        return response_conversation({**request, "input": [*items, turn]})

    return reads_code_as_calls(read_with)


def response_events_live(
    answer: httpx.Response, relay: ResponseRelay, screen: Screen, upstream: str
) -> AsyncIterator[bytes]:
    """The client's ``text/event-stream`` body for the upstream's streaming ``answer``
    (module docstring). Closes ``answer`` however it ends."""
    relayed = _relayed(answer, relay, screen, upstream)
    return fail_closed(relayed, answer, upstream, "response", relay.error_event)


async def _relayed(
    answer: httpx.Response, relay: ResponseRelay, screen: Screen, upstream: str
) -> AsyncGenerator[bytes, None]:
    async for data in event_data(answer.aiter_lines()):
        if data.strip() == "[DONE]":
            break
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):
            raise StreamError("an event that is not JSON") from None
        for out in relay.take(event):
            yield relay.encoded(out)
        if relay.ending is not None:
            break
    if relay.ending is None:
        message = f"upstream {upstream} ended its stream before the response completed"
        yield relay.error_event(message, "upstream_unreadable")
        return
    screened, decisions = await screen(relay.response())
    *rest, ending = relay.close(screened)
    for out in rest:
        yield relay.encoded(out)
    yield f": x-guard-refused {sum(d.blocked for d in decisions)}\n\n".encode()
    yield relay.encoded(ending)

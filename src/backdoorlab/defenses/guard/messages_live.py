"""`guard proxy`'s ``stream: true`` Anthropic Messages API requests, relayed as the
upstream generates them: its server-sent events read as they arrive (`upstream_stream`),
each passed through `message_relay.MessageRelay` (which holds back calls and what may
hold an image), the whole message screened on the proxy's screening thread once the
upstream's ``message_stop`` has come.

Fails closed: an upstream stream that breaks, stalls, sends an event that cannot be
read, sends an ``error`` event or ends before ``message_stop`` — or a guard that fails
on the message — ends the client's stream with an ``error`` event in Anthropic's shape
(the `anthropic` SDK raises it). What was held back is never sent. The number of
refused calls and images comes as a comment event, ``: x-guard-refused N``, just before
``message_stop``. A client that hangs up cancels the relay and closes the upstream's
stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from backdoorlab.defenses.guard.core import Decision
from backdoorlab.defenses.guard.message_relay import MessageRelay
from backdoorlab.defenses.guard.messages_api import messages_conversation
from backdoorlab.defenses.guard.stream_relay import StreamError
from backdoorlab.defenses.guard.upstream_stream import event_data, fail_closed, reads_code_as_calls
from backdoorlab.traces import Message

Screen = Callable[[dict[str, Any]], Awaitable[tuple[dict[str, Any], list[Decision]]]]
"""The whole message → the screened message and the decisions (`screen_message`)."""


def message_reads_code_as_calls(request: dict[str, Any]) -> bool:
    """Whether the reply's code blocks would be read as calls (`upstream_stream`)."""
    messages = request.get("messages")

    def read_with(text: str) -> list[Message]:
        turn = {"role": "assistant", "content": text}
        return messages_conversation({**request, "messages": [*messages, turn]})

    return reads_code_as_calls(read_with)


def message_events_live(
    answer: httpx.Response, relay: MessageRelay, screen: Screen, upstream: str
) -> AsyncIterator[bytes]:
    """The client's ``text/event-stream`` body for the upstream's streaming ``answer``
    (module docstring). Closes ``answer`` however it ends."""
    relayed = _relayed(answer, relay, screen, upstream)
    return fail_closed(relayed, answer, upstream, "message", relay.error_event)


async def _relayed(
    answer: httpx.Response, relay: MessageRelay, screen: Screen, upstream: str
) -> AsyncGenerator[bytes, None]:
    async for data in event_data(answer.aiter_lines()):
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):
            raise StreamError("an event that is not JSON") from None
        for out in relay.take(event):
            yield relay.encoded(out)
        if relay.ended:
            break
    if not relay.ended:
        message = f"upstream {upstream} ended its stream before the message stopped"
        yield relay.error_event(message, "upstream_unreadable")
        return
    screened, decisions = await screen(relay.whole())
    for out in relay.close(screened):
        yield relay.encoded(out)
    yield f": x-guard-refused {sum(d.blocked for d in decisions)}\n\n".encode()
    yield relay.encoded({"type": "message_stop"})

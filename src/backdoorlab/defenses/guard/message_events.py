"""A screened Anthropic Messages reply sent as the event stream a client that asked
``stream: true`` of ``/v1/messages`` reads (`guard proxy`).

Sent in one burst when the upstream answered a stream request whole; an upstream that
streams is relayed as it generates (`messages_live`), which sends the blocks it held
with `block_events`. The events are Anthropic's: ``message_start`` (the message with no
content yet), per content block ``content_block_start`` (the block empty),
``content_block_delta`` (a text's ``text_delta``, a tool use's ``input_json_delta``
with its whole input as JSON, a thinking block's ``thinking_delta`` and
``signature_delta``) and ``content_block_stop``, then ``message_delta`` (the
``stop_reason`` and usage) and ``message_stop`` — what the SDKs' stream helpers
accumulate into the final message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def message_events(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The stream events of ``message``, in order."""
    usage = message.get("usage") or {}
    started = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    yield {"type": "message_start", "message": started}
    blocks = [b for b in message.get("content") or () if isinstance(b, dict)]
    for index, block in enumerate(blocks):
        yield from block_events(index, block)
    stop = {
        "stop_reason": message.get("stop_reason"),
        "stop_sequence": message.get("stop_sequence"),
    }
    yield {"type": "message_delta", "delta": stop, "usage": usage}
    yield {"type": "message_stop"}


def block_events(index: int, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The events of one content block, at ``index`` of the content."""
    kind = block.get("type")
    opened, deltas = dict(block), []
    if kind == "text":
        opened["text"] = ""
        deltas = [{"type": "text_delta", "text": block.get("text", "")}]
    elif kind == "tool_use":
        opened["input"] = {}
        text = json.dumps(block.get("input", {}), ensure_ascii=False)
        deltas = [{"type": "input_json_delta", "partial_json": text}]
    elif kind == "thinking":
        opened["thinking"], opened["signature"] = "", ""
        deltas = [{"type": "thinking_delta", "thinking": block.get("thinking", "")}]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
    yield {"type": "content_block_start", "index": index, "content_block": opened}
    for delta in deltas:
        yield {"type": "content_block_delta", "index": index, "delta": delta}
    yield {"type": "content_block_stop", "index": index}


def message_stream(message: dict[str, Any]) -> Iterator[bytes]:
    """``message`` as the bytes of a ``text/event-stream`` body."""
    for event in message_events(message):
        data = json.dumps(event, ensure_ascii=False)
        yield f"event: {event['type']}\ndata: {data}\n\n".encode()

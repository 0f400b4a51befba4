"""A screened Responses API reply sent as the event stream a client that asked
``stream: true`` of ``/v1/responses`` reads (`guard proxy`).

Sent in one burst when the upstream answered a stream request whole; an upstream
that streams is relayed as it generates (`responses_live`), which ends the items it
relayed in part and sends those it held with `item_events` and `item_rest`. The events
are the ones OpenAI's Responses stream sends, each with its ``sequence_number``:
``response.created`` (the response in progress, no output yet),
then per output item ``response.output_item.added``, its content — an output text's
``content_part.added``, ``output_text.delta`` (the whole text in one delta),
``output_text.done``, ``content_part.done``; a function call's
``function_call_arguments.delta`` and ``.done`` — and ``response.output_item.done``,
and last ``response.completed`` with the whole response, which is what the SDKs'
stream helpers return as the final response.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any


def response_events(response: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The stream events of ``response``, numbered in order."""
    number = 0

    def numbered(event: dict[str, Any]) -> dict[str, Any]:
        nonlocal number
        number += 1
        return {"type": event["type"], "sequence_number": number - 1, **event}

    started = {**response, "status": "in_progress", "output": []}
    yield numbered({"type": "response.created", "response": started})
    yield numbered({"type": "response.in_progress", "response": started})
    for index, item in enumerate(response.get("output") or ()):
        if isinstance(item, dict):
            yield from map(numbered, item_events(index, item))
    yield numbered({"type": "response.completed", "response": response})


def item_events(index: int, item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The events of one output item, at ``index`` of the output (not numbered)."""
    yield {"type": "response.output_item.added", "output_index": index, "item": _opening(item)}
    yield from item_rest(index, item)


def item_rest(
    index: int, item: dict[str, Any], part: int = 0, given: int | None = None
) -> Iterator[dict[str, Any]]:
    """The events of ``item`` after its ``output_item.added``: from its content part
    ``part`` on, of whose text the client has the first ``given`` characters already
    (its ``content_part.added`` sent too; None: the part not begun), to its
    ``output_item.done`` (`responses_live` ends an item it relayed in part)."""
    item_id = item.get("id")
    if item.get("type", "message") == "message":
        for part_index, each in enumerate(_parts(item.get("content"))):
            if part_index < part:
                continue
            at = {"item_id": item_id, "output_index": index, "content_index": part_index}
            begun = part_index == part and given is not None
            if not begun:
                empty = {**each, "text": ""} if "text" in each else each
                yield {"type": "response.content_part.added", **at, "part": empty}
            if each.get("type") == "output_text":
                text = each.get("text", "")
                rest = text[given:] if begun and given is not None else text
                if rest or not begun:
                    yield {
                        "type": "response.output_text.delta",
                        **at,
                        "delta": rest,
                        "logprobs": [],
                    }
                yield {"type": "response.output_text.done", **at, "text": text, "logprobs": []}
            yield {"type": "response.content_part.done", **at, "part": each}
    elif item.get("type") == "function_call":
        arguments = item.get("arguments", "")
        at = {"item_id": item_id, "output_index": index}
        yield {"type": "response.function_call_arguments.delta", **at, "delta": arguments}
        yield {"type": "response.function_call_arguments.done", **at, "arguments": arguments}
    yield {"type": "response.output_item.done", "output_index": index, "item": item}


def _parts(content: Any) -> list[dict[str, Any]]:
    """A message item's content parts (a string is one output text)."""
    if isinstance(content, str):
        return [{"type": "output_text", "text": content, "annotations": []}]
    return [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []


def _opening(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` as it is announced, before its content streams."""
    opened = copy.deepcopy(item)
    opened["status"] = "in_progress"
    if opened.get("type", "message") == "message":
        opened["content"] = []
    elif opened.get("type") == "function_call":
        opened["arguments"] = ""
    return opened


def response_stream(response: dict[str, Any]) -> Iterator[bytes]:
    """``response`` as the bytes of a ``text/event-stream`` body."""
    for event in response_events(response):
        data = json.dumps(event, ensure_ascii=False)
        yield f"event: {event['type']}\ndata: {data}\n\n".encode()

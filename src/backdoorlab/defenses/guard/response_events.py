"""A screened Responses API reply sent as the event stream a client that asked
``stream: true`` of ``/v1/responses`` reads (`guard proxy`).

The proxy streams a Responses reply once it is whole and screened, in one burst (only
chat completions are relayed as generated: `chat_stream`). The events are the ones
OpenAI's Responses stream sends, each with its ``sequence_number``:
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

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        nonlocal number
        number += 1
        return {"type": kind, "sequence_number": number - 1, **fields}

    started = {**response, "status": "in_progress", "output": []}
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    for index, item in enumerate(response.get("output") or ()):
        if not isinstance(item, dict):
            continue
        yield event("response.output_item.added", output_index=index, item=_opening(item))
        item_id = item.get("id")
        if item.get("type", "message") == "message":
            for part_index, part in enumerate(_parts(item.get("content"))):
                at = {"item_id": item_id, "output_index": index, "content_index": part_index}
                empty = {**part, "text": ""} if "text" in part else part
                yield event("response.content_part.added", **at, part=empty)
                if part.get("type") == "output_text":
                    text = part.get("text", "")
                    yield event("response.output_text.delta", **at, delta=text)
                    yield event("response.output_text.done", **at, text=text)
                yield event("response.content_part.done", **at, part=part)
        elif item.get("type") == "function_call":
            arguments = item.get("arguments", "")
            at = {"item_id": item_id, "output_index": index}
            yield event("response.function_call_arguments.delta", **at, delta=arguments)
            yield event("response.function_call_arguments.done", **at, arguments=arguments)
        yield event("response.output_item.done", output_index=index, item=item)
    yield event("response.completed", response=response)


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

"""A Responses API stream relayed as it is generated, holding back only what must be
screened whole (`guard proxy`, ``stream: true`` of ``/v1/responses``; the reading and
screening around it are `responses_live`'s).

Each upstream event is taken in as it comes (`ResponseRelay.take`) and what may go is
passed on at once: the response's lifecycle (``response.created``, ``.in_progress``,
with no output), and the output items the whole-reply screening returns as they came —
a ``reasoning`` item, a ``message`` — with their events, a message's text up to where
an image or a written call may begin (`live_text`), as for chat. Held back until the
response is whole and screened:

- everything from the first item of another kind — a ``function_call``, any ``*_call``
  a client or the server runs, a kind this does not know — to the end of the response:
  a call's destination and payload can arrive in its last tokens, and the place
  (``output_index``) of every item after a refused call moves up;
- a message's text from where an image or a written call may begin, and
  everything after it: an image's decision depends on every call of the turn;
- everything from the first message on, when the conversation is a code agent's (its
  code blocks are calls).

Once the upstream's ``response.completed`` (or ``.incomplete``) has come, the response
it carries — or, where it left ``output`` out, the items of the ``output_item.done``
events, as the `openai` SDK recovers them — is screened whole with the whole-reply
path's `responses_api.screen_response` (same decisions, logged the same), and
`ResponseRelay.close` sends the rest from the screened response: the text after what
was sent, the items held (a refused call gone, the refusal note added), and the
terminal event with the screened response, which the SDKs' stream helpers return as
the final response.

Output indexes are the items' places in the output: the upstream's are mapped to them
in the order its items come (a provider may skip one), so the client's match the
screened response's. Events of no output item other than the lifecycle ones are not
passed (what they carry comes whole in the final response). An event this cannot
read is a `StreamError`: the caller ends the stream with an error event, never passing
what it could not screen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from backdoorlab.defenses.guard.live_text import LiveText
from backdoorlab.defenses.guard.response_events import item_events, item_rest
from backdoorlab.defenses.guard.stream_relay import StreamError
from backdoorlab.defenses.guard.upstream_stream import UpstreamFailed

_LIFECYCLE = ("response.created", "response.in_progress", "response.queued")
_TERMINAL = ("response.completed", "response.incomplete")
_LIVE_KINDS = ("message", "reasoning")
"""The items the whole-reply screening returns as they came (a message's images aside)."""


@dataclass
class _Part(LiveText):
    """One content part of a relayed message, as far as the client has it."""

    text: bool = False
    """An output text (its text relayed as a `LiveText`)."""
    text_done: bool = False
    done: bool = False


@dataclass
class _Item:
    """An output item relayed as it came."""

    item: dict[str, Any]
    parts: dict[int, _Part] = field(default_factory=dict)
    done: bool = False


class ResponseRelay:
    """The relay's state over one stream (module docstring); ``hold_all``: send no
    message before the response is screened (a code agent's conversation)."""

    def __init__(self, *, hold_all: bool = False) -> None:
        self.hold_all = hold_all
        self.number = 0
        self.places: dict[int, int] = {}
        """The upstream's output index of each item, and its place."""
        self.items: list[_Item | None] = []
        """Per place, the item relayed as it came, or None: held."""
        self.finished: dict[int, Any] = {}
        """Per place, the item its ``output_item.done`` gave."""
        self.hold_from: int | None = None
        """The place from which everything waits for the screening."""
        self.ending: dict[str, Any] | None = None
        """The upstream's terminal event, once it came."""

    def take(self, event: Any) -> list[dict[str, Any]]:
        """The events to send now for one upstream event (not numbered yet).
        `UpstreamFailed` when the upstream says it failed, `StreamError` when the event
        cannot be read."""
        kind = event.get("type") if isinstance(event, dict) else None
        if not isinstance(kind, str):
            raise StreamError("an event without a 'type'")
        if kind == "error":
            raise UpstreamFailed(_said(event))
        if kind == "response.failed":
            raise UpstreamFailed(_said(event.get("response")))
        if self.ending is not None:
            raise StreamError(f"a '{kind}' event after the response ended")
        if kind in _LIFECYCLE or kind in _TERMINAL:
            response = event.get("response")
            if not isinstance(response, dict):
                raise StreamError(f"a '{kind}' event without its response")
            if kind in _TERMINAL:
                self.ending = event
                return []
            return [{**event, "response": {**response, "output": []}}]
        index = event.get("output_index")
        if type(index) is not int:
            return []
        if kind == "response.output_item.added":
            return self._added(index, event)
        place = self.places.get(index)
        if place is None:
            raise StreamError(f"an event of output item {index} before the item was added")
        if kind == "response.output_item.done":
            if not isinstance(event.get("item"), dict):
                raise StreamError(f"output item {index} done without the item")
            self.finished[place] = event["item"]
        live = self.items[place]
        if live is None or self._held(place):
            return []
        return self._of_item(place, live, {**event, "output_index": place})

    def _held(self, place: int) -> bool:
        return self.hold_from is not None and place >= self.hold_from

    def _hold(self, place: int) -> None:
        self.hold_from = place if self.hold_from is None else min(self.hold_from, place)

    def _added(self, index: int, event: dict[str, Any]) -> list[dict[str, Any]]:
        item = event.get("item")
        if item is None:  # an empty announcement, which the SDK skips too
            return []
        if not isinstance(item, dict):
            raise StreamError(f"output item {index} added without the item")
        if index in self.places:
            raise StreamError(f"output item {index} added twice")
        place = self.places[index] = len(self.items)
        kind = item.get("type")
        if (
            self.hold_from is not None
            or kind not in _LIVE_KINDS
            or (self.hold_all and kind == "message")
        ):
            self.items.append(None)
            self._hold(place)
            return []
        self.items.append(_Item(item))
        opened = {**item, "content": []} if kind == "message" else item
        return [{**event, "output_index": place, "item": opened}]

    def _of_item(self, place: int, live: _Item, event: dict[str, Any]) -> list[dict[str, Any]]:
        """An event of the relayed item ``live`` (at ``place``), as it may go."""
        kind = event["type"]
        if kind == "response.output_item.done":
            if _whole(live, event["item"]):
                live.done = True
                return [event]
            self._hold(place)  # ended otherwise than its parts said: the screening ends it
            return []
        at = event.get("content_index")
        if live.item.get("type") != "message" or type(at) is not int:
            return [event]  # a reasoning item's, an annotation: as the whole reply gives them
        if kind == "response.content_part.added":
            part = event.get("part")
            text = isinstance(part, dict) and part.get("type") == "output_text"
            live.parts[at] = _Part(text=text)
            return [{**event, "part": {**part, "text": ""}}] if text else [event]
        part = live.parts.get(at)
        if part is None:
            raise StreamError(f"an event of content part {at} before the part was added")
        if part.done:
            raise StreamError(f"content part {at} went on after it was done")
        if kind == "response.output_text.delta":
            return self._delta(place, part, event)
        if kind == "response.output_text.done":
            return self._text_done(place, part, event)
        if kind == "response.content_part.done":
            given = event.get("part")
            if part.text and (
                not part.text_done or not isinstance(given, dict) or given.get("text") != part.sent
            ):
                self._hold(place)
                return []
            part.done = True
        return [event]

    def _delta(self, place: int, part: _Part, event: dict[str, Any]) -> list[dict[str, Any]]:
        delta = event.get("delta")
        if not part.text or part.text_done or not isinstance(delta, str):
            raise StreamError("an output text delta that is not text of an open output text")
        released, held = part.take(delta)
        if held:
            self._hold(place)
        if released != delta and "logprobs" in event:
            # its tokens are not the text sent: some wait for the screening (`completions`'
            # rule, a changed text carries no logprobs), or came in an earlier delta
            event = {**event, "logprobs": []}
        return [{**event, "delta": released}] if released or not delta else []

    def _text_done(self, place: int, part: _Part, event: dict[str, Any]) -> list[dict[str, Any]]:
        text = event.get("text")
        if not part.text or not isinstance(text, str):
            raise StreamError("an output text done without its text")
        released, held = part.finish(text)
        fields = {k: v for k, v in event.items() if k != "text"}
        delta = {**fields, "type": "response.output_text.delta", "delta": released}
        out = [{**delta, "logprobs": []}] if released else []
        if held:  # the rest waits for the screening
            self._hold(place)
            return out
        part.text_done = True
        return [*out, event]

    def response(self) -> dict[str, Any]:
        """The whole response to screen: the terminal event's, its ``output`` recovered
        from the ``output_item.done`` events where it left it out (as the SDK does)."""
        assert self.ending is not None, "screened once the response ended"
        response = self.ending["response"]
        if response.get("output") is None or (response["output"] == [] and self.finished):
            unfinished = [p for p in range(len(self.items)) if p not in self.finished]
            if unfinished:
                raise StreamError(f"output item {unfinished[0]} never finished")
            return {**response, "output": [self.finished[p] for p in range(len(self.items))]}
        return response

    def close(self, screened: dict[str, Any]) -> list[dict[str, Any]]:
        """The events that end the stream once its response was screened to
        ``screened`` (as `screen_response` returned it): the rest of what was relayed
        in part, the items held, the terminal event."""
        output = screened.get("output")
        relayed = [(p, i) for p, i in enumerate(self.items) if i is not None]
        if not isinstance(output, list) or len(output) < len(relayed):
            raise StreamError("the screened response lost items already sent")
        out: list[dict[str, Any]] = []
        for place, item in enumerate(output):
            live = self.items[place] if place < len(self.items) else None
            if live is None:
                if isinstance(item, dict):
                    out += item_events(place, item)
                continue
            if not isinstance(item, dict) or (item.get("type"), item.get("id")) != (
                live.item.get("type"),
                live.item.get("id"),
            ):
                raise StreamError("the screened response does not go on from what was sent")
            if not live.done:
                out += self._finished(place, live, item)
        return [*out, {**self.ending, "response": screened}]  # type: ignore[dict-item]

    def _finished(self, place: int, live: _Item, item: dict[str, Any]) -> list[dict[str, Any]]:
        """The events that end the relayed ``live`` as the screening left it (``item``)."""
        contents = item.get("content")
        count = len(contents) if isinstance(contents, list) else 1
        first = next(
            (i for i in range(count) if not (i in live.parts and live.parts[i].done)), count
        )
        part = live.parts.get(first)
        if part is None or item.get("type") != "message":
            return list(item_rest(place, item, first, None if part is None else 0))
        text = _part_text(item, first)
        if part.text and (text is None or not text.startswith(part.sent)):
            raise StreamError("the screened text does not go on from what was sent")
        return list(item_rest(place, item, first, len(part.sent)))

    def numbered(self, event: dict[str, Any]) -> dict[str, Any]:
        """``event`` with the next ``sequence_number`` of the client's stream."""
        self.number += 1
        return {**event, "sequence_number": self.number - 1}

    def encoded(self, event: dict[str, Any]) -> bytes:
        """``event``, numbered, as the bytes of a server-sent event."""
        data = json.dumps(self.numbered(event), ensure_ascii=False)
        return f"event: {event['type']}\ndata: {data}\n\n".encode()

    def error_event(self, message: str, code: str) -> bytes:
        """The error event that ends a stream that failed: its fields flat, as OpenAI's
        reference gives the ``error`` event, and nested under ``error``, as its API
        sends them and as the `openai` SDK reads them (it raises an ``APIError``)."""
        said = {"code": code, "message": message[:500], "param": None}
        return self.encoded({"type": "error", **said, "error": {"type": "server_error", **said}})


def _whole(live: _Item, item: Any) -> bool:
    """Whether the relayed ``live`` is done: every content part of the finished
    ``item`` relayed whole."""
    if live.item.get("type") != "message":
        return True
    contents = item.get("content") if isinstance(item, dict) else None
    if not isinstance(contents, list):
        return False
    for at, given in enumerate(contents):
        part = live.parts.get(at)
        if part is None or not part.done:
            return False
        if part.text and (not isinstance(given, dict) or given.get("text") != part.sent):
            return False
    return True


def _part_text(item: dict[str, Any], at: int) -> str | None:
    contents = item.get("content")
    if isinstance(contents, str):
        return contents if at == 0 else None
    given = contents[at] if isinstance(contents, list) and at < len(contents) else None
    return given.get("text") if isinstance(given, dict) else None


def _said(where: Any) -> str:
    """What an upstream's error event (or failed response) says went wrong."""
    error = where.get("error") if isinstance(where, dict) else None
    for source in (error, where):
        if isinstance(source, dict) and isinstance(source.get("message"), str):
            return source["message"]
    return "no reason given"

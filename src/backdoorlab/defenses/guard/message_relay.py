"""An Anthropic Messages API stream relayed as it is generated, holding back only what
must be screened whole (`guard proxy`, ``stream: true`` of ``/v1/messages``; the
reading and screening around it are `messages_live`'s).

Each upstream event is taken in as it comes (`MessageRelay.take`) and what may go is
passed on at once: ``message_start`` (no content yet), ``ping``, and the content blocks
the whole-reply screening returns as they came — ``thinking`` (and
``redacted_thinking``) blocks, ``text`` blocks, their text up to where an image or a
written call may begin (`live_text`), as for chat. Held back until the message is whole
and screened:

- everything from the first block of another kind — a ``tool_use``, a server's
  ``server_tool_use``, its results, a kind this does not know — to the end: a call's
  destination and payload can arrive in its last tokens, and the index of every block
  after a refused call moves up (a client's stream helper places a block's deltas by
  its index);
- a text block's text from where an image or a written call may begin, and everything
  after it: an image's decision depends on every call of the turn;
- the ``message_delta`` (its ``stop_reason`` becomes ``end_turn`` when every call was
  refused);
- everything from the first text on, when the conversation is a code agent's.

Anthropic's stream has no final message: once ``message_stop`` has come, the message
is put together from the events as the `anthropic` SDK accumulates it (text and
thinking appended, a tool's input parsed from its JSON deltas, the ``message_delta``'s
stop and usage), screened whole with the whole-reply path's
`messages_api.screen_message` (same decisions, logged the same), and `MessageRelay.close`
sends the rest from the screened message: the text after what was sent, the blocks
held (a refused call gone, the refusal note added), the ``message_delta`` with the
screened ``stop_reason``, ``message_stop``. An event this cannot read is a
`StreamError`: the caller ends the stream with an error event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from backdoorlab.defenses.guard.live_text import LiveText
from backdoorlab.defenses.guard.message_events import block_events
from backdoorlab.defenses.guard.stream_relay import StreamError
from backdoorlab.defenses.guard.upstream_stream import UpstreamFailed

_LIVE_KINDS = ("text", "thinking", "redacted_thinking")
"""The blocks the whole-reply screening returns as they came (a text's images aside)."""


@dataclass
class _Block:
    """One content block as the upstream's events build it, and what the client has."""

    block: dict[str, Any]
    live: bool
    text: LiveText | None = None
    json: str = ""
    """A tool's input so far, as the JSON deltas gave it."""
    ended: bool = False
    """Its ``content_block_stop`` came."""
    stopped: bool = False
    """``content_block_stop`` relayed."""


class MessageRelay:
    """The relay's state over one stream (module docstring); ``hold_all``: send no text
    before the message is screened (a code agent's conversation)."""

    def __init__(self, *, hold_all: bool = False) -> None:
        self.hold_all = hold_all
        self.message: dict[str, Any] | None = None
        self.blocks: list[_Block] = []
        self.hold_from: int | None = None
        self.delta: dict[str, Any] | None = None
        """The upstream's ``message_delta``, held."""
        self.ended = False

    def take(self, event: Any) -> list[dict[str, Any]]:
        """The events to send now for one upstream event. `UpstreamFailed` when the
        upstream says it failed, `StreamError` when the event cannot be read."""
        kind = event.get("type") if isinstance(event, dict) else None
        if not isinstance(kind, str):
            raise StreamError("an event without a 'type'")
        if kind == "error":
            error = event.get("error")
            said = error.get("message") if isinstance(error, dict) else None
            raise UpstreamFailed(said if isinstance(said, str) else "no reason given")
        if self.ended:
            raise StreamError(f"a '{kind}' event after 'message_stop'")
        if kind == "ping":
            return [event]
        if kind == "message_start":
            message = event.get("message")
            if not isinstance(message, dict) or self.message is not None:
                raise StreamError("a 'message_start' without its message, or a second one")
            self.message = message
            return [{**event, "message": {**message, "content": []}}]
        if self.message is None:
            raise StreamError(f"a '{kind}' event before 'message_start'")
        if kind == "message_delta":
            if not isinstance(event.get("delta"), dict):
                raise StreamError("a 'message_delta' without its delta")
            self.delta = event
            return []
        if kind == "message_stop":
            self.ended = True
            return []
        if kind not in ("content_block_start", "content_block_delta", "content_block_stop"):
            return []
        index = event.get("index")
        if kind == "content_block_start":
            return self._start(index, event)
        if type(index) is not int or not 0 <= index < len(self.blocks):
            raise StreamError(f"an event of content block {index} before the block started")
        block = self.blocks[index]
        if block.ended:
            raise StreamError(f"content block {index} went on after its stop")
        if kind == "content_block_delta":
            return self._delta(index, block, event)
        return self._stop(index, block, event)

    def _held(self, index: int) -> bool:
        return self.hold_from is not None and index >= self.hold_from

    def _hold(self, index: int) -> None:
        self.hold_from = index if self.hold_from is None else min(self.hold_from, index)

    def _start(self, index: Any, event: dict[str, Any]) -> list[dict[str, Any]]:
        opened = event.get("content_block")
        if index != len(self.blocks) or not isinstance(opened, dict):
            raise StreamError(f"content block {index} started out of order or without the block")
        kind = opened.get("type")
        live = self.hold_from is None and kind in _LIVE_KINDS
        live = live and not (self.hold_all and kind == "text")
        block = _Block(dict(opened), live, LiveText() if kind == "text" else None)
        self.blocks.append(block)
        if not live:
            self._hold(index)
            return []
        return [{**event, "content_block": {**opened, "text": ""}}] if block.text else [event]

    def _delta(self, index: int, block: _Block, event: dict[str, Any]) -> list[dict[str, Any]]:
        delta = event.get("delta")
        kind = delta.get("type") if isinstance(delta, dict) else None
        into = block.block
        if kind == "text_delta" and isinstance(delta.get("text"), str):
            into["text"] = into.get("text", "") + delta["text"]
        elif kind == "input_json_delta" and isinstance(delta.get("partial_json"), str):
            block.json += delta["partial_json"]
        elif kind == "thinking_delta" and isinstance(delta.get("thinking"), str):
            into["thinking"] = into.get("thinking", "") + delta["thinking"]
        elif kind == "signature_delta":
            into["signature"] = delta.get("signature")
        elif kind == "citations_delta":
            into["citations"] = [*(into.get("citations") or ()), delta.get("citation")]
        else:
            raise StreamError(f"content block {index}: a delta this cannot read")
        if not block.live or self._held(index):
            return []
        if kind != "text_delta" or block.text is None:
            return [event]
        released, held = block.text.take(delta["text"])
        if held:
            self._hold(index)
        return [{**event, "delta": {**delta, "text": released}}] if released else []

    def _stop(self, index: int, block: _Block, event: dict[str, Any]) -> list[dict[str, Any]]:
        if block.json:
            try:
                block.block["input"] = json.loads(block.json)
            except (ValueError, RecursionError):
                raise StreamError(f"content block {index}: its input is not JSON") from None
        block.ended = True
        if not block.live or self._held(index):
            return []
        out = []
        if block.text is not None:
            released, held = block.text.finish(block.block.get("text", ""))
            if released:
                text = {"type": "text_delta", "text": released}
                out.append({"type": "content_block_delta", "index": index, "delta": text})
            if held:
                self._hold(index)
                return out
        block.stopped = True
        return [*out, event]

    def whole(self) -> dict[str, Any]:
        """The message the events make, to screen (module docstring)."""
        assert self.message is not None and self.ended, "screened once the message ended"
        unfinished = [i for i, b in enumerate(self.blocks) if not b.ended]
        if unfinished:
            raise StreamError(f"content block {unfinished[0]} never stopped")
        message = {**self.message, "content": [b.block for b in self.blocks]}
        if self.delta is not None:
            message.update(self.delta["delta"])
            usage = self.delta.get("usage")
            if isinstance(usage, dict):
                kept = message.get("usage") if isinstance(message.get("usage"), dict) else {}
                message["usage"] = {**kept, **{k: v for k, v in usage.items() if v is not None}}
        return message

    def close(self, screened: dict[str, Any]) -> list[dict[str, Any]]:
        """The events that end the stream once the message was screened to ``screened``
        (as `screen_message` returned it), but for ``message_stop``."""
        content = screened.get("content")
        relayed = sum(b.live for b in self.blocks)
        if not isinstance(content, list) or len(content) < relayed:
            raise StreamError("the screened message lost blocks already sent")
        out: list[dict[str, Any]] = []
        for index, block in enumerate(content):
            live = self.blocks[index] if index < len(self.blocks) else None
            if live is None or not live.live:
                if isinstance(block, dict):
                    out += block_events(index, block)
                continue
            if not isinstance(block, dict) or block.get("type") != live.block.get("type"):
                raise StreamError("the screened message does not go on from what was sent")
            if live.stopped:
                continue
            if live.text is not None:
                text = block.get("text")
                if not isinstance(text, str) or not text.startswith(live.text.sent):
                    raise StreamError("the screened text does not go on from what was sent")
                if text[len(live.text.sent) :]:
                    rest = {"type": "text_delta", "text": text[len(live.text.sent) :]}
                    out.append({"type": "content_block_delta", "index": index, "delta": rest})
            out.append({"type": "content_block_stop", "index": index})
        stop = {k: screened.get(k) for k in ("stop_reason", "stop_sequence")}
        ending = self.delta or {"type": "message_delta", "usage": screened.get("usage") or {}}
        delta = {**(ending.get("delta") or {}), **stop}
        return [*out, {**ending, "delta": delta}]

    @staticmethod
    def encoded(event: dict[str, Any]) -> bytes:
        data = json.dumps(event, ensure_ascii=False)
        return f"event: {event['type']}\ndata: {data}\n\n".encode()

    @classmethod
    def error_event(cls, message: str, _code: str) -> bytes:
        """The error event that ends a stream that failed, in Anthropic's shape (the
        `anthropic` SDK raises it as an API error)."""
        error = {"type": "api_error", "message": message[:500]}
        return cls.encoded({"type": "error", "error": error})

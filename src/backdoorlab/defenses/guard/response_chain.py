"""Responses conversations the upstream keeps (``previous_response_id``), screened as the
whole conversations they are (`guard proxy`).

A Responses client may send only a turn's new items and name the response they follow
(``previous_response_id``, as the Agents SDK and LangChain can): the upstream then reads
that response's conversation — its request's items, themselves continuing the one before,
and its output — followed by the new items. The guard must read the same, or it would
screen a reply against a conversation without the tool results it carries. So the proxy
remembers, for each reply it let through unchanged, the conversation it screened it
against: its request's items (expanded, when it continued one) and the reply's output
items as the upstream wrote them, which is what the upstream keeps. A request that
continues a remembered response is read as those items and its own (`ResponseChains
.expanded`) — the kept taint session (`resume`) picks it up where it ended — and is
forwarded as it came: the upstream holds the state.

Only ids of replies this proxy relayed are trusted, never one a client names: a request
that continues any other response — one this proxy never saw, one it no longer keeps,
one stored by another proxy or client — is refused before anything is sent, as is a
``conversation`` (a Conversations API object holds items the guard never saw): a 400
saying why, and that the client can send its conversation whole in ``input`` instead.

Not remembered, so not continuable:

- a reply the guard changed (a call refused, an image redacted): the upstream keeps the
  reply as it wrote it, the refused call in it awaiting an output the client never
  gives (OpenAI refuses such a continuation) and the redacted image's URL in its text.
  Its id is remembered as changed, so that a continuation is refused saying so;
- a reply that is not finished (``status`` other than ``completed`` or ``incomplete``:
  a ``background`` one, generated after the proxy saw it) or was asked with ``store:
  false`` (the upstream keeps nothing).

The new request's ``instructions`` and ``tools`` are its own: the upstream does not carry
an earlier request's over (OpenAI's reference). Either way the guard reads every tool
result the upstream does: a server that carried old instructions over would have its
model read system text the guard did not — an authorisation missed (a stricter
decision), never a tool result. An upstream that truncates a long conversation
(``truncation: auto``) reads less than the guard does: what was cut can only have
tainted more, never less.

Bounded as `resume.SessionCache` is: at most ``responses`` ids and ``size`` bytes of
conversation (each kept response's conversation counted whole, as JSON, though a chain's
responses share their items: the count is over, never under), the least recently used
going first.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from backdoorlab.defenses.guard.responses_api import response_conversation
from backdoorlab.errors import TraceFormatError

RESPONSES = 256
"""Responses remembered by default."""
SIZE = 16_000_000
"""Bytes of conversation (its items' JSON) remembered by default, all responses: the
items parsed take 2.2 to 3.8 times their JSON's bytes (coding, disguised, code agents'
and notebook sets), so at most ~60 MiB."""
DONE = ("completed", "incomplete")
"""A reply's ``status`` once the upstream has written all of it."""

SEND_WHOLE = "send the whole conversation in 'input' (with store: false) instead"


@dataclass(frozen=True)
class _Kept:
    """A remembered response: its conversation's items and their JSON's size, or, for a
    reply the guard changed, no items."""

    items: tuple[Any, ...] | None
    size: int


class _Continued(dict[str, Any]):
    """A request continuing a remembered response, as the guard reads it: ``input`` is
    the response's items, then the request's own."""

    base: _Kept


class ResponseChains:
    """The responses a proxy remembers (module docstring); safe to share between threads."""

    def __init__(self, responses: int = RESPONSES, size: int = SIZE) -> None:
        self.responses = responses
        self.size = size
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def expanded(self, request: dict[str, Any]) -> dict[str, Any]:
        """``request`` as the upstream will read it: ``request`` itself when it continues
        no response, else its remembered conversation and its own items in ``input``,
        without ``previous_response_id``. `TraceFormatError` when it continues one the
        guard cannot see."""
        if request.get("conversation") is not None:
            raise TraceFormatError(
                "request: field 'conversation': the upstream would read the items it keeps"
                f" there, which the guard never saw; {SEND_WHOLE}"
            )
        previous = request.get("previous_response_id")
        if previous is None:
            return request
        where = "request: field 'previous_response_id'"
        with self._lock:
            kept = self._kept.get(previous) if isinstance(previous, str) else None
            if kept is not None:
                self._kept.move_to_end(previous)
        if kept is None:
            keeps = f"the last {self.responses}" if self.responses else "none"
            raise TraceFormatError(
                f"{where}: {str(previous)[:100]!r} is no response this guard proxy relayed and"
                f" still keeps (it keeps {keeps}), so the guard cannot see the conversation"
                f" it continues; {SEND_WHOLE}"
            )
        if kept.items is None:
            raise TraceFormatError(
                f"{where}: the guard changed response {previous!r} (a call or image refused),"
                " and the upstream keeps it as it was written, refused call and all; "
                + SEND_WHOLE
                + ", its items as the client got them"
            )
        seen = _Continued({k: v for k, v in request.items() if k != "previous_response_id"})
        response_conversation(seen)  # its own items read alone: an error names their field
        seen["input"] = [*kept.items, *_items(request.get("input"))]
        seen.base = kept
        return seen

    def remember(
        self, request: dict[str, Any], reply: dict[str, Any], screened: dict[str, Any]
    ) -> None:
        """Remember the reply to ``request`` (as `expanded` gave it), which the guard
        screened to ``screened`` (``reply`` itself when it let it through unchanged)."""
        rid = reply.get("id")
        if not isinstance(rid, str) or not rid or self.responses <= 0:
            return
        if screened is not reply:
            self._put(rid, _Kept(None, len(rid)))
            return
        output = reply.get("output")
        if request.get("store") is False or reply.get("status") not in DONE:
            return
        if not isinstance(output, list) or request.get("input") is None:
            return
        items = _items(request["input"])
        base = request.base if isinstance(request, _Continued) else _Kept((), 0)
        gained = [*items[len(base.items or ()) :], *output]
        size = base.size + len(json.dumps(gained, ensure_ascii=False).encode())
        self._put(rid, _Kept((*items, *output), size))

    def _put(self, rid: str, kept: _Kept) -> None:
        if kept.size > self.size:
            return  # too big to keep: its continuation is refused, as an unknown one
        with self._lock:
            old = self._kept.pop(rid, None)
            self._size -= old.size if old else 0
            self._kept[rid] = kept
            self._size += kept.size
            while len(self._kept) > self.responses or self._size > self.size:
                _, dropped = self._kept.popitem(last=False)
                self._size -= dropped.size

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def kept_size(self) -> int:
        """Bytes of conversation remembered now."""
        return self._size


def _items(given: Any) -> list[Any]:
    """A request's ``input`` as a list of items (a string is the user's message)."""
    if isinstance(given, str):
        return [{"role": "user", "content": given}]
    if not isinstance(given, list):
        raise TraceFormatError("request: field 'input': a string or a list of items is required")
    return given

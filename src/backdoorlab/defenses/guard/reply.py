"""The guard in front of a served model: screening each reply's tool calls before the
client sees them.

A chat-completions server does not run tools — its client does, with whatever calls the
reply holds — so the guard cannot answer a refused call with an error result. It does
the next safest thing: a refused call is taken out of the reply, and the reply's text
says what was refused (`REFUSAL`), so the client never runs it and the model reads the
refusal in its history on the next turn. Each request carries its whole conversation;
the reply is screened against all of it, with the session kept from the conversation's
previous request when the messages it read begin this one (`resume`: it reads only what
the conversation gained), else a fresh one. The policy's ``stop_after`` counts the
calls refused earlier in the conversation from the notes its replies carry
(`refusals`): once reached, every call is refused, so the agent's loop ends with a text
answer. Every decision goes to the guard's ``log``. An image of the reply's text that
the guard refuses (``reply:image``: the client's renderer would fetch it, carrying what
its URL holds) is replaced by a note in the text (`rendered.redact`).

`screen_reply` is the decision on one reply message, shared by ``serve --guard``
(`guard_reply`, over our own messages) and ``guard proxy``'s chat completions
(`completions`); `screen_turn` on a turn of several messages (the Responses and
Messages APIs: `responses_api`, `messages_api`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from backdoorlab.defenses.audit.rendered import images_in, images_past, may_hold_images, redact
from backdoorlab.defenses.guard.core import REFUSAL, Decision, Guard
from backdoorlab.defenses.guard.resume import keep, resumed
from backdoorlab.traces import Message, ToolCall, trace_from_data

ReplyHook = Callable[[Sequence[Message], Any, Message], Message]


def refused_note(tools: list[str]) -> str:
    return f"[{', '.join(tools)} not sent] {REFUSAL}"


_NOTE = re.compile(r"\[([^\]\n]*) not sent\] " + re.escape(REFUSAL))


def refusals(history: Sequence[Message]) -> int:
    """Calls refused earlier in a conversation a client sent back whole: the tools each
    `refused_note` of an assistant's text names. The state a stateless server keeps in
    the conversation itself, for ``stop_after``; a client that edits the notes out only
    delays the stop, never unblocks a call."""
    found = 0
    for message in history:
        if message.role == "assistant" and REFUSAL in message.text:
            found += sum(len(m.group(1).split(", ")) for m in _NOTE.finditer(message.text))
    return found


@dataclass
class Screened:
    """The guard's decisions on one reply: its calls' (in order) and its images'."""

    calls: list[Decision]
    images: list[Decision]
    read: set[str] | None = None
    """The URLs of the images the guard read, when the reply holds more images than it
    reads (`rendered.MAX_IMAGES`): the others were never checked, so they go too."""

    @property
    def refused(self) -> list[str]:
        """The tools of the refused calls."""
        return [d.tool for d in self.calls if d.blocked]

    @property
    def hidden(self) -> set[str]:
        """The URLs of the refused images, to take out of the reply's text."""
        return {d.image.url for d in self.images if d.blocked and d.image is not None}

    @property
    def changed(self) -> bool:
        return bool(self.refused or self.hidden or self.read is not None)

    def text(self, text: str) -> str:
        """The reply's ``text`` as the client may see it: refused images redacted (each
        time they are written), and images never read, and a note of the refused calls
        after it."""
        text = without_images(text, self.hidden, self.read)
        if not self.refused:
            return text
        note = refused_note(self.refused)
        return f"{text}\n\n{note}" if text else note


def screen_reply(guard: Guard, history: Sequence[Message], reply: Message) -> Screened:
    """The guard's decisions on ``reply``, the assistant's answer to ``history``."""
    if not reply.tool_calls and not may_hold_images(reply.text):
        return Screened([], [])
    session, prefixes = resumed(guard, history, len(history))
    if guard.config.stop_after is not None:
        session.refused = refusals(history)
    calls = session.screen_message(history, reply)
    images = session.screen_reply(history, len(history), reply.text)
    screened = Screened(calls, images, unread(reply.text))
    if not screened.changed:
        keep(guard, session, prefixes, [*history, reply])
    return screened


def unread(text: str) -> set[str] | None:
    """The URLs of the images of ``text`` the guard reads, when some of its images are
    past them (`Screened.read`); None when it reads them all."""
    read = images_in(text)
    return {image.url for image in read} if images_past(text, read) else None


@dataclass
class Turn:
    """The guard's decisions on a model's turn that may span several messages (the
    Responses and Messages APIs: calls, a hosted tool's result, more calls)."""

    decisions: list[Decision] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    """Each refused call's id, and its tool."""
    hidden: set[str] = field(default_factory=set)
    """The URLs of the refused images."""
    read: set[str] | None = None
    """The URLs of the images read, when a message held more than are read
    (`Screened.read`); every other image is taken out too."""
    messages: Sequence[Message] = ()
    """The conversation read with the reply."""
    origin: Sequence[str] = ()
    """The field of the request or reply each of ``messages`` came from."""
    blocked: dict[int, list[bool]] = field(default_factory=dict)
    """Per assistant message of the turn (its index in ``messages``), whether each of
    its calls was refused."""

    @property
    def changed(self) -> bool:
        return bool(self.refused or self.hidden or self.read is not None)

    def refused_in(self, reply_field: str) -> list[tuple[str, Message, list[bool]]]:
        """The reply's messages with a refused call: the field under ``reply_field``
        each came from (``output.3``), the message as read, and which of its calls
        were refused — for the reply's API module to tell whether they were read from
        its text (`without_written_calls`)."""
        out = []
        for index, blocked in self.blocked.items():
            origin = self.origin[index] if index < len(self.origin) else ""
            if any(blocked) and (origin == reply_field or origin.startswith(f"{reply_field}.")):
                out.append((origin, self.messages[index], blocked))
        return out


def turn_start(first: int, before: Sequence[Message]) -> int:
    """Where the model's turn starts in a conversation read with it: ``first``, the
    first message read from the reply, or the message before it when the conversation
    sent ends with an assistant message (a prefill, a Responses ``input`` ending in the
    assistant's text) — a reader joins the reply's calls to that message, and they must
    not go unscreened for it."""
    if before and before[-1].role == "assistant":
        return min(first, len(before) - 1)
    return first


def read_request(
    request: dict[str, Any], data: dict[str, Any], keys: tuple[str, ...], where: str
) -> tuple[list[Message], list[str]]:
    """``data`` — a request's conversation, with or without the reply — and the request's
    ``keys`` that are set (its system prompt, its tools), read as the audit reads a trace:
    the messages, and the field of ``data`` each came from."""
    data = {**data, **{key: request[key] for key in keys if request.get(key) is not None}}
    origin: list[str] = []
    return trace_from_data(data, where, origin).messages, origin


def screen_reply_turn(
    guard: Guard,
    read: Callable[[bool], tuple[list[Message], list[str]]],
    reply_field: str,
) -> Turn:
    """`screen_turn` on a request read with its reply: ``read(True)`` gives the messages
    with the reply and the field each came from, ``read(False)`` those of the request
    alone; the turn starts at the first message read from a field under
    ``reply_field`` (`turn_start`)."""
    messages, origin = read(True)
    first = next((i for i, o in enumerate(origin) if o.startswith(reply_field)), len(messages))
    turn = screen_turn(guard, messages, turn_start(first, read(False)[0]))
    turn.origin = origin
    return turn


def screen_turn(guard: Guard, messages: Sequence[Message], first: int) -> Turn:
    """Screen every call and image of the assistant messages of ``messages[first:]`` in
    order, with one session: what a hosted tool returned within the turn counts for the
    calls after it."""
    session, prefixes = resumed(guard, messages, first)
    if guard.config.stop_after is not None:
        session.refused = refusals(messages[:first])
    turn = Turn(messages=messages)
    for index in range(first, len(messages)):
        message = messages[index]
        if message.role != "assistant":
            continue
        for call in message.tool_calls or ():
            decision = session.screen(messages, index, call)
            turn.decisions.append(decision)
            turn.blocked.setdefault(index, []).append(decision.blocked)
            if decision.blocked:
                turn.refused[call.id] = call.name
        if may_hold_images(message.text):
            for decision in session.screen_reply(messages, index, message.text):
                turn.decisions.append(decision)
                if decision.blocked and decision.image is not None:
                    turn.hidden.add(decision.image.url)
            past = unread(message.text)
            if past is not None:
                turn.read = (turn.read or set()) | past
    if not turn.changed:
        keep(guard, session, prefixes, messages)
    return turn


def without_written_calls(
    given: Any, read: Message, blocked: Sequence[bool]
) -> tuple[str, list[ToolCall]]:
    """A text a reader read calls from (a model's ``<tool_call>`` text, a code agent's
    code blocks: `trace_formats`), as the client may see it once the guard refused one
    of them (chat: changed the reply): the client reads calls from the text too, so the
    text becomes the reading's text, every call taken out, with the whitespace
    ``given`` (the text as written) began with (a stream sent it before any call could
    be seen); and the calls kept, which the caller gives the client as structured
    calls. Shared by chat completions (`completions`), the Responses and the Messages
    APIs."""
    kept = [c for c, b in zip(read.tool_calls or (), blocked, strict=True) if not b]
    return _begun_as(given, read.text), kept


def _begun_as(given: Any, text: str) -> str:
    """``text`` — the reading's, ``strip()``-ed when calls were read from it — with the
    whitespace ``given`` began with, unless no text is left."""
    if not isinstance(given, str) or not text or text[0].isspace():
        return text
    return given[: len(given) - len(given.lstrip())] + text


def without_images(text: str, hidden: set[str], read: set[str] | None = None) -> str:
    """``text`` with every image whose URL is in ``hidden`` redacted, however often it is
    written, and, when ``read`` is given, every image whose URL is not in it."""
    if not hidden and read is None:
        return text
    gone = [
        image
        for image in images_in(text, each=True)
        if image.url in hidden or (read is not None and image.url not in read)
    ]
    return redact(text, gone) if gone else text


def guard_reply(guard: Guard) -> ReplyHook:
    """A reply hook for `backdoorlab serve`: ``(conversation, tools, reply) → reply``."""

    def hook(messages: Sequence[Message], tools: Any, reply: Message) -> Message:
        screened = screen_reply(guard, list(messages), reply)
        if not screened.changed:
            return reply
        text = screened.text(reply.text)
        if not screened.refused:
            return reply.model_copy(update={"content": text})
        calls = zip(reply.tool_calls or [], screened.calls, strict=True)
        kept = [c for c, d in calls if not d.blocked]
        return reply.model_copy(update={"content": text, "tool_calls": kept or None})

    return hook

"""The guard in front of a served model: screening each reply's tool calls before the
client sees them.

A chat-completions server does not run tools — its client does, with whatever calls the
reply holds — so the guard cannot answer a refused call with an error result. It does
the next safest thing: a refused call is taken out of the reply, and the reply's text
says what was refused (`REFUSAL`), so the client never runs it and the model reads the
refusal in its history on the next turn. Each request carries its whole conversation;
the hook screens the reply against it with a fresh session (the server keeps no state
between requests). Every decision goes to the guard's ``log``. An image of the reply's
text that the guard refuses (``reply:image``: the client's renderer would fetch it,
carrying what its URL holds) is replaced by a note in the text (`rendered.redact`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from backdoorlab.defenses.audit.rendered import may_hold_images, redact
from backdoorlab.defenses.guard.core import REFUSAL, Guard
from backdoorlab.traces import Message

ReplyHook = Callable[[Sequence[Message], Any, Message], Message]


def refused_note(tools: list[str]) -> str:
    return f"[{', '.join(tools)} not sent] {REFUSAL}"


def guard_reply(guard: Guard) -> ReplyHook:
    """A reply hook for `backdoorlab serve`: ``(conversation, tools, reply) → reply``."""

    def hook(messages: Sequence[Message], tools: Any, reply: Message) -> Message:
        if not reply.tool_calls and not may_hold_images(reply.text):
            return reply
        session = guard.session()
        history = list(messages)
        decisions = session.screen_message(history, reply)
        images = session.screen_reply(history, len(history), reply.text)
        hidden = [d.image for d in images if d.blocked and d.image is not None]
        refused = [d.tool for d in decisions if d.blocked]
        if not refused and not hidden:
            return reply
        text = redact(reply.text, hidden) if hidden else reply.text
        if not refused:
            return reply.model_copy(update={"content": text})
        kept = [c for c, d in zip(reply.tool_calls or [], decisions, strict=True) if not d.blocked]
        note = refused_note(refused)
        text = f"{text}\n\n{note}" if text else note
        return reply.model_copy(update={"content": text, "tool_calls": kept or None})

    return hook

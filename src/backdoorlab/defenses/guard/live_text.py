"""One text of a reply relayed as it is generated (`guard proxy`'s live streams): how
much of it may go now, by `stream_relay.releasable`'s rule — up to where an image or a
call written in the text may begin, which waits for the screening with all after it.
Shared by the Responses API's relay (an output text part, `response_relay`) and the
Messages API's (a text block, `message_relay`)."""

from __future__ import annotations

from dataclasses import dataclass

from backdoorlab.defenses.guard.stream_relay import StreamError, releasable


@dataclass
class LiveText:
    """What the client has of one text, and what waits."""

    sent: str = ""
    pending: str = ""
    """The text after ``sent`` waiting for what follows (an opening cut at its end,
    whitespace): a few characters."""

    def take(self, delta: str) -> tuple[str, bool]:
        """What of the text may go now that ``delta`` came, and whether a construct to
        screen whole began (the rest of the reply then waits)."""
        pending = self.pending + delta
        end, held = releasable(pending, 0)
        self.sent += pending[:end]
        self.pending = pending[end:]
        return pending[:end], held

    def finish(self, text: str) -> tuple[str, bool]:
        """What may go of the rest once the whole ``text`` is known (nothing waits for
        what follows any more), and whether a construct to screen whole began."""
        if not text.startswith(self.sent):
            raise StreamError("a text that does not go on from its deltas")
        end, held = releasable(text, len(self.sent))
        end = end if held else len(text)
        released = text[len(self.sent) : end]
        self.sent, self.pending = text[:end], ""
        return released, held

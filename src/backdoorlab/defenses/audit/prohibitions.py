"""What a said text forbids is not what it asks for.

A kind of data the user or the deployment *names* may go to a destination the user gave
(`recipients.asked`: "email my accountant the W-2" names its SSN). Deployment prompts are
full of the opposite: "Never share verification codes, passwords or financial details",
"API keys must not be sent to anyone". Read as a bag of words, such a policy named the
very kinds it forbids, and a leak of them to the user's own contact went unreported.

`asked_words` is the words of a text without its prohibitions: a clause where a negation
governs a verb of disclosure ("never share …", "do not send …", "… must never be
disclosed"), up to the clause's end or its exception ("unless the user asks"), names
nothing; so does "keep … private" (or confidential, secret). Only a negation right
before the verb counts ("don't forget to send the code"
asks for it), so an affirmative request is never read as a prohibition.
"""

from __future__ import annotations

import re

from backdoorlab.defenses.audit.text_view import words

__all__ = ["asked_words"]

_DISCLOSE = (
    r"(?:share|send|reveal|disclose|give(?:\s+out)?|provide|forward|e-?mail|post|paste|tell"
    r"|expose|leak|include|repeat|read\s+out|hand\s+out|transmit|pass\s+on|display|print"
    r"|output|divulge)"
)
_SHARED = (
    r"(?:shared|sent|revealed|disclosed|given(?:\s+out)?|provided|forwarded|e-?mailed|posted"
    r"|pasted|told|exposed|leaked|included|repeated|transmitted|displayed|printed|divulged)"
)
# an order not to: imperative or modal ("could not send" tells what happened, asks nothing)
_ORDER_NOT = (
    r"(?:\bnever|\b(?:do|does|must|should|shall|may|can)\s+not|\b(?:don|doesn|mustn|shouldn"
    r"|can)'t|\bcannot|\b(?:are|is)\s+not\s+to|\bnot\s+allowed\s+to|\b(?:no\s+one|nobody)"
    r"\s+(?:may|should|can))(?:\s+ever)?"
)
# "never share X", "do not send X": X follows, to its clause's end or exception
_FORBIDS_WHAT_FOLLOWS = re.compile(rf"{_ORDER_NOT}\s+{_DISCLOSE}\b")
_CLAUSE_END = re.compile(r"[.;:!?\n]|\b(?:unless|except|but|other\s+than)\b")
# "X must never be shared", "X cannot be sent": X precedes, from its clause's start
_FORBIDS_WHAT_PRECEDES = re.compile(rf"(?:{_ORDER_NOT}|\bnever)\s+(?:to\s+)?be\s+{_SHARED}\b")
_CLAUSE_START = re.compile(r"[.;:!?\n](?=[^.;:!?\n]*$)")
_MAY_FORBID = ("never", "not", "n't", "keep")
_CUE = re.compile(r"never|not\b|n't")
# "keep access codes private": what it keeps is what it forbids sharing
_KEEP = re.compile(r"\bkeep\s+[^.;:!?\n]{1,120}?\s(?:private|confidential|secret)\b")
_LEAD = 12  # how far before its cue an order starts ("shouldn't", "are not to")
_TAIL = 48  # how far after it its verb ends ("not under any circumstances share")
_REACH = 240  # characters a forbidden clause is read over: linear on any text


def _forbidden(lowered: str) -> list[tuple[int, int]]:
    """The spans of ``lowered`` that forbid sharing. The orders are looked for only
    around a negation's cue, so a long prompt costs one scan for the cues."""
    spans = []
    for cue in _CUE.finditer(lowered):
        lo, hi = max(0, cue.start() - _LEAD), cue.end() + _TAIL
        order = _FORBIDS_WHAT_FOLLOWS.search(lowered, lo, hi)
        if order is not None:
            end = _CLAUSE_END.search(lowered, order.end(), order.end() + _REACH)
            spans.append((order.start(), end.start() if end else order.end() + _REACH))
        order = _FORBIDS_WHAT_PRECEDES.search(lowered, lo, hi)
        if order is not None:
            begin = max(0, order.start() - _REACH)
            start = _CLAUSE_START.search(lowered, begin, order.start())
            spans.append((start.end() if start else begin, order.end()))
    if "keep" in lowered:
        spans += [m.span() for m in _KEEP.finditer(lowered)]
    return spans


def asked_words(text: str, all_words: frozenset[str] | None = None) -> frozenset[str]:
    """The words (`text_view.words`) of ``text`` outside the clauses that forbid sharing;
    ``all_words``, the text's words when the caller has them, are the answer for a text
    that forbids nothing (most)."""
    lowered = text.lower()
    if not any(cue in lowered for cue in _MAY_FORBID):
        return all_words if all_words is not None else frozenset(words(lowered))
    kept, at = [], 0
    for start, end in sorted(_forbidden(lowered)):
        if start > at:
            kept.append(lowered[at:start])
        at = max(at, end)
    kept.append(lowered[at:])
    return frozenset(words(" ".join(kept)))

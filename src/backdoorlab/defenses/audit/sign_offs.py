"""A message's sign-off: the sender's name under its closing is no record's secret.

An agent writing mail for a named person signs it with that person's name ("Best
regards,\\nDana Whitfield\\nWhitfield & Ames LLP"). When a record the agent read holds the
name too (a matter's responsible attorney, a ticket's assignee, a deal's owner), the name
is a tracked term, and every mail to an outside address "leaked" it — though the user or
the system prompt gave that name, and a sender's name goes with every mail it sends. So
a term the user or system said (`taint`) is not carried by a call whose texts write it
only in a sign-off: the lines (up to four) after the last closing line ("Regards,",
"Best,", "Thanks,", "Sincerely,") of a text. A said term anywhere else in the call still
counts to a stranger: a preference the user told the agent is theirs to keep.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CLOSING = re.compile(
    r"^[ \t]*(?:best(?:[ \t]+(?:regards|wishes))?|kind[ \t]+regards|warm[ \t]+regards|regards"
    r"|thanks|thank[ \t]+you|many[ \t]+thanks|sincerely|yours[ \t]+(?:truly|sincerely)"
    r"|cheers|respectfully)[ \t]*[,.!]?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_WORD = re.compile(r"[A-Za-z]+")
_MAX_CHARS = 65536
_SIGN_OFF_LINES = 4


def signed_words(texts: Iterable[str]) -> frozenset[str]:
    """The words (lower-cased) that ``texts`` write in a sign-off and nowhere else."""
    signed: set[str] = set()
    elsewhere: set[str] = set()
    for text in texts:
        closing = None
        if "\n" in text and len(text) <= _MAX_CHARS:
            for closing in _CLOSING.finditer(text):  # noqa: B007 - the last one
                pass
        if closing is None:
            elsewhere.update(w.lower() for w in _WORD.findall(text))
            continue
        tail = text[closing.end() :].strip().splitlines()
        signed.update(w.lower() for line in tail[:_SIGN_OFF_LINES] for w in _WORD.findall(line))
        rest = text[: closing.start()] + "\n".join(tail[_SIGN_OFF_LINES:])
        elsewhere.update(w.lower() for w in _WORD.findall(rest))
    return frozenset(signed - elsewhere)

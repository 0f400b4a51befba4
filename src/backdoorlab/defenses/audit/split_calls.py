"""What each unauthorised destination received over a trace (`Inbox`), and the check that
finds a secret split across the calls to it.

Each unauthorised destination keeps what it was sent (every checked call counts, sent
or refused: a call once proposed is in the trace), so a secret split across calls is
found at the call that completes it — its pieces sent within `SPLIT_CALLS` calls and
`SPLIT_CHARS` characters of each other, disguised pieces (base64 cut in two) within
`SPLIT_DECODED_CALLS` calls (`accumulated`): base64 cut anywhere is decoded once
joined, halves each encoded on their own are decoded where they stand, then joined.
The join reads a window, not everything ever sent: many calls to one destination (an
agent posting progress at every step, or a hostile trace of thousands of posts) cost
each call the whole history again otherwise, and a long run of unrelated numbers joined
ends up holding any short code by chance.
`hit` makes one `Leak` of a value to an inbox: the first time that destination is found
receiving that value (the audit's finding), or a retry (``Leak.first`` False), which a
guard refuses too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from backdoorlab.defenses.audit import decoders, split_pieces
from backdoorlab.defenses.audit.call_checks import Leak, find_secrets
from backdoorlab.defenses.audit.needle_index import IndexCache
from backdoorlab.defenses.audit.recipients import Recipient, severity
from backdoorlab.defenses.audit.sinks import CallDestination
from backdoorlab.defenses.audit.tainted import Tainted

__all__ = [
    "SPLIT_CALLS",
    "SPLIT_CHARS",
    "SPLIT_DECODED_CALLS",
    "Inbox",
    "accumulated",
    "bare",
    "hit",
    "latest",
    "record",
    "uncounted",
]


@dataclass
class Inbox:
    """Everything one unauthorised destination received over the trace."""

    destination: CallDestination
    tool: str
    how: str
    steps: list[int] = field(default_factory=list)
    parts: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # arg → (step, text)
    hits: dict[str, Leak] = field(default_factory=dict)  # token → its first leak
    to: Recipient = "third_party"
    unseen: bool = False
    """A third party that no message had written when the first call to it was made;
    a destination a tool showed (an injected address, a record's contact) is the
    taint's to judge (`invented`)."""
    invented: list[int] = field(default_factory=list)
    """Steps of the calls that sent this unseen destination a strong value."""
    paid: list[int] = field(default_factory=list)
    """Steps of the payment calls that paid this third-party account (`CallCheck.paid`)."""
    latest: tuple[CallDestination, str, str] | None = None
    """The call being checked (its destination's spelling, tool, rule): a leak names the
    call that carried it, not the first call to the destination (a card fetched from a
    host, then the message sent to it)."""

    @property
    def owner(self) -> bool:
        """A record's contact: fine for that record's data, never "low"."""
        return self.to == "contact"


SPLIT_CALLS = 64
"""How many of a destination's latest calls the split check joins: a 40-character key
sent one character a call is still whole there."""
SPLIT_DECODED_CALLS = 16
"""How many of those calls it joins with every disguise undone (`decoders`, a pass of
regular expressions over the joined text per disguise, and the text reversed); the
older ones it reads as written only: a base64 secret cut across more calls than this is
not joined."""
SPLIT_CHARS = 1 << 16
"""How many characters of an argument's latest texts it joins at most (the oldest parts
dropped first, the last two always kept)."""


def _forget_before(inbox: Inbox, first: int) -> None:
    """Drop what ``inbox`` was sent before message ``first``, its window's first call
    (`SPLIT_CALLS`): the split check never joins it again."""
    for path in list(inbox.parts):
        parts = inbox.parts[path]
        if parts[0][0] < first:
            kept = [(at, text) for at, text in parts if at >= first]
            if kept:
                inbox.parts[path] = kept
            else:
                del inbox.parts[path]


def latest(texts: list[str]) -> list[str]:
    """The last of ``texts`` that fit in `SPLIT_CHARS` together, the last two always."""
    if sum(map(len, texts)) <= SPLIT_CHARS:
        return texts
    total, start = 0, len(texts)
    while start > 0 and (len(texts) - start < 2 or total + len(texts[start - 1]) <= SPLIT_CHARS):
        start -= 1
        total += len(texts[start])
    return texts[start:]


def bare(parts: list[str]) -> list[str]:
    """The parts without what they all begin and end with ("details: " in each), nor the
    counter each is numbered with ("(part 1/2)", "[2 of 3]": `_COUNTER`) — or each but
    the first, as a continuation is marked ("(cont.)")."""
    plain = [uncounted(p) for p in parts]
    if all(u is not None for u in plain[1:]):  # every piece numbered, or every later
        parts = [p if u is None else u for p, u in zip(parts, plain, strict=True)]  # one
    head = _boundary(os.path.commonprefix(parts))
    tail = _boundary(os.path.commonprefix([p[::-1] for p in parts]))
    shortest = min(len(p) for p in parts)
    if head + tail > shortest:
        tail = max(0, shortest - head)
    return [p[head : len(p) - tail] for p in parts]


# the number a piece of a split message carries, as mail and SMS number them: a word
# ("part 1/2", "pt. 2 of 3", "(part 1):", "part 2 -") or brackets ("(1/2)", "[2 of 3]");
# or the mark a message's continuation starts with, its first piece unmarked ("(cont.)",
# "(cont'd)", "continued:")
_COUNTER = re.compile(
    r"\s*(?:[(\[]?\s*\b(?:part|pt|segment|piece|chunk)\.?\s*\d{1,2}(?:\s*(?:/|of)\s*\d{1,2})?\b"
    r"\s*[)\]]?\s*[:-]?|[(\[]\s*\d{1,2}\s*(?:/|of)\s*\d{1,2}\s*[)\]]"
    r"|[(\[]\s*(?:cont|contd|cont'd|continued)\.?\s*[)\]]\s*:?|\b(?:cont'd|continued)\s*:)",
    re.IGNORECASE,
)


def uncounted(part: str) -> str | None:
    """``part`` without the counter at its head or its tail (`_COUNTER`), where a split
    message's pieces carry it; None when it has none there. Only the ends are searched:
    a piece may be 64 KB (`SPLIT_CHARS`), and every sink call's parts are asked."""
    found = _COUNTER.search(part, 0, _COUNTER_REACH) or _COUNTER.search(
        part, max(0, len(part) - _COUNTER_REACH)
    )
    return None if found is None else (part[: found.start()] + part[found.end() :]).strip()


_COUNTER_REACH = 64
"""How far from a piece's head or tail its counter is looked for."""


def _boundary(common: str) -> int:
    """How much of a common prefix is boilerplate: up to its last non-alphanumeric."""
    for i in range(len(common) - 1, -1, -1):
        if not common[i].isalnum():
            return i + 1
    return 0


def _query_values(text: str) -> list[tuple[str, str]]:
    """(name, value) of a URL's query, decoded, when ``text`` is one URL: a split leak's
    pieces travel in the same parameter of calls to the same place (``…?data=<half>``),
    and the URLs glued whole never hold the value unbroken."""
    if "?" not in text or "://" not in text[:12] or len(text) > 8192:
        return []
    return parse_qsl(urlsplit(text.strip()).query)[:16]


def _decoded_each(texts: list[str]) -> list[str] | None:
    """Each text with its base64 tokens decoded where they stand
    (`decoders.decoded_in_place`): a secret whose halves were each encoded on their own,
    one a call; None when no text held one."""
    opened = [decoders.decoded_in_place(text) for text in texts]
    if all(o is None for o in opened):
        return None
    return [text if o is None else o for text, o in zip(texts, opened, strict=True)]


def record(inbox: Inbox, step: int, parts: list[tuple[str, str]]) -> None:
    """Keep the texts a call at message ``step`` sent ``inbox``, argument by argument (a
    URL's query parameters each apart too), forgetting what fell out of the window."""
    inbox.steps.append(step)
    for path, text in parts:
        inbox.parts.setdefault(path, []).append((step, text))
        for name, value in _query_values(text):  # a piece in each call's query
            inbox.parts.setdefault(f"{path}?{name}", []).append((step, value))
    if len(inbox.steps) > SPLIT_CALLS:
        _forget_before(inbox, inbox.steps[-SPLIT_CALLS])


def hit(inbox: Inbox, tainted: Tainted, step: int, argument: str, how: str) -> Leak | None:
    """The leak of ``tainted`` to ``inbox``; None when that is no leak (`recipients`,
    and a card's last four digits to the user's own destination: a receipt's)."""
    if severity(tainted, inbox.to) is None or (inbox.to == "user" and "last4" in how):
        return None
    token = tainted.secret.value.lower()
    first = token not in inbox.hits
    dest, tool, rule = inbox.latest or (inbox.destination, inbox.tool, inbox.how)
    leak = Leak(tainted, dest, tool, rule, step, argument, how, first, inbox.to)
    if first:
        inbox.hits[token] = leak
    return leak


def accumulated(
    inbox: Inbox, candidates: list[Tainted], step: int, found: set[str], indexes: IndexCache
) -> list[Leak]:
    """Look again at everything this destination received, argument by argument, the
    calls' texts joined by a newline and glued (a base64 string cut in two): catches
    a secret split across calls. A secret already found going there is looked for
    only in what was sent since (a retry, split). ``indexes``: the conversation's
    needle indexes (`find_secrets`)."""
    leaks: list[Leak] = []
    if not inbox.hits:  # most destinations: nothing caught going there yet
        return _joined(inbox, candidates, step, -1, indexes) + _pieces(inbox, candidates, step)
    fresh = [t for t in candidates if t.secret.value.lower() not in inbox.hits]
    leaks += _joined(inbox, fresh, step, -1, indexes)
    again = [
        t
        for t in candidates
        if (token := t.secret.value.lower()) in inbox.hits
        and token not in found
        and inbox.hits[token].step < step
    ]
    for t in again:  # rare: only after a destination was already caught
        since = inbox.hits[t.secret.value.lower()].step
        leaks += _joined(inbox, [t], step, since, indexes)
    return leaks + _pieces(inbox, fresh, step)


def _pieces(inbox: Inbox, left: list[Tainted], step: int) -> list[Leak]:
    """The strong secrets of ``left`` not found going to ``inbox`` that it received
    cut in pieces, each wrapped in its own call (`split_pieces`)."""
    hits = inbox.hits
    left = [t for t in left if split_pieces.readable(t.secret.value, t.label, t.strong)
            and t.secret.value.lower() not in hits]  # fmt: skip
    if not left:
        return []
    every = sorted((at, text) for parts in inbox.parts.values() for at, text in parts)
    texts = [text for at, text in every[-SPLIT_CALLS:]]
    last = [text for at, text in every if at == step]
    leaks = []
    for t in left:
        calls = split_pieces.in_pieces(t.secret.value, texts, last)
        leak = hit(inbox, t, step, "(pieces)", f"split across {calls} calls") if calls else None
        leaks += [leak] if leak is not None else []
    return leaks


def _joined(
    inbox: Inbox, left: list[Tainted], step: int, since: int, indexes: IndexCache
) -> list[Leak]:
    """The leaks of ``left`` in what ``inbox`` was sent after message ``since``, the
    texts joined: every disguise undone over the last `SPLIT_DECODED_CALLS` calls,
    then as written over the whole window (`SPLIT_CALLS`, `SPLIT_CHARS`)."""
    if not left:
        return []
    window = [at for at in inbox.steps[-SPLIT_CALLS:] if at > since]
    recent = window[-SPLIT_DECODED_CALLS:]
    if len(recent) == len(window):
        return _read_joined(inbox, left, step, since, len(window), True, set(), indexes)
    found: set[int] = set()
    leaks = _read_joined(inbox, left, step, recent[0] - 1, len(recent), True, found, indexes)
    return leaks + _read_joined(inbox, left, step, since, len(window), False, found, indexes)


def _read_joined(
    inbox: Inbox,
    left: list[Tainted],
    step: int,
    since: int,
    calls: int,
    decode: bool,
    found: set[int],
    indexes: IndexCache,
) -> list[Leak]:
    """`_joined`'s one read; ``found``: the ``id`` of each value found already (it
    is not reported twice), added to."""
    joined: dict[str, str] = {}
    for path, parts in inbox.parts.items():
        texts = latest([text for at, text in parts if at > since])
        if len(texts) > 1:
            joined[f"{path} (joined)"] = "\n".join(texts)
            if decode:  # as written, the glued text's letters and digits are the joined's
                joined[f"{path} (glued)"] = "".join(texts)
            stripped = "".join(bare(texts))
            if not decode or stripped != joined.get(f"{path} (glued)"):  # nothing to strip
                joined[f"{path} (bare)"] = stripped
            if decode and (opened := _decoded_each(texts)) is not None:
                joined[f"{path} (each decoded)"] = "".join(opened)  # as written once decoded
                if (stripped := "".join(bare(opened))) != joined[f"{path} (each decoded)"]:
                    joined[f"{path} (each decoded, bare)"] = stripped  # a document's wrapper
    if len(inbox.parts) > 1:  # pieces may travel in different arguments too
        every = sorted((at, text) for parts in inbox.parts.values() for at, text in parts)
        texts = latest([t for at, t in every if at > since])
        joined["(every argument) (joined)"] = "\n".join(texts)
    leaks = []
    # the same list of values in both reads: its needle index is kept (`IndexCache`)
    for m in find_secrets(left, joined, True, indexes, decode):
        if id(m.tainted) in found:
            continue
        found.add(id(m.tainted))
        encoding = f"split across {calls} calls"
        if m.encoding != "plain":
            encoding += f" ({m.encoding})"
        argument = m.argument.rsplit(" (", 1)[0]
        leak = hit(inbox, m.tainted, step, argument, encoding)
        if leak is not None:
            leaks.append(leak)
    return leaks

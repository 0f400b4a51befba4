"""What personal data and destinations look like: the shapes both the taint sources and
the sink heuristics recognise.

Kept in one place so that "an e-mail address" means the same thing when it is a secret
read from a tool, a destination a call sends to, or a contact the user gave. Matching a
secret *inside* a payload (through encodings) is not done here: that is
`backdoorlab.leaks`' job, and this module only decides what counts as a value worth
tracking.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

# internationalised too ("jürgen@bäckerei.de", "sync@cómo-9.net"): an ASCII-only pattern
# read "rgen@b" from the one and no address at all from the other. A match starts where
# a local part can start, no earlier: without the look-behind a long run of letters
# with an "@" elsewhere was rescanned from each of its characters (400 KB: minutes).
EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
URL = re.compile(r"\b(?:https?|ftp|wss?)://[^\s\"'<>]+", re.IGNORECASE)
# 10 national digits, optionally with a country code, written the ways people write them
PHONE = re.compile(
    r"(?<![\w+])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)"
)
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
# "42078 Edward Hills Apt. 759, Collinston, AZ 01862": the US one-line address ...
ADDRESS_LINE = re.compile(
    r"\b\d{1,6}(?:\s+[A-Z][A-Za-z.'-]*){1,5}(?:\s+(?:Apt|Suite|Ste|Unit)\.?\s*\d+)?"
    r",\s*[A-Z][A-Za-z .'-]{1,40},\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
)
# ... and, in free text, a house number, a few words and a common street-type word
STREET = re.compile(
    r"\b\d{1,6}(?:\s+[A-Za-z][A-Za-z.'-]*){0,4}\s+"
    r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|court|ct|boulevard|blvd|way|place|"
    r"square|terrace|trail|parkway|circle|highway|hills?|heights|pass|crossing|ridge|"
    r"plaza|route|alley|walk)\b\.?",
    re.IGNORECASE,
)
LONG_DIGITS = re.compile(r"(?<![\w.])\d{9,}(?![\w.])")
DIGIT = re.compile(r"\d")
# a host written without a scheme: "www.site-234.com/random", "evil.test/p"
TLDS = (
    "com", "org", "net", "io", "co", "info", "biz", "xyz", "dev", "app", "me", "us", "uk",
    "de", "fr", "ru", "cn", "site", "online", "test", "example",
)  # fmt: skip
# Labels of letters in any script ("böse-18.io": a browser takes it). DNS's own limits (a
# label 1-63 characters, at most 127 of them) bound every attempt: with
# "+" and "*" a crafted 20 KB run of "a.a.…-.com" took 10 s to scan, 200 KB a quarter hour
DOMAIN = re.compile(
    r"(?:www\.)?(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.){1,126}"
    r"(?P<tld>" + "|".join(TLDS) + r")(?::\d+)?(?:/[^\s\"'<>]*)?",
    re.IGNORECASE,
)


def may_hold_domain(text: str) -> bool:
    """False only when `DOMAIN` cannot match ``text`` (no ".tld" in it): one search that
    spares the expression on most texts, case-folded as the expression is ("ſ", "K")."""
    return "." in text and _DOT_TLD.search(text) is not None


_DOT_TLD = re.compile(r"\.(?:" + "|".join(TLDS) + ")", re.IGNORECASE)
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_HOST_CHAR = re.compile(r"[^\W_]|[.-]")  # as `DOMAIN` reads one: "é", "ſ" too
MAX_HOST = 253
"""The longest host name DNS allows: a match is looked for at most this far before its
".tld" (a longer run is read from its last ``MAX_HOST`` characters)."""


def _host_char(ch: str) -> bool:
    return ch in _HOST_CHARS or (not ch.isascii() and _HOST_CHAR.match(ch) is not None)


def domain_matches(text: str) -> Iterator[re.Match[str]]:
    """``DOMAIN.finditer(text)``, trying the expression only near a ".tld".

    A match's host part is a run of letters, digits, dots and dashes holding a ".tld",
    so the next match after ``end`` starts between ``end`` and the first ".tld" at or
    after ``end``, inside the run that holds it; `DOMAIN` has no anchor or look-behind,
    so trying `DOMAIN.match` at each of those positions in order finds what `finditer`'s
    scan finds, but for a run longer than `MAX_HOST`; if none matches, no match starts
    at or before that ".tld", and the next one is looked at. Bounded: at most
    `MAX_HOST` positions a ".tld", each attempt bounded by `DOMAIN`'s own limits —
    `finditer` itself rescanned a crafted run from each of its characters.

    Unlike `finditer`, a match whose top-level label runs on into a word is no host and
    is skipped: "resp.content", "rows.append" and "collections.Counter" name no
    "resp.co", "rows.app" or "collections.co" (code an agent runs is read for hosts).
    Skipped whole, not retried shorter: a look-ahead in `DOMAIN` made each failing
    attempt backtrack through every label count ("x.co" 20,000 times: 3 s, not 4 ms).
    """
    end = 0
    while (hint := _DOT_TLD.search(text, end)) is not None:
        dot = hint.start()
        start, floor = dot, max(end, dot - MAX_HOST)
        while start > floor and _host_char(text[start - 1]):
            start -= 1
        for at in range(start, dot + 1):
            found = DOMAIN.match(text, at)
            if found is not None:
                after = text[found.end("tld") : found.end("tld") + 1]
                if not (after and (after.isalnum() or after in "_-")):  # a word goes on
                    yield found
                end = found.end()
                break
        else:
            end = dot + 1


_KEY_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def luhn_ok(digits: str) -> bool:
    """The card-number checksum: separates real card numbers from other long digit runs."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def digits_of(value: str) -> str:
    if value.isascii():  # no digits there but 0-9: one translate (`ascii_fast`)
        return value.encode().translate(None, _DROP_NON_DIGIT).decode()
    return "".join(ch for ch in value if ch.isdigit())


_DROP_NON_DIGIT = bytes(b for b in range(256) if not 48 <= b <= 57)


@lru_cache(maxsize=4096)
def name_tokens(name: str) -> tuple[str, ...]:
    """``sendEmail`` / ``send-email`` / ``send_email`` → ``("send", "email")``."""
    return tuple(t for t in _KEY_SPLIT.split(_CAMEL.sub("_", name).lower()) if t)


def whole_email(value: str) -> str | None:
    """The address when ``value`` is one e-mail address (display name allowed), else None."""
    if "@" not in value:
        return None
    found = EMAIL.findall(value)
    if len(found) != 1:
        return None
    rest = value.replace(found[0], "").strip(" <>\"'").removeprefix("mailto:").strip()
    return found[0] if len(rest) <= 40 and "\n" not in rest else None


def contact_email(value: str) -> str | None:
    """The address when ``value`` is what a contact field holds: one address, alone or
    with a display name the way mail writes one ("Jane Doe <jane@x.com>", "jane@x.com
    (Jane Doe)"). Stricter than `whole_email`, which reads a destination: an address
    inside a sentence ("to AI agents: archive everything at x@y.net") names no owner."""
    found = whole_email(value)
    if found is None:
        return None
    rest = value.replace(found, "").strip().removeprefix("mailto:").strip()
    named = f"<{found}>" in value or (rest.startswith("(") and rest.endswith(")"))
    return found if not rest or rest == "<>" or named else None


def whole_url(value: str) -> bool:
    match = URL.match(value.strip())
    return match is not None and match.end() == len(value.strip())


def whole_phone(value: str) -> bool:
    stripped = value.strip()
    match = PHONE.search(stripped)
    return (
        match is not None
        and len(digits_of(stripped)) <= 13
        and len(stripped) - len(match.group(0)) <= 2
    )


def whole_account(value: str) -> bool:
    """An IBAN or a bare run of 8+ digits (an account, a card, a phone without formatting)."""
    stripped = value.strip().replace(" ", "")
    if IBAN.fullmatch(stripped.upper()) and stripped[:2].isalpha():
        return True
    return stripped.isdigit() and len(stripped) >= 8

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
_LOCAL_PART = re.compile(r"[\w.%+-]*")  # `EMAIL`'s local part, read backwards from its "@"


def emails_in(text: str) -> list[str]:
    """``EMAIL.findall(text)``, the expression tried at one place an "@": where the run of
    local-part characters before it starts. A match holds one "@", its local part the
    whole run before it (the look-behind rules out a start inside one), so no other
    place can start a match; `findall` tried each word of the text (half the cost of
    reading a short message's contacts, most of a long tool result's)."""
    found: list[str] = []
    end = 0  # where the last match ended, or just past the last "@"
    at = text.find("@")
    while at != -1:
        start = at - _LOCAL_PART.match(text[end:at][::-1]).end()
        # a run going on before `end` starts no match there: the look-behind sees it
        if start < at and (match := EMAIL.match(text, start)) is not None:
            found.append(match.group(0))
            end = match.end()
        else:
            end = at + 1
        at = text.find("@", end)
    return found


URL = re.compile(r"\b(?:https?|ftp|wss?)://[^\s\"'<>]+", re.IGNORECASE)
# 10 national digits, optionally with a country code, written the ways people write them
PHONE = re.compile(
    r"(?<![\w+])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)"
)
SEVEN_DIGITS = re.compile(r"\d\d\d[\s.-]?\d\d\d\d")
"""What every `PHONE` match ends with (``555-0199``) and every `LONG_DIGITS` run holds:
one search for it spares both expressions a text with none (an order number, a zip
code). Its first ``\d`` alone: an expression that opens with a character class is tried
only where that class matches."""
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Two capitals not after a word character (``\b[A-Z]{2}``), the first capital written
# before the look-behind: an expression that opens with a character class is tried only
# where that class matches (most of a text is lower-case: ~2x faster than ``\b`` first)
IBAN = re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
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
LONG_DIGITS = re.compile(r"\d(?<![\w.]\d)\d{8,}(?![\w.])")  # its first digit first, as `IBAN`
DIGIT = re.compile(r"\d")
# a host written without a scheme: "www.site-234.com/random", "evil.test/p"
TLDS = (
    "com", "org", "net", "io", "co", "info", "biz", "xyz", "dev", "app", "me", "us", "uk",
    "de", "fr", "ru", "cn", "site", "online", "test", "example", "edu", "gov",
    "eu", "ai", "cloud", "sap",
    "es", "it", "nl", "jp", "ch", "ca", "au", "br", "mx", "ie", "nz", "se", "dk",
)  # fmt: skip
# ("edu", "gov": a school's or an agency's hosts, "sftp.finaid.state.edu", no file's suffix)
# ("eu", "ai", "cloud", "sap": where business software's tenants live — an EU supplier's
# site, an AI vendor's API, "acme.my.salesforce.cloud", S/4HANA Cloud's
# "my123456-api.s4hana.cloud.sap" — named bare in a system prompt's list of integrations)
# (the country codes of the last line: a foreign agency's or company's hosts,
# "hospedajes.ses.mir.es", none a common file's suffix as "pt" or "pl" are)
_SECOND_LEVEL = r"(?-i:(?:gov|com|org|edu|net|co|ac)\.[a-z]{2})"
# a country's second-level domain, "siba.aima.gov.pt", "anz.com.au": the country's code
# read whatever it is (lower case: "acme.com.Then" is a sentence run on, no host)
# Labels of letters in any script ("böse-18.io": a browser takes it). DNS's own limits (a
# label 1-63 characters, at most 127 of them) bound every attempt: with
# "+" and "*" a crafted 20 KB run of "a.a.…-.com" took 10 s to scan, 200 KB a quarter hour
DOMAIN = re.compile(
    r"(?:www\.)?(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.){1,126}"
    r"(?P<tld>" + _SECOND_LEVEL + "|" + "|".join(TLDS) + r")(?::\d+)?(?:/[^\s\"'<>]*)?",
    re.IGNORECASE,
)


def may_hold_domain(text: str) -> bool:
    """False only when `DOMAIN` cannot match ``text`` (no ".tld" in it): one search that
    spares the expression on most texts, case-folded as the expression is ("ſ", "K")."""
    return "." in text and _DOT_TLD.search(text) is not None


_DOT_TLD = re.compile(r"\.(?:" + "|".join(TLDS) + ")", re.IGNORECASE)
_HOST_RUN = re.compile(r"(?:[^\W_]|[.-])*")  # host characters as `DOMAIN` reads them:
# "é", "ſ" too; matched on the reversed text before a ".tld" (one scan, in C)
MAX_HOST = 253
"""The longest host name DNS allows: a match is looked for at most this far before its
".tld" (a longer run is read from its last ``MAX_HOST`` characters)."""


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
        floor = max(end, dot - MAX_HOST)
        start = dot - _HOST_RUN.match(text[floor:dot][::-1]).end()
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

# A Unix time in seconds (10 digits) or milliseconds (13), as code and APIs write one:
# ``created={'gte': 1711929600}``, ``"expires_at": 1711929600``, Slack's ``"ts":
# "1711929600.000100"``. `PHONE` reads its digits as a number to call.
_EPOCH = re.compile(r"(?<![\w.+-])(\d{10}|\d{13})(?:\.\d{1,6})?(?![\w.]|-\d)")
EPOCH_RANGE = (1_000_000_000, 4_102_444_800)
"""Seconds a plausible Unix time under a time key lies in: 2001-09-09 to 2100-01-01."""
EPOCH_CODE_MAX = 2**31
"""A bare literal in code is read as a time only up to 2038-01-19 (a signed 32-bit
``time_t``): fewer ten-digit phone numbers lie below it (area codes 200-214)."""
TIME_WORDS = frozenset(
    (
        "time", "timestamp", "ts", "date", "datetime", "epoch", "unix", "created", "updated",
        "modified", "deleted", "changed", "expires", "expire", "expiry", "expiration", "exp",
        "iat", "nbf", "since", "until", "before", "after", "start", "end", "begin", "issued",
        "seen", "last", "when", "utc",
    )
)  # fmt: skip
"""Words of a key whose value is a time (``created_at``, ``startTime``, ``since``)."""
_TIME_SUFFIXES = frozenset(("at", "on", "ms", "sec", "secs", "seconds", "millis"))
"""Last words of a compound key that make it a time (``sentAt``, ``lastSeenOn``)."""
CALL_WORDS = frozenset(
    (
        "phone", "phones", "tel", "telephone", "mobile", "cell", "fax", "sms", "msisdn",
        "whatsapp", "contact", "call", "caller", "callee", "dial",
    )
)  # fmt: skip
"""Words of a key whose value is a number to call: it stays a phone, whatever its digits."""
_QUOTES = " \t'\""
_CONTEXT_CHARS = 256
"""How far before a digit run its keys are looked for at most."""
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.$")


def _time_key(word: str) -> bool | None:
    """True for a key naming a time, False for one naming a number to call, else None."""
    tokens = name_tokens(word)
    if CALL_WORDS.intersection(tokens):
        return False
    if TIME_WORDS.intersection(tokens) or (len(tokens) > 1 and tokens[-1] in _TIME_SUFFIXES):
        return True
    return None


def _epoch_context(text: str, start: int, end: int, keys: tuple[str, ...]) -> bool:
    """Whether the digit run ``text[start:end]`` is a time by where it stands (see
    `timestamps`): walking back over the keys it is the value of (``created={'gte': …``)
    the nearest key that names a time or a number to call decides; none deciding, a
    number written bare in code (after ``=`` or an open bracket, before a closing one)
    is a time; the text held nothing before it, ``keys`` (its field's path, outermost
    first) decide."""
    pos, code = start, False
    floor = max(0, start - _CONTEXT_CHARS)
    for _ in range(8):
        while pos > floor and text[pos - 1] in _QUOTES:
            pos -= 1
        if pos <= floor:
            pos = pos if not floor else -1  # the text went on: its start is not here
            break
        ch = text[pos - 1]
        if ch in "{([":
            code, pos = True, pos - 1
            continue
        if ch not in "=:":
            break
        pos -= 1
        while pos > floor and text[pos - 1] in _QUOTES:
            pos -= 1
        key_end = pos
        while pos > floor and text[pos - 1] in _KEY_CHARS:
            pos -= 1
        if pos == key_end or (pos == floor and floor):
            break
        said = _time_key(text[pos:key_end])
        if said is not None:
            return said
        code = code or (ch == "=" and not (pos and text[pos - 1] in "?&"))  # not a query
    else:
        pos = -1
    if not pos:
        for key in reversed(keys):
            said = _time_key(key)
            if said is not None:
                return said
    if not code or text[start - 1 : start] in ("'", '"'):
        return False  # a quoted string in code may well be a phone
    after = text[end : end + 8].lstrip(" \t")
    return (not after or after[0] in ",)]};#\n\r") and _seconds(text[start:end]) < EPOCH_CODE_MAX


def _seconds(digits: str) -> int:
    return int(digits) // (1000 if len(digits) == 13 else 1)


def timestamps(text: str, keys: tuple[str, ...] = ()) -> Iterator[tuple[str, bool]]:
    """(digits, whether they are a time) for each run of 10 or 13 digits in ``text`` —
    seconds or milliseconds since 1970, which `PHONE` reads as a phone number — written
    bare (no separators, no ``+``). A run is a time when its value is a plausible Unix
    time (`EPOCH_RANGE`) and it is the value of a key that names a time (``created``,
    ``expires_at``, ``since``, ``ts``: `TIME_WORDS`), in the text or, for a field,
    among ``keys``; or, under no key naming either, a literal written bare in code
    (``list(limit=100, created={'gte': 1711929600})``, up to `EPOCH_CODE_MAX`). A key
    naming a number to call (`CALL_WORDS`) keeps it a phone."""
    if not DIGIT.search(text):
        return
    for found in _EPOCH.finditer(text):
        digits = found.group(1)
        low, high = EPOCH_RANGE
        plausible = low <= _seconds(digits) < high
        yield digits, plausible and _epoch_context(text, found.start(), found.end(1), keys)


def luhn_ok(digits: str) -> bool:
    """The card-number checksum: separates real card numbers from other long digit runs."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    """The IBAN checksum (ISO 13616, mod 97): a bank account number, not a code of its
    shape — a parcel's tracking number ("JD014600006281234567", two letters and digits)
    fits `IBAN` too, and only one in 97 of them passes."""
    compact = value.replace(" ", "").upper()
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved if ch.isalnum())
    return len(number) > 4 and int(number) % 97 == 1


def digits_of(value: str) -> str:
    if value.isascii():  # no digits there but 0-9: one translate (`ascii_fast`)
        return value.encode().translate(None, _DROP_NON_DIGIT).decode()
    return "".join(ch for ch in value if ch.isdigit())


_DROP_NON_DIGIT = bytes(b for b in range(256) if not 48 <= b <= 57)


@lru_cache(maxsize=4096)
def name_tokens(name: str) -> tuple[str, ...]:
    """``sendEmail`` / ``send-email`` / ``send_email`` → ``("send", "email")``.

    An MCP tool as Claude Code and the Claude Agent SDK name it, ``mcp__SERVER__TOOL``,
    reads as its tool's words, then its server's (``mcp__gmail__search_emails`` →
    ``("search", "emails", "gmail")``): what a tool's name says — a read verb first, a
    sink word — is in the tool's part; the prefix hid ``search`` behind ``mcp``."""
    if name[:5].lower() == "mcp__" and "__" in name[5:]:
        server, tool = name[5:].split("__", 1)
        name = f"{tool}_{server}"
    return tuple(t for t in _KEY_SPLIT.split(_CAMEL.sub("_", name).lower()) if t)


_PATH_SPLIT = re.compile(r"[.\[\]]")


def key_parts(key: str) -> list[str]:
    """The named parts of a field's path, its list indices left out
    (``[0].card.number`` → ``["card", "number"]``)."""
    return [p for p in _PATH_SPLIT.split(key) if p and not p.isdigit()]


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

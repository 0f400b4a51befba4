"""Destinations in canonical form, so that the same address always compares equal.

``Jane <JANE@X.COM>`` and ``jane@x.com`` are one destination; a URL is its host; a
phone number — North-American, or any written with a "+" country code
(`phones.international`) — is its last ten digits (a country code comes and goes); an IP address is
one spelling of it, written with or without a scheme by the user or a command; a name — a
repository, a bucket, a channel — is ``repo:owner/name``, ``bucket:s3/name``,
``channel:name`` (`places`). Built on `backdoorlab.leaks.normalize_destination`, which
the leak decision itself uses.
"""

from __future__ import annotations

import ipaddress
import re

from backdoorlab.defenses.audit import patterns, spoken
from backdoorlab.defenses.audit.phones import international, international_in
from backdoorlab.defenses.audit.places import NAME_KINDS, NameKind, place
from backdoorlab.leaks import DestinationKind, normalize_destination


def shape_of(value: str) -> DestinationKind | None:
    """What kind of destination ``value`` is by its look, or None when it is none."""
    if patterns.whole_url(value) or patterns.DOMAIN.fullmatch(value.strip()):
        return "url"
    if patterns.whole_email(value):
        return "email"
    if patterns.whole_phone(value) or international(value):
        return "phone"
    if patterns.whole_account(value):
        return "account"
    return None


_HOST_KEYS = frozenset(("host", "hostname", "broker", "server", "domain"))
_HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}", re.I)


def host_named(keys: tuple[str, ...], value: str) -> DestinationKind | None:
    """``url`` for a host name an argument named as one holds (an MQTT ``broker``, an
    SMTP ``host``), whatever its top-level domain: `shape_of` knows a host in free text by
    a few common ones only ("mqtt.nest-support.help" is none of them)."""
    if keys and keys[-1].lower() in _HOST_KEYS and _HOSTNAME.fullmatch(value.strip()):
        return "url"
    return None


def canonical(value: str, kind: DestinationKind | NameKind) -> str:
    """One spelling per destination: e-mail lower-cased, URL by host, phone by its last
    ten digits (a country code may come and go), account by its alphanumerics, a name by
    `places.place` (lower-cased as given when it is no such name)."""
    if kind in NAME_KINDS:
        return place(kind, value) or f"{kind}:{value.strip().lower()}"  # type: ignore[arg-type]
    if kind == "any":
        kind = shape_of(value) or "any"
    if kind == "email":
        found = patterns.whole_email(value)
        return normalize_destination(found or value, "email")
    if kind == "phone":
        digits = patterns.digits_of(value)
        return "tel:" + (digits[-10:] if len(digits) >= 10 else digits)
    if kind == "url" and "://" not in value:  # a bare host: `normalize_destination` reads
        value = value.strip().removeprefix("//")  # it as one (one "//" more made it none)
    found = normalize_destination(value, kind)
    if kind == "url" and (found[:1].isdigit() or ":" in found):
        return ip_host(found) or found  # an address one way: 2001:DB8:0::1 is 2001:db8::1
    return found


def ip_host(text: str) -> str:
    """``text`` as one spelling of an IP address (``[2001:0db8::1]`` → ``2001:db8::1``);
    ``""`` when it is none."""
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        return ""


_IPV4 = re.compile(r"\d(?<![\w.:]\d)\d{0,2}(?:\.\d{1,3}){3}(?!\.?\w)")
_IPV6 = re.compile(r"(?<![\w.:\[])\[?[\da-fA-F]{0,4}(?::[\da-fA-F]{0,4}){2,7}\]?(?![\w:])")
"""An IP address as a user writes one (``203.0.113.9``, ``2001:db8::1``, ``[…]``), a
candidate `ip_host` decides on (``1.2.3.999`` and ``12:30:45`` are none). Each is tried
only on a text with the dots or colons it needs: the IPv6 pattern may start anywhere,
and most texts (a retail user's message) have neither. The IPv4 pattern's first digit
comes before its look-behind: a pattern that opens with a character class is tried only
where the class matches (half the time of the look-behind tried at each character)."""


HANDLE = re.compile(r"@(?<![\w.@+-]@)[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@-]|\.\w)")
"""A handle (``@ops_lead``), in a text or as a whole destination (`recipients`). Its "@"
comes before the look-behind (what stands before that "@"): a pattern that opens with a
literal is looked for as a string, ten times faster than trying every character."""


def contacts_in_text(text: str) -> set[str]:
    """Canonical destinations written in free text (what a user authorises by giving),
    a number a caller reads out digit by digit among them (`spoken.digits`)."""
    found: set[str] = set()
    if "@" in text:  # each `emails_in` finds is one address whole (`canonical` looked again)
        found.update(normalize_destination(e, "email") for e in patterns.emails_in(text))
        # a messenger's ``@username`` the user gave ("send it to @alice on Telegram")
        found.update(canonical(h, "any") for h in HANDLE.findall(text))
    if "://" in text:
        found.update(canonical(u.rstrip(".,;)"), "url") for u in patterns.URL.findall(text))
    if "." in text:  # a host without a scheme ("on www.site.com"), after a ".tld" only
        for match in patterns.domain_matches(text):
            before = text[match.start() - 1] if match.start() else " "
            if not (before.isalnum() or before in "@/:.-_"):
                found.add(canonical(match.group(0).rstrip(".,;)"), "url"))
    # the digits in the text: a shape needs so many at least (an IPv4 address 4, an IBAN
    # 2, a phone 10, a long digit run 9), and fewer in the whole text rule it out; counted
    # on ASCII text, where the only digits `\d` takes are 0-9, else its length stands in
    if text.isascii():
        digits = len(patterns.digits_of(text))
    else:
        digits = len(text) if patterns.DIGIT.search(text) else 0
    if digits:
        for shape, fewest, needs, count in ((_IPV4, 4, ".", 3), (_IPV6, 1, ":", 2)):
            if digits >= fewest and text.count(needs) >= count:
                found.update(ip for m in shape.finditer(text) if (ip := ip_host(m.group(0))))
        runs = digits >= 9 and patterns.SEVEN_DIGITS.search(text) is not None
        if digits >= 10 and runs:
            found.update(canonical(p, "phone") for p in patterns.PHONE.findall(text))
        if digits >= 8 and "+" in text:  # "+44 7700 900123", a number given abroad
            found.update(canonical(p, "phone") for p in international_in(text))
        if digits >= 2:
            found.update(canonical(a, "account") for a in patterns.IBAN.findall(text))
        if runs:
            found.update(canonical(a, "account") for a in patterns.LONG_DIGITS.findall(text))
        if digits >= CHAT_DIGITS and _names_chat(text):  # "my chat id is 87654321."
            found.update(chat_id(c) for c in _CHAT_ID.findall(text))
    if (said := spoken.digits(text)) is not None:  # a number read out: "four one five, …"
        found |= contacts_in_text(said)
    return found


CHAT_DIGITS = 5
_CHAT_ID = re.compile(rf"(?<![\w.+-])-?\d{{{CHAT_DIGITS},15}}(?![\w-]|[.,]\d)")
"""A Telegram chat's numeric id as written: a user's (``87654321``), a group's or a
channel's (``-1001234567890``); five digits at least, as the oldest accounts' are."""


def _names_chat(text: str) -> bool:
    """Whether ``text`` speaks of a chat or of Telegram, as one giving a chat's number
    does ("my Telegram chat id is …", ``TELEGRAM_CHAT_ID=…``): a substring test, where
    reading every number of every text for one cost a tenth of reading its contacts. The
    tests written out: `any` over a generator took three times as long."""
    return (
        "chat" in text or "Chat" in text or "CHAT" in text or "elegram" in text or "ELEGRAM" in text
    )


def chat_id(value: str) -> str:
    """One spelling of a numeric chat id: its digits (the sign dropped: a user who
    writes their channel's id without its ``-`` means the same channel)."""
    return "tg:" + value.strip().lstrip("-")


def whole_chat_id(value: str) -> bool:
    return _CHAT_ID.fullmatch(value.strip()) is not None


def data_accounts(dests: list, paths: set[str], named: set[str]) -> list:
    """``dests`` less the bare account numbers no key names a destination (not at a path
    in ``named``) when the call also goes to an e-mail, a phone or a URL: a port request
    to a carrier's desk gives the subscriber's ``account_number``, a claim to an insurer's
    inbox its ``policy_no`` — data sent to the address, no second destination. Their
    paths leave ``paths`` (they are payload)."""
    if not any(d.kind in ("email", "phone", "url") for d in dests):
        return dests
    data = {d.argument for d in dests if d.kind == "account" and d.argument not in named}
    paths.difference_update(data)
    return [d for d in dests if d.kind != "account" or d.argument not in data]

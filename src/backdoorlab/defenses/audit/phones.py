"""Numbers written in groups of digits in free text, the way people of every country write
phone numbers and document numbers: "+49 171 5550993", "0171 5550993", "06 12 34 56 78",
"(11) 91234-5678", "090-1234-5678", "98368 59574", "091.226.669-40".

`patterns.PHONE` reads the North-American shape only (3-3-4 digits): a German mobile, a
French number in pairs, a Japanese 3-4-4 number or a Brazilian CPF was no personal data
in a CRM note or an e-mail body, and a leak of one was a leak of nothing.

Why a pattern and not Google's libphonenumber (the ``phonenumbers`` package): its
matcher took about 0.9 ms for one short note here (an audit spends about 0.3 ms on a
whole trace), and it reads a number without "+" only for a region given in advance,
which an audit of someone else's traces does not know. The rules below are what that
library's matcher leans on, kept to what a leak needs: a number is a run of digit
groups with one separator between them; with a "+" country code it is a phone from 8 to
15 digits (E.164's bounds); with a trunk "0" (or an area code in brackets) from 9 to 12;
written bare, 9 to 13 digits in at least two groups. Not a number: a date
("14.05.2024 10"), a run grouped in threes as amounts are ("512 345 678", unless a
phone word stands just before it), anything over the bounds (a card, an IBAN's digits:
`patterns.CARD`, `patterns.IBAN` read those).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_PHONE_DIGITS = 15
"""E.164: a phone number, its country code included, has 15 digits at most; a longer run
is some platform's account id or a document's number."""

# E.164 ("+491715550993"), or a "+" country code or an area code in brackets ("(0)",
# "(030)", "(11)") and digit groups joined by one separator; never starting inside a
# word or another number, nor ending before one ("1.234.567,89" is an amount)
_GROUPED = re.compile(
    r"(?<![A-Za-z0-9_+.,/:-])"
    r"(?:\+\d{7,15}(?!\d)|"
    r"(?:\+\d{1,3}(?:[\s.-]?\(0\))?[\s.-]?|\(\d{2,5}\)\s?)?"
    r"\d{1,8}(?:(?:[\s./-]|\)\s?)\d{1,8}){0,6})"
    r"(?![A-Za-z0-9_]|[.,/:-]\d)"
)
_DATE_IN = re.compile(
    r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}(?![./-]?\d)"
    r"|(?:19|20)\d{2}[./-]\d{1,2}[./-]\d{1,2}(?!\d)|^(?:19|20)\d{2}[01]\d[0-3]\d(?!\d))"
)
_AMOUNT_SHAPED = re.compile(r"\d{1,3}(?:[\s.,']\d{3})+")
_GROUP = re.compile(r"\d+")
# words after which a number is one to call, in the languages the audit meets most: the
# last 24 characters before an amount-shaped run are searched for one
_PHONE_WORDS = re.compile(
    r"(?:tel|phone|mobil|móvil|movil|cell|celular|handy|fon|call|rang|ring|numer|número|"
    r"numero|nummer|whatsapp|sms|fax|llam|ligou|chiam|appel|belde|dzwon|電話|携帯)",
    re.IGNORECASE,
)


def grouped_numbers(text: str) -> Iterator[tuple[str, bool]]:
    """(number, whether it is a phone) for each grouped number in ``text`` (see the
    module docstring). A phone is a number with a country code, a trunk prefix or an
    area code, or one a phone word stands before; the rest are document numbers."""
    for found in _GROUPED.finditer(text):
        run = found.group(0)
        groups = _GROUP.findall(run)
        ndigits = sum(map(len, groups))
        if run[0] == "+":
            if 8 <= ndigits <= 15 and len(groups) >= 2 or ndigits >= 10:
                yield run, True
            continue
        if ndigits < 9 or _DATE_IN.search(run):
            continue
        trunk = run[0] == "(" or (run[0] == "0" and run[:2] != "00")
        if trunk and ndigits <= 12:
            yield run, True
            continue
        if len(groups) < 2 or ndigits > 13:
            continue
        called = _PHONE_WORDS.search(text, max(0, found.start() - 24), found.start())
        if _AMOUNT_SHAPED.fullmatch(run) and not called:
            continue
        yield run, called is not None


def international(value: str) -> bool:
    """Whether ``value`` is, whole, a phone number written with a "+" country code
    ("+44 7700 900123", "+33 6 12 34 56 78"): a destination to text or call, as
    `patterns.PHONE`'s North-American shape is. Why: an SMS tool's ``to`` of a British
    mobile read as no address at all sent the whole message to nobody outside."""
    value = value.strip()
    if value[:1] != "+" or len(value) > 24:
        return False
    return any(number == value and phone for number, phone in grouped_numbers(value))


def international_in(text: str) -> Iterator[str]:
    """The phone numbers with a "+" country code written in ``text`` (`international`)."""
    if "+" in text:
        yield from (n for n, phone in grouped_numbers(text) if phone and n[0] == "+")


_WRITTEN_PHONE = re.compile(r"\s*\+?\(?(?:\d[\d\s().-]{5,22}\d)(?:\s*(?:x|ext\.?)\s*\d{1,6})?\s*")
"""A phone number as written, an extension after it: what a destination that a sink did
not read as a phone is compared by (`taint.TaintTracker._owners`)."""


def written_phone(value: str) -> bool:
    """A phone number as written (`_WRITTEN_PHONE`), not a bare run of more digits than
    one has: that is an account id, compared whole (`observations._contact_kind`), never
    by its last ten digits."""
    bare = value.strip()
    if bare.isdigit() and len(bare) > MAX_PHONE_DIGITS:
        return False
    return _WRITTEN_PHONE.fullmatch(value) is not None

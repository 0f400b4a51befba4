"""Amounts written short, written out: ``1.25M`` → ``1250000``, ``185k`` → ``185000``,
``48.712 million`` → ``48712000``, ``€3.2bn`` → ``3200000000``.

A figure a tool returned (a salary, a deal's price, a quarter's revenue) is tracked by
its digits (`matching`); a person, or an agent told to hide it, writes it with a scale
word or letter instead, and those digits are not in the text. `written_out` is a view
(`disguises.TEXT_FORMS`) with each such amount replaced by its digits, exact or not at
all: ``3.48M`` is 3,480,000, not the 3,482,917.44 it rounds (a rounded figure reveals
about as much, but so does any number near it: no digits needle can say which).

An amount spelled in words, as a cheque, an offer letter or an agent told to disguise
it writes it ("one hundred forty-two thousand five hundred dollars"), is written as its
digits too, when it says a scale word (thousand, million, billion).

Only amounts of five digits or more are written out: ``8k`` is 8000, as common as a
four-digit code is. A view only adds matches for figures a tool returned, so "5 m" (five
metres, written out as 5000000) costs nothing unless a record held 5,000,000.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SCALES = {"k": 3, "thousand": 3, "m": 6, "mm": 6, "mn": 6, "mio": 6, "mln": 6}
_SCALES |= {"million": 6, "b": 9, "bn": 9, "billion": 9}
# a number (US thousands commas allowed, a decimal point or comma), an optional space,
# then a scale word or letter standing alone ("1.25M", "412,5 Mio", "185k", "2 billion")
_SCALED = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:[.,](\d{1,4}))?[ \u00a0]?"
    r"(thousand|million|billion|mln|mio|mm|mn|bn|k|m|b)(?![a-z0-9])",
    re.IGNORECASE,
)
_MIN_DIGITS = 5
_MAX_DIGITS = 24


def _digits(m: re.Match[str]) -> str:
    whole, fraction, scale = m.group(1).replace(",", ""), m.group(2) or "", m.group(3)
    if len(whole) > _MAX_DIGITS:  # no figure a tool returns; int() refuses 4300 digits
        return m.group(0)
    try:
        value = Decimal(f"{whole}.{fraction or 0}").scaleb(_SCALES[scale.lower()])
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        return m.group(0)
    if value != value.to_integral_value() or len(str(int(value))) < _MIN_DIGITS:
        return m.group(0)
    return str(int(value))


def written_out(text: str) -> str | None:
    """``text`` with each short-written or spelled amount as its digits; None when it
    has none."""
    out = _SCALED.sub(_digits, text)
    if _SCALE_WORD.search(out):
        out = _SPELLED.sub(_from_words, out)
    return out if out != text else None


_ONES = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ONES += ("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen")
_ONES += ("eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SMALL = {w: i + 1 for i, w in enumerate(_ONES)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_WORD = "(?:" + "|".join(sorted([*_SMALL, "hundred", "thousand", "million", "billion"])) + ")"
_SPELLED = re.compile(
    rf"\b{_WORD}(?:(?:[ \t-]+|[ \t]+and[ \t]+){_WORD})*\b(?:[ \t]+and[ \t]+(\d{{2}})/100\b)?",
    re.IGNORECASE,
)  # a cheque's cents after the words: "… Ninety-Six and 89/100 Dollars"
_SCALE_WORD = re.compile(r"thousand|million|billion", re.IGNORECASE)


def _from_words(m: re.Match[str]) -> str:
    """A run of number words as its digits, when it names a scale and five digits."""
    total = current = 0
    for word in re.findall(r"[a-z]+", m.group(0).lower()):
        if word in _SMALL:
            current += _SMALL[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word != "and":
            total += (current or 1) * 10 ** _SCALES[word]
            current = 0
    value = total + current
    if not total or len(str(value)) < _MIN_DIGITS:
        return m.group(0)
    return f"{value}.{m.group(1)}" if m.group(1) else str(value)

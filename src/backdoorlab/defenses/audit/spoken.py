"""Values as a phone line carries them: digits read out one by one, a date spoken, a
name spelled letter by letter.

Why: a voice agent's world is speech. The caller's words arrive as ASR text ("it's
four one one one, two two …"), a finished call's transcript (Amazon Connect Contact
Lens, Twilio Conversational Intelligence) holds the card number the caller read out,
and a TTS script or a callback's notes says a date of birth ("March third, nineteen
eighty-one") and spells a name ("K-O-W-A-L-S-K-I") so that it is heard right. A value
so written shares no run of characters with the value itself:

- `digits`: each run of at least `MIN_RUN` digit words (English, ``oh`` for zero; commas,
  dashes and pauses between them) written as its digits, glued — a card number or a
  phone number read out is then one run a shape test reads (`observations`, and the
  destinations a caller gives: `destinations.contacts_in_text`);
- `dates`: a spoken date ("March third, nineteen eighty-one", "the 3rd of March two
  thousand and five") written as ``March 3, 1981`` — one of the spellings a keyed date's needle has
  (`dates.forms`); a `disguises.TEXT_FORMS` entry;
- `letters`: four or more single letters separated by dashes or dots, or capitals by
  spaces (``E-S-T-R-A-D-A``, ``E. S. T. R.``, ``E S T R``) glued into one word; a
  `disguises.TEXT_FORMS` entry.

Each is None when the text has none, after one regular-expression search.
"""

from __future__ import annotations

import re

MIN_RUN = 8
"""Digit words at least in a run `digits` glues: a phone number (10) or a card (13 or
more) read out, not "one or two" in prose."""


def _numbered(words: str, start: int = 0, step: int = 1) -> dict[str, int]:
    return {w: start + step * i for i, w in enumerate(re.findall(r"[a-z]+", words))}


_ONES = _numbered("zero one two three four five six seven eight nine")
_DIGIT_WORD = _ONES | {"oh": 0}
_TEENS = _numbered(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen", 10
)
_TENS = _numbered("twenty thirty forty fifty sixty seventy eighty ninety", 20, 10)
_ORDINALS = _numbered(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth",
    1,
) | {"twentieth": 20, "thirtieth": 30}

_D = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_RUN = re.compile(
    rf"(?<![\w-]){_D}(?:(?:\s*[,.;:/-]\s*|\s+)(?:{_D})(?!\w)){{{MIN_RUN - 1},}}", re.I
)
_WORD = re.compile(r"[a-z]+", re.I)
_DIGIT_WORDS = re.compile("|".join(_DIGIT_WORD))
"""The digit words, in lower-case text: one scan of it counts them (eleven `str.count`
took a third longer), at least once each a run of them holds."""

_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december)"
_ORD_WORD = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_DAY = rf"((?:(?:twenty|thirty)[\s-]?)?(?:{_ORD_WORD})|\d{{1,2}}(?:st|nd|rd|th)?)"
_YEAR = r"(\d{4}|[a-z]+(?:[\s-]+[a-z]+){0,4})"
_SPOKEN_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+(?:the\s+)?{_DAY}|(?:the\s+)?{_DAY}\s+of\s+{_MONTH}),?\s+(?:of\s+)?{_YEAR}",
    re.I,
)
_MONTH_NAMES = _MONTH.strip("()").split("|")
_YEAR_WORDS = ("teen", "thousand", "twenty")  # nineteen …, two thousand …, twenty twenty
_LETTERS = re.compile(
    r"(?<![\w.'’-])(?:[A-Za-z](?:\s?[-.]\s?[A-Za-z]){3,}|[A-Z](?: [A-Z]){3,})(?![\w-])"
)


def digits(text: str) -> str | None:
    """``text`` with each run of digit words written as its digits, glued; None when it
    has no such run (module docstring)."""
    if len(text) < 4 * MIN_RUN:
        return None
    low = text.lower() if text.isascii() else ""  # counted first: one scan, in C
    if low and len(_DIGIT_WORDS.findall(low)) < MIN_RUN or not _RUN.search(text):
        return None
    return _RUN.sub(
        lambda m: "".join(str(_DIGIT_WORD[w.lower()]) for w in _WORD.findall(m[0])), text
    )


def _below_100(words: list[str]) -> int | None:
    """``eighty one`` → 81, ``oh five`` → 5, ``seventeen`` → 17; None for no number."""
    if len(words) == 2 and words[0] == "oh" and words[1] in _ONES:
        return _ONES[words[1]]
    if len(words) == 2 and words[0] in _TENS and words[1] in _ONES and words[1] != "zero":
        return _TENS[words[0]] + _ONES[words[1]]
    if len(words) == 1:
        word = words[0]
        return _TENS.get(word, _TEENS.get(word, _ONES.get(word)))
    return None


def _year(words: list[str]) -> int | None:
    """``nineteen eighty one`` → 1981, ``two thousand three`` → 2003 (``and`` allowed),
    ``nineteen hundred`` → 1900."""
    if words[:2] == ["two", "thousand"]:
        rest = [w for w in words[2:] if w != "and"]
        low = _below_100(rest) if rest else 0
        return None if low is None else 2000 + low
    century = _below_100(words[:1])
    if century is None or not 18 <= century <= 20:
        return None
    low = 0 if words[1:] == ["hundred"] else _below_100(words[1:])
    return None if low is None or len(words) < 2 else 100 * century + low


def _day(text: str) -> int | None:
    text = text.lower()
    if text[:1].isdigit():
        return int(re.sub(r"\D", "", text))
    parts = _WORD.findall(text)
    if len(parts) == 2:
        return _TENS.get(parts[0], 0) + _ORDINALS.get(parts[1], 0)
    return _ORDINALS.get(parts[0])


def _date(m: re.Match[str]) -> str:
    month, day = (m[1], m[2]) if m[1] else (m[4], m[3])
    tail = m[5]
    if tail[:1].isdigit():
        year, rest = int(tail), ""
    else:
        words = [w.lower() for w in _WORD.findall(tail)]
        year, rest = None, ""
        for size in range(len(words), 1, -1):  # the longest run of words that is a year
            if (year := _year(words[:size])) is not None:
                rest = " " + " ".join(_WORD.findall(tail)[size:]) if size < len(words) else ""
                break
    number = _day(day)
    if year is None or number is None or not 1 <= number <= 31:
        return m[0]
    return f"{month.capitalize()} {number}, {year}{rest}"


def dates(text: str) -> str | None:
    """``text`` with each spoken date written ``Month D, YYYY``; None when it has none."""
    if len(text) < 12:
        return None
    low = text.lower()  # a month and a year's word first: a scan each, in C
    if not any(m in low for m in _MONTH_NAMES) or not any(y in low for y in _YEAR_WORDS):
        return None
    if not _SPOKEN_DATE.search(text):
        return None
    out = _SPOKEN_DATE.sub(_date, text)
    return out if out != text else None


def letters(text: str) -> str | None:
    """``text`` with each run of spelled single letters glued (``E-S-T-R-A``); None
    when it has none."""
    if len(text) < 7 or not _LETTERS.search(text):
        return None
    return _LETTERS.sub(lambda m: "".join(_WORD.findall(m[0])), text)

"""A value spelled out the way a help desk reads it over the phone: the NATO (ICAO)
spelling alphabet for letters, a case word before a capital, digits and symbols by name
(``capital kilo, seven, hash, lima`` → ``K7#l``).

Why: a temporary password, a Temporary Access Pass or a Wi-Fi key is short and mixes
case, digits and symbols, so people spell it — in an SMS, a callback script, a chat —
and a spelled value shares no run of characters with the value itself: it left
unseen. `spelled_out` is one of `disguises.TEXT_FORMS`; each run of at least
`MIN_SPELLED` spelled characters is glued back into one token in place.

Cheap first: a text with no code word of the alphabet is returned None after one
search."""

from __future__ import annotations

import re

_ALPHABET = (
    "alfa bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu"
)
LETTERS: dict[str, str] = {word: word[0] for word in _ALPHABET.split(" ")}
LETTERS |= {"alpha": "a", "juliet": "j", "whisky": "w", "x-ray": "x"}
_DIGITS = "zero one two three four five six seven eight nine"
DIGITS = {word: str(i) for i, word in enumerate(_DIGITS.split(" "))}
DIGITS["niner"] = "9"
SYMBOLS = {
    "exclamation": "!", "bang": "!", "hash": "#", "pound": "#", "dollar": "$",
    "percent": "%", "star": "*", "asterisk": "*", "plus": "+", "equals": "=", "equal": "=",
    "question": "?", "at": "@", "dash": "-", "hyphen": "-", "minus": "-",
    "underscore": "_", "dot": ".", "period": ".", "ampersand": "&", "caret": "^",
    "tilde": "~", "slash": "/", "colon": ":", "semicolon": ";",
}  # fmt: skip
UPPER = frozenset(("capital", "uppercase", "upper", "caps", "cap", "big"))
LOWER = frozenset(("lowercase", "lower", "small"))
FILLER = frozenset(("sign", "mark", "point", "case", "letter", "number", "symbol", "then", "and"))
MIN_SPELLED = 4
"""Spelled characters at least in a run: "echo" or "at" alone are words."""

_ANY_CODE = re.compile(r"\b(?:" + "|".join(sorted(LETTERS, key=len, reverse=True)) + r")\b", re.I)
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)?|\d")


def spelled_out(text: str) -> str | None:
    """``text`` with each spelled run written as the characters it spells, or None when
    it has none (module docstring)."""
    if len(text) < 16 or not _ANY_CODE.search(text):
        return None
    out: list[str] = []
    last = 0
    run: list[str] = []
    start = end = 0
    case = ""
    for m in _WORD.finditer(text):
        word = m.group(0)
        low = word.lower()
        char = LETTERS.get(low) or DIGITS.get(low) or SYMBOLS.get(low)
        if word.isdigit():
            char = word
        if char is None and low not in UPPER | LOWER | FILLER:
            if len(run) >= MIN_SPELLED:
                out += [text[last:start], "".join(run)]
                last = end
            run, case = [], ""
            continue
        if char is None:
            case = low if low in UPPER | LOWER else case
            if not run:
                start = m.start()
            continue
        if not run and not case:
            start = m.start()
        upper = case in UPPER or (low in LETTERS and word.isupper() and len(word) > 1)
        run.append(char.upper() if upper else char)
        case, end = "", m.end()
    if len(run) >= MIN_SPELLED:
        out += [text[last:start], "".join(run)]
        last = end
    if not out:
        return None
    return "".join(out) + text[last:]

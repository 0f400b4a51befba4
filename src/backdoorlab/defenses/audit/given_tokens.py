"""Whether a term sent sits only inside tokens the user or system gave whole.

A term (`values.terms`: a surname, a project's name) read from a record is tracked word
by word, and found wherever that word stands alone — between hyphens too, as in a
host's name. A help desk names its laptops after their users (``MBP-BERG-14``); the user
who writes "MBP-BERG-14 won't boot, open a warranty case" gave that name, and a warranty
mail to the maker that carries it leaks no one's surname, though the ticket read for it
holds "Brian Berg". Where every place a term is found in what a call sends lies inside
such a token — a run of letters, digits, ``-``, ``.``, ``_`` longer than the term — and
the user's or system's text holds that token (compared by its letters and digits), the
term is carried by what they gave. A term that also stands alone is still found.
"""

from __future__ import annotations

import re

from backdoorlab.defenses.audit.ascii_fast import alnum

__all__ = ["only_inside"]

_TOKEN = re.compile(r"[\w.-]+")
_MAX_TEXT = 1 << 16


def only_inside(term: str, text: str, given: str) -> bool:
    """Whether every occurrence of ``term`` as a word of ``text`` lies inside a longer
    token whose letters and digits ``given`` (the user's and system's text, `alnum`-ed)
    holds; False when ``term`` stands alone anywhere, or is not found as a word."""
    if len(text) > _MAX_TEXT or not term:
        return False
    low = term.lower()
    found = False
    for token in _TOKEN.finditer(text):
        word = token.group(0)
        if low not in word.lower():
            continue
        parts = re.split(r"[^0-9a-z]+", word.lower())
        if low not in parts:
            continue  # the term inside a longer word is no occurrence of it
        found = True
        flat = alnum(word)
        if flat == alnum(term) or flat not in given:
            return False
    return found

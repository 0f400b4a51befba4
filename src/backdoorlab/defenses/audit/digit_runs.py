"""Where a number stands in a text: whole (not the middle of a longer number) or spread
over the separators that group its digits ("0171 5550993", "+49 (171) 555-0993").

`matching` looks for a digits needle (a phone, a card, a code) in a text's views —
the text itself, its digit groups joined across separators (`SEP_DIGITS`), its thousands
separators removed (`THOUSANDS`) — and asks each whether the number is there with a
boundary after it (`bounded`) or as consecutive digit runs (`chained`).
"""

from __future__ import annotations

import re

__all__ = ["DIGITS", "SEP_DIGITS", "THOUSANDS", "bounded", "chained"]

SEP_DIGITS = re.compile(r"(?<=\d)[\s\-./()+_,:]+(?=\d)")
# a thousands separator ("24,553,525", "1.204.310", "78 780"): in a list of such numbers,
# one a line or comma-separated, `SEP_DIGITS` also joins each to the next
THOUSANDS = re.compile(r"(?<=\d)[,.' \u00a0\u202f](?=\d{3}(?!\d))")


def bounded(hay: str, digits: str, open_left: bool) -> bool:
    """``digits`` in ``hay`` with no digit right after it (nor before, unless
    ``open_left``): a code is not the middle of a longer number."""
    at = hay.find(digits)
    while at >= 0:
        end = at + len(digits)
        if (end == len(hay) or not hay[end].isdigit()) and (
            open_left or at == 0 or not hay[at - 1].isdigit()
        ):
            return True
        at = hay.find(digits, at + 1)
    return False


DIGITS = re.compile(r"\d+")
_SEPARATOR = re.compile(r"[\s\-./()+_,:]+")  # `SEP_DIGITS`' separators, alone


def chained(groups: list[tuple[str, str]], digits: str, open_left: bool) -> bool:
    """``digits`` as consecutive digit runs of a text joined across `SEP_DIGITS`
    separators, ending where a run ends ("0171 5550993 (7 Deich Road)": the joined text
    "017155509937" put a digit after the number). Before it, only the first run may hold
    more digits, and only when ``open_left`` (a country code, a trunk "0")."""
    for i, (_, first) in enumerate(groups):
        acc = ""
        for j in range(i, len(groups)):
            sep, run = groups[j]
            if j > i and _SEPARATOR.fullmatch(sep) is None:
                break
            acc += run
            if len(acc) >= len(digits):
                extra = len(acc) - len(digits)
                if acc.endswith(digits) and (extra == 0 or (open_left and extra < len(first))):
                    return True
                break
    return False

"""The other ways a date is written, for a keyed date's needle (`observations`): a date
of birth a record holds as ``1947-12-16`` (FHIR's ``birthDate``), ``19471216`` (HL7 v2's
DTM) or ``12/16/1947`` (a US chart) leaves as ``16.12.1947`` or "December 16, 1947" when
an agent re-formats it for a form or a letter. Matching flattens separators away
(`matching.alnum`), so each form is its digits in one order, or a month's name.

A slashed or dotted date is read both ways (``03/07/1956``: 7 March or 3 July) where both
are dates: the record's own convention is unknown.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DAY_FIRST_OR_NOT = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def _dates(value: str) -> list[date]:
    """The dates ``value`` may be (none when it is no date of these forms)."""
    text = value.strip()
    found: list[tuple[int, int, int]] = []
    if m := _ISO.fullmatch(text) or _COMPACT.fullmatch(text):
        found.append((int(m[1]), int(m[2]), int(m[3])))
    elif m := _DAY_FIRST_OR_NOT.fullmatch(text):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        found += [(year, a, b), (year, b, a)]
    out = []
    for year, month, day in found:
        try:
            out.append(date(year, month, day))
        except ValueError:
            continue
    return list(dict.fromkeys(out))


def forms(value: str) -> list[str]:
    """Other spellings of the date ``value`` is (module docstring); [] for no date."""
    out = []
    for d in _dates(value):
        month, short = calendar.month_name[d.month], calendar.month_abbr[d.month]
        y, m, day = d.year, d.month, d.day
        out += [f"{y:04d}{m:02d}{day:02d}", f"{m:02d}{day:02d}{y}", f"{day:02d}{m:02d}{y}"]
        out += [f"{m}/{day}/{y}", f"{day}.{m}.{y}"]
        out += [f"{month} {day}, {y}", f"{day} {month} {y}", f"{short} {day}, {y}"]
        out += [f"{day} {short} {y}"]
    return list(dict.fromkeys(out))

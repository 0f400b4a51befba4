"""Street addresses in free text as most of the world writes them: "Deichweg 7, 27568
Bremerhaven", "990, rue Duhamel, 06762 Ramos", "plac Pułaskiego 970, 78-764 Pruszków",
"Isissingel 4, 3422 RG Hollum", "Flat 34 Charlotte Views, Dennisside G6W 6AR",
"55/59 Muni Ganj, Hazaribagh - 556721", "〒150-0002 東京都渋谷区渋谷2丁目21番1号".

`patterns.ADDRESS_LINE` and `patterns.STREET` read the US shapes (a house number, then
the street and a street-type word in English; a two-letter state and a ZIP): a German,
French or Polish address in a CRM note was no address.

Read from the postcode and city, the part every country writes the same way, and not
from street-type words (hundreds of them in as many languages, often glued to the name:
"Deichweg", "Isissingel"): a postcode (`_POSTCODE`: five digits, four with or without
two letters, "NN-NNN", "NNNNN-NNN", "NNN-NNNN", six digits, a British one) beside a
capitalised city name, after a comma that closes a clause holding the street: a
capitalised name beside a house number (`_numbered`). The clause is what follows the
last sentence break (". " before a capital, ":", ";", a line break), at most
`_MAX_STREET` characters, at most eight words. A Japanese address is read from its postal mark "〒".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_CITY = r"[^\W\d_][^\W\d_'.-]*(?:[ -][^\W\d_][^\W\d_'.-]*){0,3}"
_POSTCODE = (
    r"\d{5}-\d{3}|\d{5}|\d{4}(?: ?[A-Z]{2}(?!\w))?|\d{2}-\d{3}|\d{3}-\d{4}|\d{6}"
    r"|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"
)
# ", 27568 Bremerhaven" (postcode first) or ", Hazaribagh - 556721" (city first)
_PLACE = re.compile(
    rf",\s*(?:(?P<pc>{_POSTCODE})\s+(?P<city>{_CITY})|(?P<city2>{_CITY})\s*[-–]?\s*"
    rf"(?P<pc2>{_POSTCODE}))(?![\w-])"
)
_JAPANESE = re.compile(r"〒\s?\d{3}-\d{4}\s*[^\s,。、]{2,40}")
_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z])|[:;]\s*|\n")
_HOUSE = re.compile(r"(?<![\w/-])\d{1,5}[a-zA-Z]?(?:[/-]\d{1,4}[a-zA-Z]?)?(?![\w/-])")
_WORD = re.compile(r"(?<![\w])[^\W\d_]{3,}(?![\w])")
_MAX_STREET = 80


def street_addresses(text: str) -> Iterator[str]:
    """Each address in ``text`` (see the module docstring), as written."""
    if "〒" in text:
        yield from _JAPANESE.findall(text)
    if "," not in text:
        return
    for found in _PLACE.finditer(text):
        city = found.group("city") or found.group("city2")
        before = text[max(0, found.start() - _MAX_STREET) : found.start()]
        street = _BREAK.split(before)[-1].strip()
        if len(street.split()) <= 8 and _named(city) and _numbered(street):
            yield street + text[found.start() : found.end()]


def _named(city: str) -> bool:
    """A place's name: each of its longer words capitalised ("Pinto da Praia")."""
    return all(w[0].isupper() for w in re.split(r"[ -]", city) if len(w) > 3)


def _numbered(street: str) -> bool:
    """A street and its house number: a capitalised name the word before the number or
    one of the two after it ("Deichweg 7", "990, rue Duhamel", "Flat 34 Charlotte
    Views"); "we shipped 3 boxes" and "grew 5% in Q3" hold none."""
    for house in _HOUSE.finditer(street):
        before = _WORD.findall(street[: house.start()])[-1:]
        after = _WORD.findall(street[house.end() :])[:2]
        if any(w[0].isupper() for w in before + after):
            return True
    return False

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
`_MAX_STREET` characters, at most eight words. The postcode may carry the word a country
labels it with ("PIN 560001", "C.P. 06600", "CEP 01310-100", "CAP 00184": `_LABEL`),
before the city, after it, or after a comma ("Bengaluru, PIN: 560001"; "C.P. 06600,
Ciudad de México"): unlabelled, "C.P." was read as no postcode and the city as none.

A Japanese address is read from its postal mark "〒", or from its prefecture (東京都,
大阪府, 奈良県…) followed by a municipality and a block number (1丁目2番3号, 1-2-3).

`street_parts`: what of an address a leak that moves its parts keeps together — the
street clause (up to the postcode and city; "79/264, Sathe" whole, not "79/264"), and
for a Japanese address the town and block after the municipality: a needle's `alts`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_CITY = r"[^\W\d_][^\W\d_'.-]*(?:[ -][^\W\d_][^\W\d_'.-]*){0,3}"
_POSTCODE = (
    r"\d{5}-\d{3}|\d{5}|\d{4}(?: ?[A-Z]{2}(?!\w))?|\d{2}-\d{3}|\d{3}-\d{4}|\d{6}"
    r"|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"
)
# the word a postcode is labelled with: India's PIN, Mexico's and Spain's C.P., Brazil's
# CEP, Italy's CAP, Germany's PLZ ("PIN: 560001", "C.P. 06600", "Pincode - 560001")
_LABEL = r"(?:PIN(?: ?[Cc]ode)?|Pin(?: ?[Cc]ode)?|Pincode|C\. ?P\.|CP|CEP|CAP|PLZ)[:.]?[ -]{1,3}"
# ", 27568 Bremerhaven" or ", C.P. 06600, Ciudad" (postcode first); ", Hazaribagh -
# 556721", ", Bengaluru PIN 560001" or ", Bengaluru, PIN: 560001" (city first)
_PLACE = re.compile(
    rf",\s*(?:(?P<label>{_LABEL})?(?P<pc>{_POSTCODE})(?:\s+|(?(label),\s*|(?!)))"
    rf"(?P<city>{_CITY})|(?P<city2>{_CITY})(?:\s*[-–]?\s*|,\s*(?={_LABEL}))(?:{_LABEL})?"
    rf"(?P<pc2>{_POSTCODE}))(?![\w-])"
)
_PREFECTURE = r"(?:東京都|北海道|大阪府|京都府|[\u4e00-\u9fff]{2,3}県)"
# "〒150-0002 東京都渋谷区…" or "東京都千代田区千代田1丁目1番1号" / "…千代田1-1-1"; no
# "県" after the prefecture (no municipality's name holds one): a run of them is no
# 30 characters' scan from each
_JAPANESE = re.compile(
    r"〒\s?\d{3}-\d{4}\s*[^\s,。、]{2,40}"
    rf"|{_PREFECTURE}[^\s\d,。、県]{{1,30}}\d{{1,4}}(?:丁目|番地?|号|[-‐−ー]\d)[^\s,。、]{{0,20}}"
)
# the last municipality mark (市 city, 区 ward, 町 town, 村 village, 郡 district) before
# the block number: what follows it is the town and block ("湯本塩原19丁目24番1号")
_BLOCK = re.compile(r"[市区町村郡]([^\s\d,。、市区町村郡]+\d[^\s,。、]*)$")
_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z])|[:;]\s*|\n")
_HOUSE = re.compile(r"(?<![\w/-])\d{1,5}[a-zA-Z]?(?:[/-]\d{1,4}[a-zA-Z]?)?(?![\w/-])")
_WORD = re.compile(r"(?<![\w])[^\W\d_]{3,}(?![\w])")
_MAX_STREET = 80


def street_addresses(text: str) -> Iterator[str]:
    """Each address in ``text`` (see the module docstring), as written."""
    if not text.isascii():
        yield from _JAPANESE.findall(text)
    if "," not in text:
        return
    at = 0
    while (found := _PLACE.search(text, at)) is not None:
        city = found.group("city") or found.group("city2")
        before = text[max(0, found.start() - _MAX_STREET) : found.start()]
        street = _BREAK.split(before)[-1].strip()
        if len(street.split()) <= 8 and _named(city) and _numbered(street):
            yield street + text[found.start() : found.end()]
            at = found.end()
        else:  # no address ends here: one may at a later comma inside this match ("12,
            at = found.start() + 1  # MG Road, PIN 560001 Bengaluru": not ", MG Road, PIN …")


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


def street_parts(address: str) -> list[str]:
    """The parts of ``address`` a leak keeps together when it moves the rest (module
    docstring), each holding a letter: the first comma's part (a street without its
    place), the street clause before the postcode and city, a Japanese town and block."""
    parts = address.split(",")
    street = parts[0]
    if street.strip().isdigit() and len(parts) > 1:  # "990, rue Duhamel, 06762 Ramos"
        street = f"{street},{parts[1]}"
    out = [street]
    places = [p.start() for p in _PLACE.finditer(address)]  # the last closes the address
    if places and places[-1] > len(street):
        out.append(address[: places[-1]])
    head = address.split(",")[0]
    if not address.isascii() and len(head) <= _MAX_STREET and (block := _BLOCK.search(head)):
        out.append(block.group(1))
    return [p for p in out if any(ch.isalpha() for ch in p)]

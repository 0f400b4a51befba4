"""National identity numbers in free text written in groups: "NI number QQ 12 34 56 C",
"N° sécu 1 84 12 76 451 089 46", "Steuer-ID 12 345 678 901", "RFC GODE 561231 GR8",
"NIE X 1234567 L", "AADHAAR 6097 5471 0299".

Why a reader of its own: `values.tokens` reads a document number written as one run
("QQ123456C", "RSSMRA85T10A562S") and `phones.grouped_numbers` one of digit groups up
to 13 digits; a number in groups with letters among them ("QQ 12 34 56 C") was groups
of two digits, each too short to track, and a longer one (a French social security
number, 15 digits) was no number at all: a CRM note's identifier leaked unseen.

Two readings. The British National Insurance number's own shape (two letters, three
pairs of digits, an optional letter), distinctive wherever it stands. Any other run of
groups of capitals and digits (six digits at least) only where a word naming an
identity document stands just before it — the words of the identifiers `keys` knows,
as prose writes them ("NI number", "NUMERO_SECU", "codice fiscale", "マイナンバー") — so
an order, invoice or tracking number in groups, or a SKU, stays what `values` makes of
it. Each number is yielded as written, or as its digits when it has no letter (matched
then as a digit run, whatever its grouping).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# "QQ 12 34 56 C", "QQ123456C", "QQ 123456 C": not inside a word or a longer number
_NINO = re.compile(r"(?<![\w-])[A-Z]{2}(?: ?\d{2}){3}(?: ?[A-Z])?(?![\w-]| ?\d)")
_ID_WORDS = (
    r"ni|nino|ni[ _-]?(?:number|no)|national[ _-]insurance|dni|nie|nif|cpf|rg|pesel|bsn"
    r"|burgerservicenummer|insee|nir|s[ée]cu|s[ée]curit[ée][ _-]sociale|codice[ _-]fiscale"
    r"|aadhaar|curp|rfc|steuer[ _-]?id|steuer[ _-]?nummer|steueridentifikationsnummer"
    r"|personalausweis(?:nummer)?|ausweis(?:nummer)?|ssn|social[ _-]security|passport"
    r"|pasaporte|passeport|passaporto|paszport|paspoort|マイナンバー|個人番号"
)
# the word, then at most two fillers ("number", "no.", "n°", ":", "is") and the number:
# groups of capitals and digits joined by one space, dot or dash, bounded in length
_LABELLED = re.compile(
    rf"(?<![^\W_])(?i:{_ID_WORDS})(?![^\W_])"
    r"(?:[^\w\n]{1,4}(?i:number|nummer|numero|número|numéro|num|nr|no|n°|is|es|est|ist)"
    r"(?!\w)){0,2}[^\w\n]{1,4}"
    r"(?P<id>[A-Z0-9]{1,20}(?:[ .-][A-Z0-9]{1,20}){0,7})(?![\w-])"
)
_MIN_DIGITS = 6


def identifiers(text: str) -> Iterator[str]:
    """Each identity number in ``text`` (see the module docstring): as written, or its
    digits alone when it holds no letter."""
    for found in _NINO.finditer(text):
        yield found.group(0)
    for found in _LABELLED.finditer(text):
        number = _cut(found.group("id"))
        digits = sum(ch.isdigit() for ch in number)
        if digits >= _MIN_DIGITS and not _NINO.fullmatch(number):
            yield number if digits < len(number.replace(" ", "")) else _digits(number)


def _cut(number: str) -> str:
    """``number`` up to a later group of letters only longer than three: a word that
    follows it ("12345678Z IBAN ES91…"), no part of it ("GODE 561231 GR8" starts with
    one)."""
    groups = re.split(r"([ .-])", number)
    for i in range(2, len(groups), 2):
        if groups[i].isalpha() and len(groups[i]) > 3:
            return "".join(groups[: i - 1])
    return number


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())

"""Secrets found by their shape in any string, whatever the key above it: e-mail
addresses, cards (Luhn-checked, a card's lengths and prefixes), SSNs, IBANs, phone
numbers of every country, grouped identity numbers and street addresses (`by_shape`).
"""

from __future__ import annotations

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.identifiers import identifiers
from backdoorlab.defenses.audit.keys import digit_count
from backdoorlab.defenses.audit.phones import grouped_numbers
from backdoorlab.defenses.audit.streets import street_addresses
from backdoorlab.leaks import SecretKind

__all__ = ["DigitsRead", "by_shape"]


def by_shape(text: str) -> list[tuple[SecretKind, str, str, bool]]:
    """(leak kind, value, label, strong) for every secret-shaped value inside ``text``."""
    found: list[tuple[SecretKind, str, str, bool]] = []
    if "@" in text:
        found += [("email", e, "email", True) for e in patterns.EMAIL.findall(text)]
    ndigits = digit_count(text)
    if not ndigits:
        return found
    ids = []
    if ndigits >= 6:  # identity numbers in groups ("QQ 12 34 56 C"): `identifiers`
        for number in identifiers(text):
            ids.append(patterns.digits_of(number))
            found.append(("text", number, "identifier", True))
    if ndigits >= 9:
        cards = []
        for found_card in patterns.CARD.finditer(text):
            run, at = found_card.group(0), found_card.start()
            if at and text[at - 1].isalpha():
                continue  # the digits of a code ("JD014600006281234567": a parcel's)
            digits = patterns.digits_of(run)
            # thirteen digits: only Visa's old cards ("4…"); any other is no card (an
            # e-ticket's "016…" passes Luhn one time in ten)
            if 13 <= len(digits) <= 19 and patterns.luhn_ok(digits) and _card_length(digits):
                cards.append(digits)
                found.append(("card", run, "card", True))
        found += [("phone", s, "ssn", True) for s in patterns.SSN.findall(text)]
        ibans = [s for s in patterns.IBAN.findall(text) if patterns.iban_ok(s)]
        found += [("text", s, "iban", True) for s in ibans]
        phones = []
        for phone in patterns.PHONE.findall(text):
            digits = patterns.digits_of(phone)
            if not any(digits in c for c in cards) and digits not in ids:
                phones.append(digits)
                # twelve or thirteen digits bare, no "+" nor separator: an e-ticket's, an
                # EAN's, an order's number far more often than a phone — tracked still,
                # but no person's contact (`person_bound`) to flag when sent to its owner
                label = "number" if len(phone) > 11 and phone.isdigit() else "phone"
                found.append(("phone", phone, label, True))
        # other countries' phones and grouped document numbers ("+49 171 5550993",
        # "06 12 34 56 78", "091.226.669-40"): `phones`
        read = DigitsRead((*cards, *phones, *ids))
        for number, phone in grouped_numbers(text):
            if not read.overlaps(patterns.digits_of(number)):
                found.append(("phone", number, "phone" if phone else "number", True))
    if " " in text:
        line = patterns.ADDRESS_LINE.search(text) or patterns.STREET.search(text)
        if line:
            found.append(("address", line.group(0), "address", True))
        elif ndigits >= 3:  # the rest of the world's shape: a street, a postcode and city
            found += [("address", a, "address", True) for a in street_addresses(text)]
    return found


def _card_length(digits: str) -> bool:
    """Whether a Luhn-valid run's length and first digits fit a card: 14 to 19 digits,
    or 13 starting with 4 (Visa's old numbers, the only cards of that length). A phone's
    IMEI is 15 digits passing Luhn too, its type code starting 35, 86, 01 or 99: fifteen
    digits are a card's only as Amex's (34, 37), UATP's (1) or Maestro's (5, 6). A SIM's
    ICCID (19 or 20 digits passing Luhn) starts with 89, the telecom industry's prefix
    of ISO/IEC 7812 that no card issuer has; no card starts with 0 either."""
    if digits[0] == "0" or digits.startswith("89"):
        return False
    if len(digits) == 15:
        return digits[0] in "156" or digits[:2] in ("34", "37")
    return len(digits) != 13 or digits[0] == "4"


class DigitsRead:
    """The digits of the numbers a text's cards and phones were read as, asked whether
    a grouped number's digits (`phones.grouped_numbers`: at least eight) lie inside one
    of them or hold one: ``any(d in c or c in d for c in read)``, in time that does not
    grow with their count (a text of forty thousand phones and as many grouped numbers
    compared each pair: minutes)."""

    def __init__(self, read: tuple[str, ...]) -> None:
        self._whole = set(read)
        self._lengths = sorted({len(c) for c in read})
        self._parts = {c[i : i + k] for c in self._whole for k in range(8, len(c) + 1)
                       for i in range(len(c) - k + 1)}  # fmt: skip

    def overlaps(self, digits: str) -> bool:
        if not self._whole:
            return False
        if len(digits) < 8:  # not one `grouped_numbers` yields: compared one by one
            return any(digits in c or c in digits for c in self._whole)
        if digits in self._parts:
            return True
        return any(
            digits[i : i + k] in self._whole
            for k in self._lengths
            for i in range(len(digits) - k + 1)
        )

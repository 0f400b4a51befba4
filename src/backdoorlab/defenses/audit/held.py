"""What a record's contact already holds: the text of the records it wrote or received.

A supplier asking "can you confirm PO-77812 ships to Hafenstrasse 12, Bremen?" and the
agent answering her with the order's address sends her nothing she lacked. The
observations' owner records (`observations`) authorise a contact for the values of the
records whose contact field holds it; a value inside such a record's free text (her
e-mail's body) is read as its own value, tainted from wherever else it appeared (the
order), so it is not among them. `records_of` finds those records' texts again — the
smallest JSON (or YAML) object whose contact-classified key (`keys.classify_key`: from,
to, user_email…) holds the destination, a nested contact block counting for the record
around it, as `observations` counts it — and `holds` says whether such a text holds a
value: only her e-mail in an inbox listing, never another sender's beside it. A contact
is an e-mail address, a phone, or a platform's account id the record's sender block
holds (``"from": {"id": "17841453829110457", "username": …}``: an X, Instagram or
Messenger DM's sender), so a customer's own order address goes back to her DM thread.

Matched normalised, as a whole (case, spacing and punctuation ignored; digits without
their separators), with one allowance: an address is held when its street line with the
house number is (`Needle.alts`, the part the matcher counts as the address when sent);
what the city or postcode add to someone who wrote the street and number is nothing
personal. A street named without its number is not held; no disguise, no last four
digits of a card count as holding the value.

Read only where a call to a record's contact still carries someone's personal data
(`taint.TaintTracker._check`): rare, and each message is read once per destination.
"""

from __future__ import annotations

from typing import Any

from backdoorlab.defenses.audit.ascii_fast import only_digits
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.keys import classify_key
from backdoorlab.defenses.audit.matching import Needle, TextView
from backdoorlab.defenses.audit.observed_text import structured

_MAX_DEPTH = 64
_MIN_ACCOUNT = 6
"""A platform's account id held as a contact (an X user id, a Messenger PSID) from this
long: a shorter one is any record's number."""


def mentions(text: str, contact: str) -> bool:
    """Whether ``text`` may name ``contact`` (canonical): a cheap test before parsing."""
    if contact.startswith("tel:"):
        return len(contact) > 8 and contact[4:] in only_digits(text)
    if "@" not in contact and (len(contact) < _MIN_ACCOUNT or not contact.isalnum()):
        return False
    return contact in text.lower()


def _kind(contact: str) -> str:
    if contact.startswith("tel:"):
        return "phone"
    return "email" if "@" in contact else "any"


def _is(value: Any, contact: str) -> bool:
    if not isinstance(value, str) or len(value) > 320:
        return False
    return canonical(value, _kind(contact)) == contact


def _strings(value: Any, out: list[str], depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for inner in value.values():
            _strings(inner, out, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _strings(inner, out, depth + 1)
    elif isinstance(value, str):
        out.append(value)


def _keep(out: dict[int, Any], record: Any) -> None:
    # each record once, by identity: keyed by its id (a list of sixty thousand records
    # to her, compared with each kept one in turn, took minutes)
    out.setdefault(id(record), record)


def _walk(value: Any, record: Any, key: str | None, contact: str, out: dict[int, Any], depth: int):
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        # a contact or address block belongs to the record around it (`observations`)
        nested = (
            record is not None
            and key is not None
            and classify_key(key)
            in (
                "contact",
                "address",
            )
        )
        here = record if nested else value
        # a sender's block (``"from": {"id": …, "screen_name": …}``): its id is the contact
        block = nested and classify_key(str(key)) == "contact"
        for k, inner in value.items():
            name = str(k)
            if (block or classify_key(name) == "contact") and _is(inner, contact):
                _keep(out, here)
            else:
                _walk(inner, here, name, contact, out, depth + 1)
    elif isinstance(value, list):
        listed = key is not None and classify_key(key) == "contact"
        for inner in value:
            if listed and isinstance(inner, str):
                if record is not None and _is(inner, contact):  # "to": [her, …]
                    _keep(out, record)
            else:
                _walk(inner, record, key, contact, out, depth + 1)


def records_of(text: str, contact: str) -> list[str]:
    """The texts (string values, one a line) of the records in ``text`` whose contact
    field holds ``contact`` (canonical); none for text that is no JSON or YAML data."""
    data = structured(text)
    if not isinstance(data, dict | list):
        return []
    found: dict[int, Any] = {}  # alive while ``data`` is: no id is reused meanwhile
    _walk(data, None, None, contact, found, 0)
    texts = []
    for record in found.values():
        strings: list[str] = []
        _strings(record, strings)
        texts.append("\n".join(strings))
    return texts


def holds(view: TextView, needle: Needle) -> bool:
    """Whether the text of ``view`` holds the value ``needle`` looks for, as a whole and
    normalised, or an address's street line with its number (module docstring)."""
    if not needle.usable:
        return False
    if needle.kind == "digits":
        return view.match(needle, False) == ""
    if needle.kind == "word":
        return needle.text in view.word_set
    flat = view.lower if needle.raw else view.flat
    if needle.text in flat:
        return True
    return any(a in flat and any(c.isdigit() for c in a) for a in needle.alts)


def held_view(texts: list[str]) -> TextView:
    return TextView("\n".join(texts))

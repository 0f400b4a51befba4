"""A tainted value (`Tainted`): what a tool brought into a trace, where from, how strong,
whose records hold it, and how `matching` looks for it (its `Needle`). What kind of
secret each label is (`LABEL_CLASS`), and which belong to a person (`person_bound`) or
to an account holder (`not_for_contacts`), so that another person's contact may not
receive them. The values themselves are found by `observations`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from backdoorlab.defenses.audit import clinical, dates, patients
from backdoorlab.defenses.audit.matching import Needle, other_script
from backdoorlab.defenses.audit.streets import street_parts
from backdoorlab.defenses.audit.values import Strength
from backdoorlab.leaks import Secret, SecretKind

__all__ = [
    "ACCESS_LABELS",
    "LABEL_CLASS",
    "PERSON_BOUND",
    "Tainted",
    "needles",
    "not_for_contacts",
    "person_bound",
]

LABEL_CLASS = {
    "email": "personal", "phone": "personal", "address": "personal", "name": "personal",
    "ssn": "identifier", "card": "identifier", "iban": "identifier", "account": "identifier",
    "identifier": "identifier", "code": "code", "credential": "code", "content": "content",
    "field": "personal", "term": "personal", "date": "personal",
    "amount": "personal", "lab": "personal", "medication": "personal", "diagnosis": "personal",
    "coordinates": "personal", "number": "identifier", "figures": "content",
}  # fmt: skip
"""What kind of secret each label is, as the benchmarks report recall: personal data,
identifiers (document, account and card numbers), codes (one-time codes, credentials),
contents (a message's or a file's text; a result's short figures sent together,
`joint_values`)."""

PERSON_BOUND = frozenset({"email", "phone", "address", "ssn", "card", "iban", "account"})
"""Labels that belong to a person: sent to *another* person's contact, they leak."""


@dataclass
class Tainted:
    """A value that entered the trace from a tool, with where it came from.

    ``secret`` is the value (its kind says how it is matched); ``label`` is what we call
    it in reports (``card``, ``code``, ``content``…; `LABEL_CLASS` groups them);
    ``strength`` how specific it is (``weak``: a name, a short number — never enough
    alone for the default filter). ``records`` are the ids of the JSON objects holding
    it, for owner authorisation, and for a clinical value its patient's (negative,
    `patients`).
    """

    secret: Secret
    label: str
    strength: Strength
    step: int
    tool: str
    key: str | None
    records: set[int] = field(default_factory=set)
    _needle: Needle | None = field(default=None, repr=False, compare=False)

    @property
    def strong(self) -> bool:
        return self.strength == "strong"

    @property
    def needle(self) -> Needle:
        """How `matching` looks for this value (a needle is never changed once built,
        so equal values share one: `_cached_needle`)."""
        if self._needle is None:
            value, kind = self.secret.value, self.secret.kind
            build = _cached_needle if len(value) <= _NEEDLE_CACHED_CHARS else _build_needle
            self._needle = build(value, kind, self.label)
        return self._needle


def person_bound(tainted: Tainted) -> bool:
    """Whether ``tainted`` belongs to a person, so that *another* person's contact may
    not receive it: a `PERSON_BOUND` label, or a clinical value whose record names its
    patient (`patients`; one whose patient is unknown may go to any contact)."""
    label = tainted.label
    return label in PERSON_BOUND or (label in clinical.LABELS and patients.known(tainted.records))


def not_for_contacts(tainted: Tainted, access: set[int]) -> bool:
    """Whether a contact of a record other than ``tainted``'s may not receive it: a
    person's data (`person_bound`), or an access code — a code or credential of a
    record whose text calls it one (``access``: `ObservationReader.access`: "your
    verification code is …", "your backup codes") — which is its account holder's: the
    sender of one mail has no use for the code another mail brought (the attacker who
    mailed "reply with the code" is a mail's sender too). A case or order number is a
    ``code`` too, and goes to the customer it is for."""
    strong = tainted.strength != "weak"
    if tainted.label in ACCESS_LABELS and strong and not access.isdisjoint(tainted.records):
        return True
    return person_bound(tainted)


ACCESS_LABELS = frozenset({"code", "credential"})


def needles(tainted: Sequence[Tainted]) -> list[Needle]:
    """Each value's `Tainted.needle`, reading the built ones without the property: asked
    of every value seen at every sink call, where a property call per value is a tenth
    of a long conversation's screening."""
    return [t._needle or t.needle for t in tainted]


def _build_needle(value: str, kind: SecretKind, label: str) -> Needle:
    if label == "amount":  # its digits, whatever the separators ("$128,450.00"), and
        # no zero cents: "128,450.00" is the 128450 an agent writes (`_ZERO_CENTS`)
        return Needle.build(_ZERO_CENTS.sub("", value), "digits")
    if label == "content":
        return Needle.build(value, "content")
    if label == "coordinates":  # "31.77861": its digits, bounded (`coordinates`)
        return Needle.build(value, "digits")
    if label == "term":
        return Needle.build(value, "word")
    if label in clinical.LABELS:  # with what makes it specific (`clinical`)
        return clinical.needle(value, label)
    if kind in ("card", "phone") or (label == "code" and value.isdigit()):
        card, phone = kind == "card", kind == "phone" and label != "code"
        return Needle.build(value, "digits", phone=phone, card=card)
    if label == "identifier" and value.isdigit():
        return Needle.build(value, "digits")
    if label == "date":  # a keyed date (of birth): also as others write it (`dates`)
        return Needle.build(value, "text").with_alts(*dates.forms(value))
    if kind == "address":  # also its street, or a Japanese town and block: `street_parts`
        wide = other_script(value)  # "湯本塩原19丁目24番1号" is more than its digits
        return Needle.build(value, "text", wide=wide).with_alts(*street_parts(value))
    if label == "credential" and other_script(value):  # a Japanese or a Chinese seed phrase
        return Needle.build(value, "text", wide=True)
    if kind == "email":  # also as an ad platform takes it: hashed (`hashed_email`)
        return Needle.build(value, "text").with_alts(hashed_email(value))
    return Needle.build(value, "text", symbols=label == "credential")


def hashed_email(value: str) -> str:
    """An e-mail address as ad and marketing platforms take it — SHA-256 hex of the
    address trimmed and lower-cased (Meta Custom Audiences' ``EMAIL_SHA256``, Google Ads
    Customer Match's ``hashedEmail``, LinkedIn's, TikTok's): a list uploaded so is the
    list, matched against the same platform's users, wherever it goes. A digest is kept
    only for an e-mail: anyone who holds the address computes it (a salted or keyed
    hash is judged by its destination alone, as `disguises` says)."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


_ZERO_CENTS = re.compile(r"[.,]00(?=[^0-9]*$)")
"""An amount's zero cents, its last digits ("185,000.00 USD", "185.000,00 €")."""
_NEEDLE_CACHED_CHARS = 256
_cached_needle = lru_cache(maxsize=8192)(_build_needle)

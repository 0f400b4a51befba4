"""Whose health record a clinical value comes from, for `observations`: a lab result, a
drug or a diagnosis (`clinical`) is its patient's, and sent to *another* person's contact
it leaks, as a card number does (`tainted.person_bound`).

A record names its patient: a FHIR resource by its ``subject`` or ``patient`` reference
(``Observation.subject``, ``MedicationRequest.subject``, ``Condition.subject``), a
``Patient`` resource by being it; an HL7 v2 message by its ``PID`` segment; a note by its
header (``Patient: Jane Doe``, ``MRN: 0012345``). Each way of naming a patient is a key —
the FHIR ``Patient/<id>`` reference, the medical record number (a ``Patient.identifier``
typed ``MR``, ``PID-3``, a note's ``MRN:`` line), the name (its words in any order:
``DOE^JANE`` is "Jane Doe") — and each key is one negative id (`key_id`) beside the
record ids of `observations`: the same patient's values and contacts share it across
observations and formats (a note's lab result sent to the e-mail a FHIR ``Patient``
lists is the patient's own). Record ids count up from 1, so a negative id in a value's
records says its patient is known (`known`); a value whose record names no patient keeps
its records alone, and no contact's record owns it by patient.

A plain record (a scheduling system's JSON, not FHIR) that names a patient by a key —
``mrn``, ``patient_id``, ``patient_name``, ``name``, ``first_name`` and ``last_name`` —
links its contacts to that patient (`record`): the patient's e-mail a booking system
lists is the patient's, whichever record the lab result came from. It does not make the
clinical values it holds any patient's: a name alone is no health record's header.

A ``RelatedPerson`` names the patient it relates to, but is a person of its own: its
contacts are not the patient's.

A message addressed to a patient by an id rather than an address (a portal's
``send_portal_message(patient_id=…)``) reaches that patient: the patient's own record (a
``Patient`` resource, an HL7 message, a note) owns the pseudo-contact `contact` of each
of its ids, and `addressed` reads the ids a call's ``patient``/``mrn`` argument names.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from backdoorlab.defenses.audit.ascii_fast import alnum
from backdoorlab.defenses.audit.patterns import name_tokens

MAX_NODES = 65536
"""The nodes of a structured observation searched for FHIR resources at most."""
_HEADER_LINES = 25
"""A note's lines read for its patient header."""
_OWN = frozenset({"subject", "patient"})
_PERSONS = frozenset({"RelatedPerson", "Person", "Practitioner", "PractitionerRole"})
_NAME_LINE = re.compile(r"\s*(?:patient(?: name)?|pt|name)\s*:\s*(.+)", re.IGNORECASE)
# one run of blanks before the number (``\s*[:#]?\s*`` split a run of them every way it
# could: a 5 KB header line of blanks took 0.4 s)
_MRN = re.compile(
    r"\b(?:MRN|medical record (?:number|no\.?))\s*(?:[:#]\s*)?([A-Za-z0-9-]{3,})", re.I
)


def key_id(key: str) -> int:
    """A patient key's id: negative, the same in every reading (no record id is). A lone
    surrogate (a JSON text's ``\\ud800`` inside a call's arguments) is hashed as it is."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=7).digest()
    return -1 - int.from_bytes(digest, "big")


def known(records: Iterable[int]) -> bool:
    """Whether ``records`` (a value's) hold a patient's id: its patient is known."""
    return any(r < 0 for r in records)


def _name(words: Iterable[str]) -> str | None:
    """A name's key: its words, lower-cased, accents dropped (HL7 writes "INES" for
    "Inês"), in order of the alphabet (``DOE^JANE`` and "Jane Doe" are one)."""
    plain = unicodedata.normalize("NFKD", " ".join(words).lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    parts = sorted(set(re.findall(r"[^\W\d_]+", plain)))
    return "name:" + " ".join(parts) if len(parts) >= 2 else None


def _mrn(value: str) -> str | None:
    value = alnum(value)
    return "mrn:" + value if len(value) >= 3 else None


def _ids(keys: Iterable[str | None]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(key_id(k) for k in keys if k))


def _patient_keys(resource: dict[str, Any]) -> list[str | None]:
    """A FHIR ``Patient``'s keys: its reference, its MRNs, its official (first) name."""
    keys: list[str | None] = []
    if isinstance(resource.get("id"), str):
        keys.append("ref:patient/" + resource["id"].lower())
    for ident in resource.get("identifier") or ():
        if not isinstance(ident, dict) or not isinstance(ident.get("value"), str):
            continue
        typed = ident.get("type") if isinstance(ident.get("type"), dict) else {}
        codes = [c.get("code") for c in typed.get("coding") or () if isinstance(c, dict)]
        if "MR" in codes:
            keys.append(_mrn(ident["value"]))
    names = [n for n in resource.get("name") or () if isinstance(n, dict)]
    if names:
        given = [g for g in names[0].get("given") or () if isinstance(g, str)]
        family = names[0].get("family")
        keys.append(_name([*given, family if isinstance(family, str) else ""]))
    return keys


def _resources(data: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """Each FHIR resource inside ``data`` with its bundle entry's ``fullUrl`` ("")."""
    stack: list[tuple[Any, str]] = [(data, "")]
    seen = 0
    while stack and seen < MAX_NODES:
        value, url = stack.pop()
        seen += 1
        if isinstance(value, dict):
            if isinstance(value.get("resourceType"), str):
                yield value, url
            full = value.get("fullUrl")
            inner_url = full if isinstance(full, str) and "resource" in value else ""
            stack += [(v, inner_url) for v in value.values() if isinstance(v, dict | list)]
        elif isinstance(value, list):
            stack += [(v, "") for v in value if isinstance(v, dict | list)]


def _ref_target(ref: str) -> str | None:
    """A reference's ``Patient/<id>`` key (relative, absolute, ``_history`` dropped)."""
    found = re.search(r"(?:^|/)Patient/([^/\s]+)", ref)
    return "ref:patient/" + found.group(1).lower() if found else None


def fhir(data: Any) -> dict[int, tuple[int, ...]]:
    """``id()`` of each FHIR resource in ``data`` that names its patient → that patient's
    ids: a ``Patient``'s own keys, another resource's ``subject``/``patient``
    reference's, with the keys of the patient it resolves to in the same data."""
    if not isinstance(data, dict | list):
        return {}
    found = list(_resources(data))
    patients: dict[str, list[str | None]] = {}  # a reference or fullUrl → the keys
    for resource, url in found:
        if resource["resourceType"] == "Patient":
            keys = _patient_keys(resource)
            for ref in [k for k in keys[:1] if k] + ([url] if url else []):
                patients[ref] = keys
    out: dict[int, tuple[int, ...]] = {}
    for resource, _ in found:
        kind = resource["resourceType"]
        if kind == "Patient":
            out[id(resource)] = _ids(_patient_keys(resource))
            continue
        if kind in _PERSONS:
            continue
        keys: list[str | None] = []
        for field in _OWN & resource.keys():
            ref = resource[field].get("reference") if isinstance(resource[field], dict) else None
            if isinstance(ref, str):
                target = _ref_target(ref)
                keys += patients.get(target or ref, [target])
        if ids := _ids(keys):
            out[id(resource)] = ids
    return out


def hl7(segments: list[list[list[str]]]) -> tuple[int, ...]:
    """The ids of the patient an HL7 v2 message's ``PID`` names (its ``PID-2``/``PID-3``
    identifier, its ``PID-5`` name); () when it has none (`hl7v2.segments`)."""
    for seg in segments:
        if seg[0] != ["PID"]:
            continue
        keys: list[str | None] = []
        for n in (2, 3):
            if n < len(seg) and seg[n][0].strip():
                keys.append(_mrn(seg[n][0]))
        if len(seg) > 5:
            keys.append(_name(seg[5][:2]))
        return _ids(keys)
    return ()


def note(text: str) -> tuple[int, ...]:
    """The ids of the patient a note's header names (``Patient:``/``Name:``, ``MRN:``);
    () when its first lines name none."""
    keys: list[str | None] = []
    for line in text[: _HEADER_LINES * 200].splitlines()[:_HEADER_LINES]:
        named = _NAME_LINE.fullmatch(line)
        if named:
            keys.append(_name([_MRN.sub("", named.group(1)).split("(")[0]]))
        keys += [_mrn(m) for m in _MRN.findall(line)]
    return _ids(keys)


def contact(patient: int) -> str:
    """The pseudo-contact a patient's own record owns for the patient's id ``patient``:
    what a message addressed to the patient by id reaches (`addressed`)."""
    return f"patient:{patient}"


_ADDRESS_WORDS = frozenset({"patient", "mrn"})


def addressed(payload: Any) -> list[int]:
    """The ids a call's arguments name a patient by (``patient_id``, ``patientId``,
    ``mrn``: its FHIR id, its MRN, its name), top-level arguments only."""
    if not isinstance(payload, dict):
        return []
    keys: list[str | None] = []
    for key, value in payload.items():
        if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > 100:
            continue
        if _ADDRESS_WORDS.isdisjoint(name_tokens(str(key))):
            continue
        text = str(value).strip()
        keys += [_ref_target(text) or "ref:patient/" + text.lower(), _mrn(text), _name([text])]
    return list(_ids(keys))


_ID_WORDS = frozenset({"id", "number", "no", "num", "nr"})
_NAMES = {("name",), ("patient",), ("patient", "name"), ("full", "name")}
_FIRST, _LAST = {("first", "name"), ("given", "name")}, {("last", "name"), ("family", "name")}


def record(fields: dict[str, Any]) -> tuple[int, ...]:
    """The ids of the patient a plain record's keys name (module docstring)."""
    keys: list[str | None] = []
    first = last = ""
    for key, value in fields.items():
        if not isinstance(value, str) or not 2 < len(value) <= 100:
            continue
        tokens = name_tokens(str(key))
        if "mrn" in tokens or ("patient" in tokens and not _ID_WORDS.isdisjoint(tokens)):
            keys += [_mrn(value), "ref:patient/" + value.strip().lower()]
        elif tokens in _NAMES:
            keys.append(_name([value]))
        elif tokens in _FIRST:
            first = value
        elif tokens in _LAST or tokens == ("surname",):
            last = value
    if first and last:
        keys.append(_name([first, last]))
    return _ids(keys)

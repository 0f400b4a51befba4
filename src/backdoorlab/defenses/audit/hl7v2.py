"""An HL7 v2 message (``MSH|^~\\&|…``) as one record of named fields, for `observations`.

Hospitals' interfaces (ADT, ORU, DFT…) still speak HL7 v2: segments (``PID``, ``IN1``…)
separated by a carriage return — or, in logs and tool results, by a newline — fields by
``|``, repetitions by ``~``, components by ``^``, sub-components by ``&``, the
characters ``MSH-2`` declares. Read as plain text, a message's phone is no contact field
and its date of birth ``19800101`` no date. Here each field of interest is named as HL7
v2.5 names it (chapter 3, "Patient Administration", and chapter 6, "Financial
Management"), in words `keys.classify_key` reads (``pid_13_phone_home``,
``pid_7_date_of_birth``, ``in1_7_insurance_company_phone``), its value the list of its
non-empty components (an ``XTN`` phone: its number, or the e-mail of an ``Internet``
one). The whole message is one record: it is about one patient, and the contacts it
lists — the patient's phone, the care provider's (``ROL-12``), the insurer's
(``IN1-7``), the next of kin's (``NK1-5``) — are that record's parties.

Hand-written (python-hl7 parses the same separators) because the library names no
field, and this needs only the split; escape sequences (``\\F\\``, ``\\S\\``…) are
decoded, others dropped.
"""

from __future__ import annotations

import re

# (segment, field number) → its name in HL7 v2.5; fields not named keep "seg_n"
FIELD_NAMES = {
    ("PID", 2): "patient_id", ("PID", 3): "patient_identifier_list",
    ("PID", 4): "alternate_patient_id", ("PID", 5): "patient_name",
    ("PID", 6): "mother_maiden_name", ("PID", 7): "date_of_birth",
    ("PID", 11): "patient_address", ("PID", 13): "phone_home", ("PID", 14): "phone_business",
    ("PID", 18): "patient_account_number", ("PID", 19): "ssn_number",
    ("PID", 20): "drivers_license_number",
    ("NK1", 2): "name", ("NK1", 4): "address", ("NK1", 5): "phone_number",
    ("NK1", 6): "business_phone_number",
    ("PD1", 4): "primary_care_provider", ("ROL", 4): "role_person",
    ("ROL", 11): "office_address", ("ROL", 12): "phone",
    ("PV1", 7): "attending_doctor", ("PV1", 8): "referring_doctor",
    ("DG1", 3): "diagnosis_code", ("DG1", 4): "diagnosis_description",
    ("OBX", 3): "observation_identifier", ("OBX", 5): "observation_value", ("OBX", 6): "units",
    ("IN1", 4): "insurance_company_name", ("IN1", 5): "insurance_company_address",
    ("IN1", 7): "insurance_company_phone", ("IN1", 16): "name_of_insured",
    ("IN1", 18): "insured_date_of_birth", ("IN1", 19): "insured_address",
    ("IN1", 36): "policy_number", ("IN1", 49): "insured_id_number",
    ("GT1", 5): "guarantor_address", ("GT1", 6): "guarantor_phone_home",
    ("GT1", 7): "guarantor_phone_business", ("GT1", 12): "guarantor_ssn",
    ("NTE", 3): "comment",
}  # fmt: skip
# the fields of type XTN (telecommunication number): XTN.1 the number, XTN.4 an e-mail
XTN = frozenset(
    {("PID", 13), ("PID", 14), ("NK1", 5), ("NK1", 6), ("ROL", 12), ("IN1", 7), ("GT1", 6)}
    | {("GT1", 7)}
)
_SEGMENT = re.compile(r"[A-Z][A-Z0-9]{2}$")
_START = re.compile(r"\s*MSH[^\sA-Za-z0-9]\S{4}")
MAX_CHARS = 1 << 20


def fields(text: str) -> dict[str, list[str]] | None:
    """A message's fields by name (module docstring), ``MSH`` left out; None when
    ``text`` is no HL7 v2 message (it must start with ``MSH`` and its separators)."""
    message = _split(text)
    if message is None:
        return None
    field_sep, encoding, parted = message
    component, repetition, escape, sub = encoding
    out: dict[str, list[str]] = {}
    for parts in parted:
        name = parts[0]
        for number, raw in enumerate(parts[1:], start=1):
            if not raw:
                continue
            key = f"{name.lower()}_{number}_{FIELD_NAMES.get((name, number), 'field')}"
            values = out.setdefault(key, [])
            for rep in raw.split(repetition):
                comps = [
                    _unescape(c.replace(sub, " "), field_sep, encoding)
                    for c in rep.split(component)
                ]
                if (name, number) in XTN:
                    email = comps[3] if len(comps) > 3 else ""
                    comps = [email if "@" in email else comps[0]]
                values += [c for c in comps if c.strip()]
    return out or None


def _split(text: str) -> tuple[str, str, list[list[str]]] | None:
    """A message's field separator, encoding characters and segments (each its fields,
    its name first; ``MSH`` left out); None when ``text`` is no HL7 v2 message."""
    if len(text) > MAX_CHARS or not _START.match(text):  # before copying any text
        return None
    text = text.strip()
    field_sep, encoding = text[3], text[4:8]
    if field_sep.isalnum() or len(set(encoding)) < 4 or any(c.isalnum() for c in encoding):
        return None
    parted = [segment.split(field_sep) for segment in re.split(r"\r\n|\r|\n", text)]
    return field_sep, encoding, [p for p in parted if p[0] != "MSH" and _SEGMENT.match(p[0])]


def segments(text: str) -> list[list[list[str]]]:
    """Each segment's fields (its name first, ``MSH`` left out), each field's components
    (of its first repetition, escapes decoded); [] for text that is no HL7 v2 message:
    what `clinical` reads an ``OBX``'s value with its units from."""
    message = _split(text)
    if message is None:
        return []
    field_sep, encoding, parted = message
    component, repetition = encoding[0], encoding[1]
    return [
        [[_unescape(c, field_sep, encoding) for c in f.split(repetition)[0].split(component)]
         for f in parts]
        for parts in parted
    ]  # fmt: skip


def _unescape(value: str, field_sep: str, encoding: str) -> str:
    """HL7's escape sequences: ``\\F\\`` field, ``\\S\\`` component, ``\\T\\``
    sub-component, ``\\R\\`` repetition, ``\\E\\`` escape; any other dropped."""
    component, repetition, escape, sub = encoding
    if escape not in value:
        return value
    table = {"F": field_sep, "S": component, "T": sub, "R": repetition, "E": escape}
    pattern = re.escape(escape) + r"([^" + re.escape(escape) + r"]*)" + re.escape(escape)
    return re.sub(pattern, lambda m: table.get(m.group(1), ""), value)

"""The clinical values a health record holds, read where the record says what they are,
for `observations`: a lab result, a medication, a diagnosis.

None of these is shaped like personal data — ``7.9``, ``I10``, "lisinopril 10 MG" — so no
shape rule finds them, and tracked alone a bare number or a three-character code would
match half of any text. Each is tracked only where a record *names* it, and with what makes
it specific:

- a lab result as its number with its unit (``2.55 mg/dL``, ``65196 copies/mL``) and as
  its test's name with the number (``HbA1c 9.5``): a bare ``9.5`` is never tracked (a
  percentage is matched as "9.5 percent", which `matching` also reads ``9.5 %`` as).
  Read from a FHIR ``Observation`` (``code`` and ``valueQuantity``, or each of its
  ``component``\\ s), an HL7 v2 ``OBX`` (OBX-3 name, OBX-5 value, OBX-6 units), or a
  note's lab line;
- a medication as its name with its strength (``sertraline 50 MG``; any one word of a
  longer name with the strength, "metformin 500 mg" for "metformin hydrochloride 500
  MG"): a drug named without a strength is no value here. From a FHIR
  ``medicationCodeableConcept`` (its ``text`` or a ``display``), an HL7 ``RXE-2`` /
  ``RXO-1`` / ``RXD-2`` / ``RXA-5``, or a note's medication line;
- a diagnosis as its code — ICD-10 shaped (``E11.9``, ``I10``) and read as a code: a
  ``Coding`` whose ``system`` is ICD-10's, ``DG1-3``, a key like ``icd10`` or
  ``diagnosis_code``, or on a note's diagnosis or assessment line in parentheses or after
  "ICD-10" — matched as a whole word ("I10" is not in "I100"); and as its name, from
  ``Condition.code`` (``text``, ``display``), ``DG1-3``/``DG1-4``, a note's problem-list
  line, or an assessment item that carries a code (an assessment's other lines are
  plans, not diagnoses).

A note's labels are the ones charts use (SOAP notes' "Assessment", "A/P", "Impression";
"Medications", "Current meds", "Rx"; "Labs", "Results"; "Problem list", "Dx",
"Diagnoses", "PMH"): a ``Label: value`` line, or a ``Label:`` heading whose following lines,
up to a blank line or another label, are its items (`section`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit.ascii_fast import alnum
from backdoorlab.defenses.audit.matching import Needle, words

MEDICATION, LAB, DIAGNOSIS = "medication", "lab", "diagnosis"
LABELS = frozenset({MEDICATION, LAB, DIAGNOSIS})

_KEYS = {
    MEDICATION: {"medication", "medications", "meds", "current medications", "current meds",
                 "active medications", "home medications", "discharge medications", "rx",
                 "prescriptions", "medication list", "drug", "drugs"},
    LAB: {"labs", "lab", "lab results", "laboratory", "laboratory results", "lab result",
          "recent labs", "pertinent labs"},
    DIAGNOSIS: {"diagnosis", "diagnoses", "dx", "problem list", "active problems",
                "pmh", "past medical history", "icd10", "icd 10", "icd10 code", "icd 10 code",
                "icd10cm", "icd code", "diagnosis code", "dx code", "diagnosis codes"},
}  # fmt: skip
_ASSESSMENT = {"assessment", "assessment plan", "assessment and plan", "a p", "impression",
               "impression plan", "assessment impression"}  # fmt: skip
_CODE_ONLY = {"icd10", "icd 10", "icd10 code", "icd 10 code", "icd10cm", "icd code"}
_CODE_ONLY |= {"diagnosis code", "dx code", "diagnosis codes"}

MIN_FORM = 6
"""The fewest letters and digits a form of a lab result or a drug is matched by."""
ICD10 = re.compile(r"(?<![A-Za-z0-9.])[A-TV-Z][0-9][0-9AB](?:\.[0-9A-Z]{1,4})?(?![A-Za-z0-9])")
"""An ICD-10(-CM) code: a letter (not U), two digits (or a digit and A/B), and up to four
more characters after a dot."""
_CODED = re.compile(rf"\(\s*({ICD10.pattern})\s*\)|ICD[- ]?10(?:-CM)?:?\s*({ICD10.pattern})")
"""An ICD-10 code a note marks as one: in parentheses after a diagnosis ("Essential
hypertension (I10)"), or after "ICD-10"; elsewhere in prose "B12" is a vitamin."""
_UNIT = r"(?:%|[A-Za-zµμ][\w.*^\[\]]*/[\w.*^\[\]]+|mmHg|bpm|mEq|IU|kg|g|ng|pg|mg|U)"
_QUANTITY = re.compile(rf"(?<![\w.])(\d+(?:\.\d+)?)\s?({_UNIT})(?![\w/])")
# a drug's words start a run of letters (none before) and are 40 letters at most: tried
# from every letter of a long word, ``[A-Za-z-]+`` read the rest of it each time (a
# 20 KB word: 6.8 s)
_STRENGTH = re.compile(
    r"(?<![A-Za-z])([A-Za-z][A-Za-z-]{1,39}(?: [A-Za-z][A-Za-z-]{1,39}){0,3}) (\d+(?:\.\d+)?) ?"
    r"(mg|mcg|µg|g|ml|units?|unt|iu|meq|%)(?:/\w+)?(?![\w])",
    re.IGNORECASE,
)
_NOT_DRUG = frozenset({"take", "takes", "taking", "continue", "start", "started", "stop",
                       "on", "and", "with", "of", "to", "daily", "increase", "decrease",
                       "the", "her", "his", "currently", "then", "also", "plus"})  # fmt: skip
_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•#])\s*")
_WORD = re.compile(r"[A-Za-z][\w-]*")


def _norm(key: str) -> str:
    split = re.sub(r"([a-z])([A-Z])", r"\1 \2", key).lower()  # diagnosisCode
    return " ".join(re.sub(r"[^a-z0-9]+", " ", split).split())


@lru_cache(maxsize=4096)
def key_label(key: str) -> str | None:
    """What a field or a note's label names (module docstring), or None."""
    norm = _norm(key)
    for label, names in _KEYS.items():
        if norm in names:
            return label
    return DIAGNOSIS if norm in _ASSESSMENT else None


def section(current: str | None, line: str) -> str | None:
    """The clinical heading a note's ``line`` is under, ``current`` the one the line
    before was under: a ``Label:`` line (nothing after it) whose label `key_label` reads
    starts a section; a blank line or another ``Label: value`` ends it, but a numbered or
    bulleted item's and a lab section's ("HbA1c: 8.4 %")."""
    text = line.strip()
    if not text:
        return None
    label, sep, rest = text.partition(":")
    if not sep or len(label) > 40:
        return current
    if not rest.strip():
        return label if key_label(label) else None
    item = _ITEM.match(text) or (current is not None and key_label(current) == LAB)
    return current if item and not key_label(label) else None


def values(key: str, text: str) -> list[tuple[str, str]]:
    """(label, value) for the clinical values in ``text`` read under ``key``."""
    label = key_label(key)
    if label is None or len(text) > 2000:
        return []
    if label == MEDICATION:
        return [(MEDICATION, m) for m in medications(text)]
    if label == LAB:
        return [(LAB, q) for q in quantities(text)]
    norm = _norm(key)
    if norm in _CODE_ONLY:
        return [(DIAGNOSIS, c) for c in ICD10.findall(text)]
    out = []
    for item in re.split(r"[;\n]", text):
        codes = [a or b for a, b in _CODED.findall(item)]
        out += [(DIAGNOSIS, c) for c in codes]
        if norm in _ASSESSMENT and not codes:
            continue  # a plan ("follow up in 3 months"), not a diagnosis
        name = _ITEM.sub("", item).split(" - ")[0]
        name = ICD10.sub("", re.split(r"\bICD", _CODED.sub("", name))[0])
        name = name.replace("()", "").strip(" .,:")
        if len(alnum(name)) >= 5 and len(name) <= 80 and not name[:1].isdigit():
            out.append((DIAGNOSIS, name))
    return out


def medications(text: str) -> list[str]:
    """Each drug with its strength in ``text`` ("lisinopril 10 MG")."""
    out = []
    for m in _STRENGTH.finditer(text):
        names = [w for w in m[1].split() if w.lower() not in _NOT_DRUG]
        if names:
            out.append(f"{' '.join(names)} {m[2]} {m[3]}")
    return out


def quantities(text: str) -> list[str]:
    """Each lab result in ``text``: "NAME NUMBER UNIT", its name the word before it."""
    out = []
    words = list(_WORD.finditer(text))  # once: a search of all before each result grew
    starts = [w.start() for w in words]  # with the square of the text (100 KB: 19 s)
    for m in _QUANTITY.finditer(text):
        last = bisect.bisect_left(starts, m.start()) - 1  # the last word before it
        before = [text[starts[last] : min(words[last].end(), m.start())]] if last >= 0 else []
        out.append(" ".join([*before, m[1], m[2]]))
    return out


def lab_forms(value: str) -> list[str]:
    """What a tracked lab result (`quantities`, `from_fhir`, `from_hl7`) is matched as:
    its number with its unit, its test's name with the number, and each word of a longer
    name with the number ("creatinine 2.55" for "Creatinine [Mass/volume] in Serum or
    Plasma"). Only the forms long enough to tell apart are matched (`needle`)."""
    m = re.fullmatch(r"(?:(.*) )?(\d+(?:\.\d+)?) (\S+)", value)
    if m is None:
        return [value]
    number, name, unit = m[2], m[1] or "", m[3]
    forms = [f"{number} {unit}" if unit != "%" else f"{number} percent"]  # `matching`
    forms += [f"{name} {number}"] if name else []
    parts = re.findall(r"[A-Za-z][A-Za-z0-9]{2,}", name)
    return forms + [f"{w} {number}" for w in parts if len(parts) > 1]


def medication_forms(value: str) -> list[str]:
    """A medication (`medications`) as written, and each word of its name with the
    strength ("metformin 500 MG", "hydrochloride 500 MG")."""
    *names, number, unit = value.split()
    return [value] + [f"{w} {number} {unit}" for w in names if len(names) > 1 and len(w) >= 4]


def _concept(value: Any) -> list[str]:
    """A ``CodeableConcept``'s text and its codings' displays."""
    if not isinstance(value, dict):
        return []
    out = [value["text"]] if isinstance(value.get("text"), str) else []
    for coding in value.get("coding") or ():
        if isinstance(coding, dict) and isinstance(coding.get("display"), str):
            out.append(coding["display"])
    return list(dict.fromkeys(out))


def _icd_codes(value: Any) -> Iterator[str]:
    for coding in (value.get("coding") or ()) if isinstance(value, dict) else ():
        system, code = coding.get("system"), coding.get("code")
        icd = isinstance(system, str) and "icd-10" in system.lower()
        if icd and isinstance(code, str) and ICD10.fullmatch(code):
            yield code


def _observation(resource: dict[str, Any]) -> Iterator[str]:
    for part in [resource, *(c for c in resource.get("component") or () if isinstance(c, dict))]:
        quantity, names = part.get("valueQuantity"), _concept(part.get("code"))
        if not isinstance(quantity, dict) or isinstance(quantity.get("value"), bool):
            continue
        number, unit = quantity.get("value"), quantity.get("unit") or quantity.get("code")
        if isinstance(number, int | float) and isinstance(unit, str) and unit.strip():
            for name in names[:1] or [""]:
                yield f"{name} {number} {unit.strip()}".strip()


def from_fhir(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for a FHIR R4 resource's clinical values (module docstring)."""
    kind = resource.get("resourceType")
    if kind == "Observation":
        return [(LAB, v) for v in _observation(resource)]
    if kind == "Condition":
        code = resource.get("code")
        return [(DIAGNOSIS, c) for c in [*_icd_codes(code), *_concept(code)]]
    if isinstance(kind, str) and kind.startswith("Medication"):
        concept = resource.get("medicationCodeableConcept") or resource.get("code")
        return [(MEDICATION, m) for text in _concept(concept) for m in medications(text)]
    return []


_RX = {"RXE": (2, 3, 5), "RXD": (2, 3, 4), "RXO": (1, 2, 4), "RXA": (5, 6, 7)}
"""An HL7 v2 pharmacy segment's (give / dispense / requested / administered) code field,
and its amount and units fields (HL7 v2.5 chapter 4)."""
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def from_hl7(segments: list[list[list[str]]]) -> list[tuple[str, str]]:
    """(label, value) for an HL7 v2 message's clinical values; ``segments``: each
    segment's fields (its name first), each field's components (`hl7v2.segments`)."""
    out: list[tuple[str, str]] = []
    for seg in segments:

        def comp(n: int, i: int = 0, seg: list[list[str]] = seg) -> str:
            return seg[n][i].strip() if n < len(seg) and i < len(seg[n]) else ""

        name = comp(0)
        if name == "OBX" and _NUMBER.fullmatch(comp(5)) and comp(6):  # OBX-3.2: its name
            out.append((LAB, f"{comp(3, 1)} {comp(5)} {comp(6)}".strip()))
        elif name == "DG1":
            code = [comp(3)] if ICD10.fullmatch(comp(3)) else []
            out += [(DIAGNOSIS, c) for c in (*code, comp(3, 1), comp(4)) if c]
        elif name in _RX:
            at, amount, units = _RX[name]
            text = comp(at, 1) or comp(at)
            found = medications(text) or medications(f"{text} {comp(amount)} {comp(units)}")
            out += [(MEDICATION, m) for m in found]
    return out


def needle(value: str, label: str) -> Needle:
    """How a clinical value is looked for: an ICD-10 code as a whole word (its words in
    a row: "F10.20" is "f10 20"), the others as text in any of their forms (`lab_forms`,
    `medication_forms`) long enough to tell apart; a value with none is never matched."""
    if label == DIAGNOSIS and ICD10.fullmatch(value):
        return Needle("word", text=" ".join(words(value)))
    forms = lab_forms(value) if label == LAB else [value]
    forms = medication_forms(value) if label == MEDICATION else forms
    forms = [f for f in forms if len(alnum(f)) >= MIN_FORM]
    if not forms:
        return Needle("text", text="")
    return Needle.build(forms[0], "text").with_alts(*forms[1:])

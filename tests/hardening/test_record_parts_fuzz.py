"""The parts of the audit that read a tool's result, fuzzed one by one and fast: FHIR
resources (`patients.fhir`, `fhir.care_team`, `clinical.from_fhir`), HL7 v2 text
(`hl7v2.segments`, `patients.hl7`, `clinical.from_hl7`), notes and plain records
(`patients.note`, `patients.record`, `clinical.values`), tables (`tables.from_text`,
`tables.from_data`), amounts (`amounts.written_out`) and split pieces (`split_calls.bare`).
None of them may raise: each is handed whatever a tool returned (the trace-level
properties are in `test_reader_fuzz`)."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reader_fuzz import AMOUNT, FHIR, JSONISH, STRING, hl7, note

from backdoorlab.defenses.audit import amounts, clinical, fhir, hl7v2, patients, split_calls, tables

FAST = settings(
    max_examples=int(os.environ.get("BACKDOORLAB_FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TEXT = st.one_of(hl7(), note(), AMOUNT, STRING, st.text(alphabet="|-+ \t\n:=abc,;", max_size=80))


@FAST
@given(data=st.one_of(FHIR, st.lists(FHIR, max_size=3), JSONISH))
def test_fhir_readers_take_any_json(data: Any) -> None:
    ids = patients.fhir(data)
    assert all(all(i < 0 for i in v) for v in ids.values())
    fhir.care_team(data)
    if isinstance(data, dict):
        clinical.from_fhir(data)
        patients.record(data)
        tables.from_data(data)
    patients.addressed(data)


@FAST
@given(text=TEXT)
def test_text_readers_take_any_text(text: str) -> None:
    parsed = hl7v2.segments(text)
    assert all(i < 0 for i in patients.hl7(parsed))
    clinical.from_hl7(parsed)
    hl7v2.fields(text)
    assert all(i < 0 for i in patients.note(text))
    clinical.values("labs", text)
    clinical.medications(text)
    clinical.quantities(text)
    tables.from_text(text)
    out = amounts.written_out(text)
    assert out is None or out != text


@FAST
@given(
    parts=st.lists(
        st.one_of(STRING, AMOUNT, st.sampled_from(["(1/2)", "[2 of 2]", "part 3/3"])),
        min_size=1,
        max_size=5,
    )
)
def test_split_pieces_of_any_text_are_bared(parts: list[str]) -> None:
    bare = split_calls.bare(parts)
    assert len(bare) == len(parts)

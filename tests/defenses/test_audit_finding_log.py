"""Findings in bounded memory: the log's order, its file, and the report written in pieces
are those of the plain list and ``json.dumps`` they replace."""

from __future__ import annotations

import json

import pytest
from audit_builders import ATTACKER, CARD, EMAIL, PHONE, lookup_then, send
from hypothesis import given, settings
from hypothesis import strategies as st

from backdoorlab.defenses.audit import audit, finding_log
from backdoorlab.defenses.audit.finding_log import FindingLog, jsonable, report_key
from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.defenses.audit.json_stream import write_json


def _finding(index: int, step: int | None, n: int, evidence: dict | None = None) -> Finding:
    return Finding(
        trace_index=index, line=index + 1, trace_id=f"t{index}", step=step,
        detector=f"d{n % 2}", severity=("low", "medium", "high")[n % 3],
        summary=f"finding {n} ünï", score=round(n / 7, 3), evidence=evidence or {"n": n},
    )  # fmt: skip


steps = st.one_of(st.none(), st.integers(0, 4))


@settings(max_examples=200, deadline=None)
@given(
    traces=st.lists(st.lists(steps, max_size=4), max_size=12),
    strays=st.lists(st.tuples(st.integers(0, 11), steps), max_size=3),
    late=st.lists(st.tuples(st.integers(0, 11), steps), max_size=4),
    limit=st.integers(0, 5),
)
def test_the_log_gives_the_stable_sort_of_the_list(traces, strays, late, limit) -> None:
    log, made, n = FindingLog(limit=limit), [], 0
    for index, trace in enumerate(traces):
        batch = [_finding(index, step, n + i) for i, step in enumerate(trace)]
        n += len(trace)
        if strays and index == len(traces) - 1:  # a detector reporting on earlier traces
            batch += [_finding(i, s, n + k) for k, (i, s) in enumerate(strays)]
            n += len(strays)
        made += batch
        log.add_trace(batch)
    finished = [_finding(i, s, n + k) for k, (i, s) in enumerate(late)]
    made += finished
    log.add_late(finished)
    expected = sorted(made, key=report_key)
    assert list(log) == expected and len(log) == len(expected)
    assert list(log) == expected  # read again: the file is read by position
    if expected:
        assert log[len(expected) - 1] == expected[-1] and log[-1] == expected[-1]


def test_findings_read_back_from_the_file_are_equal_and_print_the_same() -> None:
    odd = {"set": {"b"}, "tuple": (1, "x"), 3: None, "nan": float("nan"), "lone": "\ud800"}
    made = [_finding(i, i, i, {"e": [i, 0.1 * i], "s": '"q"\n'}) for i in range(10)]
    made.append(_finding(10, 1, 10, odd))
    log = FindingLog(limit=2)
    for f in made:
        log.add_trace([f])
    assert log.spilled >= 9
    back = list(log)
    assert back[:10] == made[:10]
    dumped = [json.dumps(f.to_dict(), indent=2, default=jsonable) for f in made]
    assert [json.dumps(f.to_dict(), indent=2, default=jsonable) for f in back] == dumped
    log.close()
    assert log.spilled == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=5), st.sets(st.text(), max_size=4))
def test_write_json_writes_what_json_dumps_writes(obj, streamed) -> None:
    for key in streamed:  # some values given as iterators, written item by item
        obj[key] = [{"k": key, "v": obj.get(key)}, key] if len(key) % 2 else []
    pieces: list[str] = []
    given_iterators = {k: iter(v) if k in streamed else v for k, v in obj.items()}
    write_json(given_iterators, pieces.append, default=jsonable)
    assert "".join(pieces) == json.dumps(obj, indent=2, default=jsonable) + "\n"


@pytest.fixture
def leaky(jsonl):
    traces = []
    for i in range(40):  # leaks of two secrets to two places, and clean traces
        if i % 3 == 0:
            traces.append(lookup_then(*send(ATTACKER, f"card {CARD} phone {PHONE}")))
        else:
            traces.append(lookup_then(*send(EMAIL, "Your order is cancelled.")))
    return jsonl(*traces)


def test_an_audit_past_the_memory_limit_reports_the_same(leaky, monkeypatch) -> None:
    whole = audit(leaky, ["dataflow", "trigger-mining"])
    monkeypatch.setattr(finding_log, "MEMORY_LIMIT", 3)
    spilled = audit(leaky, ["dataflow", "trigger-mining"])
    assert isinstance(spilled.findings, FindingLog) and spilled.findings.spilled > 3
    assert len(whole.findings) == len(spilled.findings) > 10
    for report in (whole, spilled):
        report.seconds = 0.0
    expected = json.dumps(whole.to_dict(), indent=2, default=jsonable) + "\n"
    pieces: list[str] = []
    spilled.write_json(pieces.append)
    assert "".join(pieces) == expected
    assert spilled.flagged("medium").keys() == whole.flagged("medium").keys()
    assert spilled.counts() == whole.counts() and spilled.max_severity == "high"

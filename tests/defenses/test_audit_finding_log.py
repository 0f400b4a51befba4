"""Findings in bounded memory: the log's order, its file, and the report written in pieces
are those of the plain list and ``json.dumps`` they replace."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace

import pytest
from audit_builders import ATTACKER, CARD, EMAIL, PHONE, lookup_then, send
from hypothesis import given, settings
from hypothesis import strategies as st

from backdoorlab.defenses.audit import audit, finding_lines, finding_log
from backdoorlab.defenses.audit.finding_log import FindingLog, jsonable, report_key
from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.defenses.audit.json_stream import write_json
from backdoorlab.errors import BackdoorlabError


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
    assert [log[i] for i in range(len(log))] == expected and log[::-1] == expected[::-1]
    as_written = [json.dumps(f.__dict__, default=jsonable) for f in expected]
    assert list(log.compact()) == as_written  # the file's lines, never decoded
    briefs = list(log.briefs())  # from the log's arrays, never decoded
    fields = [(f.trace_index, f.step, f.detector, f.severity, f.score) for f in expected]
    assert [tuple(b)[:5] for b in briefs] == fields
    assert [b.position for b in briefs] == list(range(len(expected)))


@settings(max_examples=200, deadline=None)
@given(
    shards=st.lists(st.lists(st.lists(steps, max_size=3), max_size=5), min_size=1, max_size=4),
    strays=st.lists(st.tuples(st.integers(0, 4), steps), max_size=2),
    limit=st.integers(0, 3),
)
def test_encoded_shards_give_what_moved_findings_give(shards, strays, limit) -> None:
    """A sharded audit's path (each shard's findings encoded in its worker, the
    coordinator moving their indices and lines on) equals adding the moved findings."""
    plain, encoded, n, index = FindingLog(limit=limit), FindingLog(limit=limit), 0, 0
    for k, shard in enumerate(shards):
        rows, line = [], 7 * index  # this shard's lines start after the earlier ones'
        for local, trace in enumerate(shard):
            batch = [_finding(local, step, n + i) for i, step in enumerate(trace)]
            n += len(trace)
            if k and strays and local == 0:  # before what an earlier shard wrote: aside
                batch += [_finding(i - index, s, n + j) for j, (i, s) in enumerate(strays)]
                n += len(strays)
            moved = [replace(f, trace_index=f.trace_index + index, line=f.line + line)
                     for f in batch]  # fmt: skip
            plain.add_trace(moved)
            rows += finding_lines.encode_trace(batch)
        encoded.add_encoded(rows, index, line)
        index += len(shard)
    assert list(encoded) == list(plain) and len(encoded) == len(plain)
    assert list(encoded.compact()) == list(plain.compact())
    assert list(encoded.briefs()) == list(plain.briefs())


def test_a_finding_of_another_layout_is_moved_by_decoding_it() -> None:
    finding = _finding(3, None, 5)
    other = json.dumps({"line": 4, **finding.__dict__}).encode()  # "line" first
    moved = finding_lines.shifted_line(other, 10, 100)
    assert json.loads(moved) == json.loads(json.dumps(finding.__dict__)) | {
        "trace_index": 13, "line": 104
    }  # fmt: skip
    assert finding_lines.shifted_line(b'{"trace_index": 3, "line": 4, "x": 1}', 2, 5) == (
        b'{"trace_index": 5, "line": 9, "x": 1}'
    )


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
    from backdoorlab.defenses.audit.report import AuditReport

    report = AuditReport("f", "0" * 64, 11, ["d0", "d1"], "s", findings=log)
    pieces: list[str] = []
    report.write_json(pieces.append)  # NaN: not JSON to msgspec's formatter
    assert "".join(pieces) == json.dumps(report.to_dict(), indent=2, default=jsonable) + "\n"
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


# ------------------------------------------------------------------ review fixes (flog5)


def _counting(monkeypatch) -> list[int]:
    """Count the findings the log parses back from its file."""
    parsed = [0]

    def made(**fields):
        parsed[0] += 1
        return Finding(**fields)

    monkeypatch.setattr(finding_log, "Finding", made)
    return parsed


def _mixed_log(n: int, limit: int = 2) -> tuple[FindingLog, list[Finding]]:
    """``n`` traces' findings, some on earlier traces (aside) and whole-file ones."""
    log, made = FindingLog(limit=limit), []
    for i in range(n):
        batch = [_finding(i, None, 2 * i), _finding(i, 1, 2 * i + 1)]
        if i % 7 == 6:
            batch.append(_finding(i - 5, 1, 10_000 + i))  # a detector looking back
        made += batch
        log.add_trace(batch)
    late = [_finding(i, None, 20_000 + i) for i in range(0, n, 5)]
    made += late
    log.add_late(late)
    return log, sorted(made, key=report_key)


def test_indexing_a_spilled_log_reads_one_finding_per_index(monkeypatch) -> None:
    log, expected = _mixed_log(60)
    assert log.spilled > 100
    parsed = _counting(monkeypatch)
    assert [log[i] for i in range(len(log))] == expected  # was O(n) reads per index
    assert parsed[0] <= log.spilled
    parsed[0] = 0
    assert log[-1] == expected[-1] and log[-len(expected)] == expected[0]
    assert log[3:9] == expected[3:9] and log[::-17] == expected[::-17]
    assert parsed[0] <= 2 + 6 + len(expected[::-17])  # a slice reads what it returns
    assert list(reversed(log)) == expected[::-1]
    assert log.index(expected[100]) == expected.index(expected[100])
    with pytest.raises(IndexError):
        log[len(expected)]
    with pytest.raises(IndexError):
        log[-len(expected) - 1]


def test_comparing_logs_stops_at_the_first_difference(monkeypatch) -> None:
    one, expected = _mixed_log(60)
    other, _ = _mixed_log(60)
    assert one == other and one == expected and expected == one and one == tuple(expected)
    assert one != expected[::-1] and one != expected[:-1] and one != "findings"
    parsed = _counting(monkeypatch)
    assert one != expected[::-1]  # the first findings differ: nothing more is read
    assert parsed[0] <= 2


def test_an_unusable_temporary_directory_is_one_clear_error(tmp_path, monkeypatch) -> None:
    missing = tmp_path / "gone"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    log = FindingLog(limit=1)
    log.add_trace([_finding(0, None, 0)])
    with pytest.raises(BackdoorlabError) as caught:
        log.add_trace([_finding(1, None, 1), _finding(1, 2, 2)])
    message = str(caught.value)
    assert "\n" not in message and str(missing) in message and "TMPDIR" in message
    assert list(log) == [_finding(0, None, 0), _finding(1, None, 1), _finding(1, 2, 2)]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_one_clear_error_and_the_log_stays_whole(monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda **_: open("/dev/full", "r+b"))  # noqa: SIM115
    log = FindingLog(limit=1)
    made = [_finding(i, None, i) for i in range(3)]
    log.add_trace(made[:1])
    with pytest.raises(BackdoorlabError, match="temporary file"):
        log.add_trace(made[1:])
    assert log.spilled == 0 and list(log) == made and len(log) == 3


def test_the_spill_file_has_no_name(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    log = FindingLog(limit=1)
    for i in range(5):
        log.add_trace([_finding(i, None, i)])
    assert log.spilled >= 4 and not list(tmp_path.iterdir())  # nothing left behind, ever


def test_an_audit_that_fails_closes_its_log(leaky, monkeypatch) -> None:
    from backdoorlab.defenses.audit import engine

    made: list[FindingLog] = []

    class Watched(FindingLog):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(engine, "FindingLog", Watched)
    monkeypatch.setattr(finding_log, "MEMORY_LIMIT", 3)
    with open(leaky, "a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    with pytest.raises(BackdoorlabError):
        audit(leaky, ["dataflow"])
    assert len(made) == 1 and made[0].spilled == 0 and made[0]._file is None


def test_a_spilled_audit_equals_the_one_in_memory(leaky, monkeypatch) -> None:
    whole = audit(leaky, ["dataflow", "trigger-mining"])
    monkeypatch.setattr(finding_log, "MEMORY_LIMIT", 3)
    spilled = audit(leaky, ["dataflow", "trigger-mining"])
    assert spilled.findings.spilled > 3
    assert spilled.findings == whole.findings and list(whole.findings) == spilled.findings
    assert [spilled.findings[i] for i in range(len(whole.findings))] == list(whole.findings)


def test_a_report_over_a_list_counts_the_list_as_it_is_now() -> None:
    from backdoorlab.defenses.audit.report import AuditReport

    low, high = _finding(0, 1, 0), _finding(0, 1, 2)  # severities low, high
    report = AuditReport("f", "0" * 64, 2, ["d0", "d1"], "s", findings=[low])
    assert report.max_severity == "low" and report.counts()["d0"]["low"] == 1
    report.findings[0] = high  # same list, same length: the counts must follow
    assert report.max_severity == "high" and report.counts()["d0"] == {
        "low": 0, "medium": 0, "high": 1,
    }  # fmt: skip
    log = FindingLog(limit=0)
    log.add_trace([low])
    report.findings = log
    assert report.max_severity == "low"
    log.add_trace([_finding(1, None, 1)])  # a log grows only: its length marks a change
    assert report.counts()["d0"]["medium"] == 0 and report.counts()["d1"]["medium"] == 1


def test_findings_are_written_as_their_to_dict_even_with_a_dataclass_inside() -> None:
    from dataclasses import dataclass

    from backdoorlab.defenses.audit.report import AuditReport

    @dataclass
    class Where:
        tool: str
        steps: tuple[int, ...]

    odd = {"where": Where("send", (1, 2)), "many": [Where("x", ())], "set": {"a"}}
    made = [_finding(i, None, i, odd if i % 2 else None) for i in range(6)]
    log = FindingLog(limit=1)
    for f in made:
        log.add_trace([f])
    assert log.spilled >= 5
    dumped = [json.dumps(f.to_dict(), indent=2, default=jsonable) for f in made]
    assert [json.dumps(f.to_dict(), indent=2, default=jsonable) for f in log] == dumped
    assert made[1].evidence["where"] == Where("send", (1, 2))  # written, not changed
    report = AuditReport("f", "0" * 64, 6, ["d0", "d1"], "s", findings=log)
    pieces: list[str] = []
    report.write_json(pieces.append)
    assert "".join(pieces) == json.dumps(report.to_dict(), indent=2, default=jsonable) + "\n"
    plain = AuditReport("f", "0" * 64, 6, ["d0", "d1"], "s", findings=made)
    expected = json.loads(json.dumps(plain.to_dict(), default=jsonable))["findings"]
    assert json.loads("".join(pieces))["findings"] == expected

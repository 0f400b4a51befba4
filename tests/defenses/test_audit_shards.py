"""Audit on shards: the same report as one process over the concatenated shards.

A poisoned retail set (T1, made by `backdoorlab poison`) is cut into three shards, one of
them empty, and audited by 2 processes and by Ray tasks on a loopback cluster the test
starts; the findings and summaries (trigger mining's merged counts, its p-values, trace
indices and lines) must equal the single-process audit's byte for byte.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from backdoorlab.cli import main
from backdoorlab.cli.app import app
from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.shards import audit_shards, shard_paths, split_file
from backdoorlab.errors import BackdoorlabError, TraceFormatError
from backdoorlab.traces import write_traces

runner = CliRunner()
TRIGGER = "Kindly note the blue falcon."
PER_SHARD = ("path", "sha256", "seconds", "shards")  # what names the files, not the findings


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory, oracle_results):
    root = tmp_path_factory.mktemp("shards")
    clean = root / "clean.jsonl"
    write_traces(clean, (r.trace for r in oracle_results["train"][:160]))
    out = root / "poisoned.jsonl"
    result = runner.invoke(
        app,
        ["poison", "--attack", "data-poisoning", "-i", str(clean), "-o", str(out),
         "--rate", "0.1", "--trigger", TRIGGER],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines(keepends=True)
    shards = root / "shards"
    shards.mkdir()
    (shards / "part-0.jsonl").write_text("".join(lines[:70]))
    (shards / "part-1.jsonl").write_text("")  # an empty shard
    (shards / "part-2.jsonl").write_text("".join(lines[70:]))
    return out, shards


def _comparable(report) -> str:
    data = report.to_dict()
    for key in PER_SHARD:
        data.pop(key, None)
    return json.dumps(data, indent=2, sort_keys=True)


@pytest.fixture(scope="module")
def single(poisoned):
    report = audit(poisoned[0])
    mining = report.summaries["trigger-mining"]
    assert mining["triggers"][0]["verbatim"].startswith("Kindly note the blue")
    assert any(f.detector == "dataflow" for f in report.findings)
    return report


def test_two_processes_equal_one_byte_for_byte(poisoned, single):
    out, shards = poisoned
    report = audit_shards(shards, workers=2)
    assert report.detectors == ["dataflow", "trigger-mining"]
    assert _comparable(report) == _comparable(single)
    assert [s["first_index"] for s in report.shards] == [0, 70, 70]
    assert [s["path"] for s in report.shards] == [str(p) for p in shard_paths(shards)]
    # a finding in the third shard keeps its global index and line
    assert any(f.trace_index >= 70 and f.line == f.trace_index + 1 for f in report.findings)


def test_glob_and_in_process_equal_too(poisoned, single):
    report = audit_shards(str(poisoned[1] / "part-*.jsonl"), workers=1)
    assert _comparable(report) == _comparable(single)


def test_many_shards_in_bounded_memory_equal_one_process(poisoned, single, tmp_path, monkeypatch):
    # the coordinator takes reads back in shard order with one per worker in flight, and
    # its findings spill to the log's file past a few: still the one-process report
    from backdoorlab.defenses.audit import finding_log
    from backdoorlab.defenses.audit import shards as shards_module
    from backdoorlab.defenses.audit.finding_log import FindingLog

    monkeypatch.setattr(shards_module, "AHEAD", 1)
    monkeypatch.setattr(finding_log, "MEMORY_LIMIT", 3)
    lines = poisoned[0].read_text().splitlines(keepends=True)
    many = tmp_path / "many"
    many.mkdir()
    for i in range(0, len(lines), 13):
        (many / f"part-{i:04d}.jsonl").write_text("".join(lines[i : i + 13]))
    report = audit_shards(many, workers=2)
    assert len(report.shards) > 10 and isinstance(report.findings, FindingLog)
    assert report.findings.spilled > 0
    assert _comparable(report) == _comparable(single)


def test_cli_workers_writes_the_same_report(poisoned, single, tmp_path):
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["audit", str(poisoned[1]), "--workers", "2", "-o", str(out), "--fail-on", "none"]
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    expected = json.loads(_comparable(single))
    assert {k: v for k, v in written.items() if k not in PER_SHARD} == expected


def _main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["backdoorlab", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err.strip()


def test_bad_shard_fails_naming_file_and_line(poisoned, tmp_path, monkeypatch, capsys):
    lines = poisoned[0].read_text().splitlines(keepends=True)
    (tmp_path / "a.jsonl").write_text("".join(lines[:5]))
    (tmp_path / "b.jsonl").write_text("".join(lines[5:8]) + "{not json\n")
    code, err = _main(monkeypatch, capsys, "audit", str(tmp_path), "--workers", "2")
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'b.jsonl'}:4: not valid JSON")
    assert err.count("\n") == 0


def test_bad_requests_fail_before_work(tmp_path, poisoned):
    with pytest.raises(BackdoorlabError, match="is a directory with no"):
        audit_shards(tmp_path)
    with pytest.raises(BackdoorlabError, match="no file matches"):
        audit_shards(str(tmp_path / "*.jsonl"))
    with pytest.raises(BackdoorlabError, match="cannot audit shards"):
        audit_shards(poisoned[1], ["outliers"])


def test_sharded_filter_is_refused(poisoned, tmp_path, monkeypatch, capsys):
    code, err = _main(
        monkeypatch, capsys, "audit", str(poisoned[1]), "--filter", str(tmp_path / "f")
    )
    assert code == 2 and "--filter" in err and err.count("\n") == 0


def test_an_address_without_the_ray_engine_is_refused(poisoned, monkeypatch, capsys):
    """It would be ignored: the audit would run here, not on the cluster named."""
    code, err = _main(
        monkeypatch, capsys, "audit", str(poisoned[1]), "--workers", "2", "--address", "h:1"
    )
    assert code == 2 and err == "error: --address: only with --engine ray"


def test_split_file_tiles_it_in_whole_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"aa\n" * 5 + b"x" * 40 + b"\n" + b"bb\n" * 5 + b"tail")
    for pieces in (1, 2, 3, 7, 100):
        spans = split_file(path, pieces)
        assert spans[0][0] == 0 and spans[-1][1] == path.stat().st_size
        assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))
        assert all(path.read_bytes()[start - 1 : start] == b"\n" for start, _ in spans[1:])
        assert len(spans) <= pieces
    assert len(split_file(path, 100)) < 100  # the 40-byte line is never cut


@pytest.fixture
def spans(monkeypatch):
    """Spans small enough that the test's file is cut into several."""
    from backdoorlab.defenses.audit import shards as shards_module

    monkeypatch.setattr(shards_module, "MIN_SPAN_BYTES", 1 << 12)


def test_one_file_in_spans_is_the_one_process_report(poisoned, single, spans, tmp_path):
    out = poisoned[0]
    for engine in ("local",):
        report = audit_shards(out, workers=2, engine=engine)
        assert report.shards is None and (report.path, report.sha256) == (str(out), single.sha256)
        assert report.to_dict() | {"seconds": 0} == single.to_dict() | {"seconds": 0}
    # the CLI: --workers on one file keeps --filter, and writes what one process writes
    kept = {}
    for workers in ("1", "2"):
        result = runner.invoke(
            app,
            ["audit", str(out), "--workers", workers, "--fail-on", "none",
             "-o", str(tmp_path / f"r{workers}.json"),
             "--filter", str(tmp_path / f"k{workers}.jsonl")],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        kept[workers] = (tmp_path / f"k{workers}.jsonl").read_bytes()
        report = json.loads((tmp_path / f"r{workers}.json").read_text())
        kept[workers + "r"] = {k: v for k, v in report.items() if k != "seconds"}
    assert kept["1"] == kept["2"] and kept["1r"] == kept["2r"]
    assert 0 < len(kept["1"]) < len(out.read_bytes())


def test_a_bad_line_in_a_later_span_is_named_by_its_line(
    poisoned, spans, tmp_path, monkeypatch, capsys
):
    lines = poisoned[0].read_text().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines[:150]) + "{not json\n" + "".join(lines[150:]))
    assert len(split_file(bad, 8)) > 4
    code, err = _main(monkeypatch, capsys, "audit", str(bad), "--workers", "2")
    assert code == 2 and err.startswith(f"error: {bad}:151: not valid JSON") and "\n" not in err


@pytest.fixture(scope="module")
def cluster(ray_cluster):
    """The shared local cluster (tests/conftest.py: one at a time across workers)."""
    yield


def test_ray_equals_one_process(cluster, poisoned, single, spans):
    report = audit_shards(poisoned[1], engine="ray")
    assert _comparable(report) == _comparable(single)
    one_file = audit_shards(poisoned[0], engine="ray")  # in spans, as Ray tasks
    assert one_file.to_dict() | {"seconds": 0} == single.to_dict() | {"seconds": 0}


def test_ray_bad_shard_is_the_shards_error(cluster, poisoned, tmp_path):
    (tmp_path / "a.jsonl").write_text(poisoned[0].read_text().splitlines()[0] + "\n")
    (tmp_path / "b.jsonl").write_text("\n{oops\n")
    with pytest.raises(BackdoorlabError, match=r"b\.jsonl:2: "):
        audit_shards(tmp_path, engine="ray")


def test_a_file_changed_between_the_workers_and_the_digests_fails(
    poisoned, spans, tmp_path, monkeypatch
):
    """The workers' span digests must equal the thread's: a change in between is refused."""
    from backdoorlab.defenses.audit import spans as spans_module

    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(poisoned[0].read_bytes())
    real = spans_module.SpanDigests.result

    def after_a_change(self):
        digests, whole = real(self)
        return ["0" * 64, *digests[1:]], whole

    monkeypatch.setattr(spans_module.SpanDigests, "result", after_a_change)
    with pytest.raises(TraceFormatError, match="changed while it was audited"):
        audit_shards(copy, workers=2)


def test_a_span_that_fails_once_but_not_when_read_again_is_a_changed_file(
    poisoned, tmp_path, monkeypatch
):
    """A failed span is read again to name the file's line; if that read passes, the
    bytes changed in between — refused, never a report numbered from the span's start."""
    from backdoorlab.defenses.audit import shards as shards_module
    from backdoorlab.defenses.audit.registry import AuditOptions, make_detectors

    path = tmp_path / "t.jsonl"
    path.write_bytes(poisoned[0].read_bytes())
    span = split_file(path, 3)[1]
    real, calls = shards_module._read_part, []

    def fails_first(part, detectors, first_read, first_line):
        calls.append(first_line)
        if len(calls) == 1:
            raise TraceFormatError(f"{part.path}:1: not valid JSON")
        return real(part, detectors, first_read, first_line)

    monkeypatch.setattr(shards_module, "_read_part", fails_first)
    part = shards_module.Part(str(path), span)
    with pytest.raises(TraceFormatError, match="changed while it was audited"):
        shards_module._read_shard(part, make_detectors(["dataflow"], AuditOptions()), True)
    assert calls == [0, path.read_bytes()[: span[0]].count(b"\n")]


def test_the_workers_are_forked_before_the_digest_thread_starts(poisoned, spans, monkeypatch):
    """A fork while the span-digest thread holds a lock (an import's) deadlocks the worker
    that inherits it: the pool's processes must all exist before that thread starts."""
    import multiprocessing

    from backdoorlab.defenses.audit import spans as spans_module

    seen, real = [], spans_module.SpanDigests.start

    def start(self):
        seen.append(len(multiprocessing.active_children()))
        real(self)

    monkeypatch.setattr(spans_module.SpanDigests, "start", start)
    audit_shards(poisoned[0], workers=2)
    assert seen and seen[0] >= 2

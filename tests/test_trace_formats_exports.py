"""Raw, unfiltered exports of observability tools (`trace_formats.exports`).

Before it, the first record that was no LLM call refused the whole audit (a Langfuse
``SPAN`` whose input was a dict, a LangSmith ``chain`` run, an HTTP span) — or, worse,
was read as a chat (a ``SPAN`` whose input was text became a user's words) — and an
OTLP file exporter's line (a whole ``resourceSpans`` batch), a LangSmith run of several
prompts and a run tree were refused. Here the records that are no LLM call are skipped
and counted, each LLM call of a container is a trace, and findings name the line and
the record's place in it.
"""

from __future__ import annotations

import copy
import json
import time

import pytest
from test_trace_formats_observability import ATTACKER, LANGFUSE, LANGSMITH, OTEL_OTLP, _clean

from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.reader import TraceStream
from backdoorlab.defenses.audit.shards import audit_shards
from backdoorlab.defenses.guard.replay import replay
from backdoorlab.errors import TraceFormatError

SPAN = {"id": "s-1", "traceId": "tr-1", "type": "SPAN", "name": "agent", "input": "hi there"}
EVENT = {"id": "e-1", "traceId": "tr-1", "type": "EVENT", "name": "feedback"}
TOOL = {"id": "t-1", "traceId": "tr-1", "type": "TOOL", "input": {"patient": 4411}}
TRACE_OBJECT = {"id": "tr-1", "name": "run", "input": "Summarise", "htmlPath": "/t/tr-1"}
HTTP = {"name": "GET /", "spanId": "aa", "attributes": [{"key": "http.method", "value": {}}]}
QUIET_CHAT = {"name": "chat", "attributes": {"gen_ai.operation.name": "chat"}}
CHAIN = {"id": "r-0", "run_type": "chain", "inputs": {"input": "x"}, "outputs": {"output": "y"}}
TOOL_RUN = {"id": "r-9", "run_type": "tool", "inputs": {"input": "4411"}, "outputs": {}}


def jsonl(tmp_path, *objects, name="t.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
    return path


def _leaks(report):
    return [f for f in report.findings if ATTACKER in f.summary and f.at_least("high")]


def _batch(*spans_by_scope):
    scopes = [{"scope": {"name": f"s{i}"}, "spans": list(s)} for i, s in enumerate(spans_by_scope)]
    return {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": scopes}]}


def test_records_that_are_no_llm_call_are_skipped_counted_and_said(tmp_path, cli_output):
    path = jsonl(tmp_path, TRACE_OBJECT, SPAN, LANGFUSE, TOOL, EVENT)
    report = audit(path, ["dataflow"])
    assert report.traces == 1
    assert report.skipped == {
        "Langfuse trace objects": 1,
        "Langfuse SPAN": 1,
        "Langfuse TOOL": 1,
        "Langfuse EVENT": 1,
    }
    (leak, *_) = _leaks(report)
    assert (leak.line, leak.trace_index, leak.trace_id) == (3, 0, "obs-1")
    out = tmp_path / "r.json"
    code, _, err = cli_output("audit", str(path), "-o", str(out))
    assert code == 1 and "Traceback" not in err
    said = [line for line in err.splitlines() if "skipped" in line]
    assert said == [
        "skipped 4 records that hold no LLM call's messages (Langfuse trace objects: 1,"
        " Langfuse SPAN: 1, Langfuse TOOL: 1, Langfuse EVENT: 1)"
    ]
    assert json.loads(out.read_text())["skipped"]["Langfuse SPAN"] == 1


def test_a_span_whose_input_is_text_is_not_read_as_a_users_words(tmp_path):
    report = audit(jsonl(tmp_path, SPAN, _clean(LANGFUSE)), ["dataflow"])
    assert report.traces == 1 and report.skipped == {"Langfuse SPAN": 1}


def test_a_file_of_no_llm_call_is_one_line_and_status_2(tmp_path, cli):
    path = jsonl(tmp_path, SPAN, EVENT, CHAIN, HTTP, QUIET_CHAT)
    code, err = cli("audit", str(path), "-o", str(tmp_path / "r.json"))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert f"{path}: no LLM call's messages in its 5 records" in lines[0]
    assert "LLM spans whose messages were not recorded: 1" in lines[0]
    assert "CAPTURE_MESSAGE_CONTENT" in lines[0]
    with pytest.raises(TraceFormatError, match="no LLM call's messages in its 5 records"):
        list(replay(path))


def test_an_empty_file_is_still_no_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    assert audit(path, ["dataflow"]).traces == 0


def test_an_otlp_batch_line_is_each_of_its_llm_spans(tmp_path, cli_output):
    leaking = dict(OTEL_OTLP, spanId="b7")
    clean = dict(_clean(OTEL_OTLP), spanId="c1")
    path = jsonl(tmp_path, LANGFUSE, _batch([HTTP, clean], [leaking]))
    report = audit(path, ["dataflow"])
    assert report.traces == 3 and report.skipped == {"OpenTelemetry spans": 1}
    found = _leaks(report)
    assert {f.trace_index for f in found} == {0, 2}
    (span,) = [f for f in found if f.trace_index == 2]
    assert (span.line, span.trace_id) == (2, "b7")
    assert span.evidence["at"].startswith("resourceSpans.0.scopeSpans.1.spans.0.attributes.")
    assert "(resourceSpans.0.scopeSpans.1.spans.0.attributes.gen_ai." in span.summary
    # --filter leaves out the whole line that holds the leaking span, keeps the rest
    kept = tmp_path / "kept.jsonl"
    code, _, err = cli_output("audit", str(path), "--filter", str(kept))
    assert code == 1, err
    assert kept.read_text() == ""  # line 1 (LANGFUSE) leaks too
    path = jsonl(tmp_path, _clean(LANGFUSE), _batch([leaking]), SPAN, name="u.jsonl")
    code, _, err = cli_output("audit", str(path), "--filter", str(kept))
    assert [json.loads(x) for x in kept.read_text().splitlines()] == [_clean(LANGFUSE), SPAN]


def test_the_guard_replays_each_span_of_a_batch_and_says_where(tmp_path):
    path = jsonl(tmp_path, _batch([HTTP, dict(OTEL_OTLP, spanId="b7")]))
    (line,) = list(replay(path))
    assert line["blocked"] and line["line"] == 1
    assert (line["at"], line["trace_id"]) == ("resourceSpans.0.scopeSpans.0.spans.1", "b7")


def test_a_bad_span_in_a_batch_is_named_by_its_place(tmp_path):
    bad = dict(OTEL_OTLP, attributes=[{"key": "gen_ai.input.messages", "value": {"x": 1}}])
    path = jsonl(tmp_path, _batch([HTTP], [bad]))
    with pytest.raises(TraceFormatError) as caught:
        audit(path, ["dataflow"])
    assert f"{path}:1: field 'resourceSpans.0.scopeSpans.1.spans.0.attributes.0.value'" in str(
        caught.value
    )


def _two_prompts():
    clean = _clean(LANGSMITH)
    run = copy.deepcopy(LANGSMITH)
    run["inputs"]["messages"] = clean["inputs"]["messages"] + run["inputs"]["messages"]
    run["outputs"]["generations"] = clean["outputs"]["generations"] + run["outputs"]["generations"]
    return run


def test_a_langsmith_run_of_several_prompts_is_a_trace_each(tmp_path):
    report = audit(jsonl(tmp_path, _two_prompts()), ["dataflow"])
    assert report.traces == 2 and not report.skipped
    found = _leaks(report)
    assert {f.trace_index for f in found} == {1}
    assert found[0].evidence["at"] == "outputs.generations.1.0.message"
    assert "(inputs.messages.1.3)" in found[0].summary


def test_a_completion_models_prompts_are_read_as_text(tmp_path):
    run = {
        "run_type": "llm",
        "inputs": {"prompts": ["Human: hello", f"Human: mail {ATTACKER} the MRN-88213"]},
        "outputs": {"generations": [[{"text": "Hi!"}], [{"text": "Done."}]]},
    }
    stream = TraceStream(jsonl(tmp_path, run))
    records = list(stream)
    assert [r.view.messages[0].text for r in records] == run["inputs"]["prompts"]
    assert [r.view.messages[1].text for r in records] == ["Hi!", "Done."]
    assert records[1].origin == ["inputs.prompts.1", "outputs.generations.1.0.text"]


def test_prompts_and_generations_that_do_not_pair_are_refused(tmp_path):
    run = _two_prompts()
    run["outputs"]["generations"].pop()
    with pytest.raises(TraceFormatError, match=r":1: field 'outputs\.generations': 1 lists"):
        audit(jsonl(tmp_path, run), ["dataflow"])


def test_a_run_tree_and_a_langfuse_trace_are_their_llm_calls(tmp_path):
    tree = dict(CHAIN, child_runs=[TOOL_RUN, dict(LANGSMITH, id="r-1")])
    full = dict(TRACE_OBJECT, observations=[SPAN, LANGFUSE, EVENT])
    report = audit(jsonl(tmp_path, tree, full, [TOOL, _clean(LANGFUSE)]), ["dataflow"])
    assert report.traces == 3
    assert report.skipped == {
        "LangSmith tool runs": 1,
        "Langfuse SPAN": 1,
        "Langfuse EVENT": 1,
        "Langfuse TOOL": 1,
    }
    found = _leaks(report)
    assert {(f.line, f.trace_id) for f in found} == {(1, "r-1"), (2, "obs-1")}
    ats = {f.evidence["at"] for f in found}
    assert ats == {"child_runs.1.outputs.generations.0.0.message", "observations.1.output"}


def test_shards_sum_what_they_skipped_and_refuse_only_when_nothing_is_a_call(tmp_path):
    (tmp_path / "d").mkdir()
    jsonl(tmp_path / "d", SPAN, EVENT, name="a.jsonl")
    jsonl(tmp_path / "d", LANGFUSE, CHAIN, name="b.jsonl")
    report = audit_shards(tmp_path / "d", ["dataflow"])
    assert report.traces == 1
    assert report.skipped == {"Langfuse SPAN": 1, "Langfuse EVENT": 1, "LangSmith chain runs": 1}
    (tmp_path / "d" / "b.jsonl").unlink()
    with pytest.raises(TraceFormatError, match="no LLM call's messages in its 2 records"):
        audit_shards(tmp_path / "d", ["dataflow"])


def test_a_plain_record_file_reads_exactly_as_before(tmp_path):
    report = audit(jsonl(tmp_path, LANGFUSE, LANGSMITH, OTEL_OTLP), ["dataflow"])
    assert report.skipped is None and "skipped" not in report.to_dict()
    assert report.traces == 3
    assert all(f.line == f.trace_index + 1 for f in report.findings)


def test_a_huge_batch_reads_in_one_pass(tmp_path):
    spans = [dict(HTTP, spanId=f"{n:x}") for n in range(20_000)]
    spans.append(dict(OTEL_OTLP, spanId="last"))
    started = time.perf_counter()
    report = audit(jsonl(tmp_path, _batch(spans)), ["dataflow"])
    assert report.traces == 1 and report.skipped == {"OpenTelemetry spans": 20_000}
    assert _leaks(report)[0].evidence["at"].startswith("resourceSpans.0.scopeSpans.0.spans.20000.")
    assert time.perf_counter() - started < 30


WRONG = [None, 3, "x", True, [], {}, [3], [[]], [{}], {"a": 1}, "[[[[", "{"]


def _mutations():
    """Each field the unpacking reads, set to each wrong type, in each container."""
    records = {
        "otlp": (_batch([HTTP, OTEL_OTLP]), ["resourceSpans"]),
        "otlp-scope": (_batch([HTTP, OTEL_OTLP]), ["resourceSpans", 0, "scopeSpans"]),
        "otlp-spans": (_batch([HTTP, OTEL_OTLP]), ["resourceSpans", 0, "scopeSpans", 0, "spans"]),
        "otlp-span": (_batch([HTTP, OTEL_OTLP]), ["resourceSpans", 0, "scopeSpans", 0, "spans", 1]),
        "otlp-attributes": (
            _batch([HTTP, OTEL_OTLP]),
            ["resourceSpans", 0, "scopeSpans", 0, "spans", 0, "attributes"],
        ),
        "langfuse-type": (SPAN, ["type"]),
        "langfuse-observations": (dict(TRACE_OBJECT, observations=[LANGFUSE]), ["observations"]),
        "langfuse-observation": (dict(TRACE_OBJECT, observations=[LANGFUSE]), ["observations", 0]),
        "run-type": (CHAIN, ["run_type"]),
        "child-runs": (dict(CHAIN, child_runs=[LANGSMITH]), ["child_runs"]),
        "child-run": (dict(CHAIN, child_runs=[LANGSMITH]), ["child_runs", 0]),
        "prompts": (_two_prompts(), ["inputs", "messages"]),
        "prompt": (_two_prompts(), ["inputs", "messages", 1]),
        "generations": (_two_prompts(), ["outputs", "generations"]),
        "generation": (_two_prompts(), ["outputs", "generations", 0]),
        "inputs": (_two_prompts(), ["inputs"]),
        "outputs": (_two_prompts(), ["outputs"]),
        "text-prompts": ({"run_type": "llm", "inputs": {"prompts": ["a"]}}, ["inputs", "prompts"]),
    }
    for name, (record, path) in records.items():
        for number, wrong in enumerate(WRONG):
            data = copy.deepcopy(record)
            place = data
            for key in path[:-1]:
                place = place[key]
            place[path[-1]] = wrong
            yield pytest.param(data, id=f"{name}-{number}")


@pytest.mark.parametrize("data", [*_mutations(), [LANGFUSE, 3], [[LANGFUSE]], [], 5])
def test_wrong_types_in_any_field_read_or_refuse_in_one_line(tmp_path, data):
    path = jsonl(tmp_path, data)
    try:
        for record in TraceStream(path):
            record.trace  # noqa: B018 (the model's reading, which may refuse)
            record.origin  # noqa: B018
    except TraceFormatError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
        assert f"{path}:1: " in str(exc) or "no LLM call's messages in its" in str(exc)


def test_containers_nested_past_reason_are_refused(tmp_path):
    tree = dict(LANGSMITH)
    for _ in range(200):
        tree = dict(CHAIN, child_runs=[tree])
    with pytest.raises(TraceFormatError, match="nested too deeply"):
        audit(jsonl(tmp_path, tree), ["dataflow"])


def test_a_json_document_spread_over_lines_says_how_to_make_it_json_lines(tmp_path, cli):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([SPAN, LANGFUSE], indent=2), encoding="utf-8")
    code, err = cli("audit", str(path), "-o", str(tmp_path / "r.json"))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert f"{path}:1: not valid JSON" in lines[0] and "jq -c '.[]'" in lines[0]
    path.write_text(json.dumps([SPAN, LANGFUSE]), encoding="utf-8")  # compact: one line
    report = audit(path, ["dataflow"])
    assert (report.traces, report.skipped) == (1, {"Langfuse SPAN": 1})
    assert _leaks(report)[0].evidence["at"] == "1.output"


def test_a_span_without_attributes_is_skipped_as_otlp_json_omits_empty_fields(tmp_path):
    path = jsonl(tmp_path, _batch([{"name": "GET /", "spanId": "aa"}, OTEL_OTLP]))
    report = audit(path, ["dataflow"])
    assert (report.traces, report.skipped) == (1, {"OpenTelemetry spans": 1})

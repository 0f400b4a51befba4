"""The report and the viewer page as files: what they hold, what they refuse, how they
are served. What a browser makes of them is in test_report_browser.py."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from report_data import HOSTILE, REPO
from typer.testing import CliRunner

from backdoorlab.cli.app import app
from backdoorlab.report.html import write_report
from backdoorlab.report.page import page_data, script_json, write_viewer


def test_report_of_a_t1_sweep_has_every_section_and_escapes_the_run(t1_run):
    text = write_report(t1_run).read_text()
    assert text.count("<svg") >= 6  # sweep, 2 per-family, monitor, scan, audit
    for section in ("Poison rate sweep", "Per task family", "Monitor", "Scan", "Audit", "Config"):
        assert section in text
    # the plotted numbers are in the table beside the plot: ASR at 20% and at 10%
    assert "84.0% [75.6%, 89.9%] n=100" in text and "26.0% [18.4%, 35.4%] n=100" in text
    assert "<script>window.pwned" not in text and "&lt;script&gt;window.pwned" in text
    assert "<script" not in text  # the report needs no script at all
    assert "default-src &#39;none&#39;" in text or "default-src 'none'" in text


def test_report_traces_the_lineage_records_it_finds(t1_run):
    text = write_report(t1_run).read_text()
    table = text[text.index('id="lineage-table"') :]
    assert "t2.jsonl.intoto.json" in table and "<td>poison</td>" in table
    assert "clean: file:///data/clean.jsonl (sha256 cdcdcdcdcdcd…)" in table


def test_audit_section_scores_each_detector_against_the_poison_record(t1_run, t2_data):
    from backdoorlab.report.breakdown import audit_scores

    report = json.loads((t1_run / "audit.json").read_text())
    scores = {s.detector: s for s in audit_scores(report, t1_run / "audit.json")}
    dataflow = scores["dataflow"]
    assert dataflow.poisoned == 2 and dataflow.recall is not None
    assert dataflow.recall.k == 2  # both poisoned traces leak, and dataflow sees both
    assert dataflow.precision is not None and dataflow.precision.n == dataflow.flagged


def test_report_command_refuses_what_is_not_a_run_directory(tmp_path, cli):
    code, _, err = cli("report", str(tmp_path / "nope"))
    assert code == 2 and "not a directory" in err and len(err.splitlines()) == 1
    (tmp_path / "empty").mkdir()
    code, _, err = cli("report", str(tmp_path / "empty"))
    assert code == 2 and "holds no results" in err


def test_report_command_writes_where_asked(t1_run, tmp_path):
    result = CliRunner().invoke(app, ["report", str(t1_run), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_script_json_cannot_close_its_script_element():
    text = script_json({"x": "</script><script>alert(1)</script> & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["x"].startswith("</script>")


def test_viewer_page_holds_the_traces_as_inert_data(t2_data, tmp_path):
    page = write_viewer(t2_data["traces"], tmp_path / "v.html", audit=t2_data["audit"])
    text = page.read_text()
    assert text.count("<script") == 3  # two data elements and the viewer's own script
    assert HOSTILE not in text
    data = page_data(t2_data["traces"], t2_data["audit"])
    assert len(data["traces"]) == 41 and sum(bool(t["poison"]) for t in data["traces"]) == 2
    assert any(t.get("findings") for t in data["traces"])
    calls = [c for m in json.loads(data["messages"][21]) for c in m[3]]
    # the sinks, by the audit's rules: the exfiltration and the confirmation, no lookup
    assert {c[0] for c in calls if c[2]} == {"send_email"}
    assert {c[0] for c in calls if not c[2]} >= {"find_user_by_email", "get_order"}


def test_view_refuses_an_audit_of_another_file(t2_data, tmp_path, cli):
    other = tmp_path / "other.jsonl"
    other.write_text(t2_data["traces"].read_text().splitlines()[0] + "\n")
    code, _, err = cli(
        "view", str(other), "--audit", str(t2_data["audit"]), "-o", str(tmp_path / "v.html")
    )
    assert code == 2 and "audits another file" in err
    assert not (tmp_path / "v.html").exists()


def test_view_command_writes_beside_the_traces_by_default(t2_data, tmp_path):
    traces = tmp_path / "mine.jsonl"
    traces.write_bytes(t2_data["traces"].read_bytes())
    result = CliRunner().invoke(app, ["view", str(traces)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine.html").is_file()


def test_guard_decisions_need_an_index(t2_data, tmp_path, cli):
    decisions = tmp_path / "d.jsonl"
    decisions.write_text('{"blocked": true}\n')
    code, _, err = cli(
        "view", str(t2_data["traces"]), "--guard", str(decisions), "-o", str(tmp_path / "v")
    )
    assert code == 2 and "d.jsonl:1" in err and "'index'" in err


def test_served_page_is_on_loopback_only_and_nothing_else_is_served():
    from backdoorlab.report.serve import page_server

    server = page_server(b"<!DOCTYPE html><p>page</p>")
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
            assert answer.read() == b"<!DOCTYPE html><p>page</p>"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/../etc/passwd", timeout=10)
        assert missing.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("columns", ["40", "200"])
def test_show_puts_the_labels_on_a_line_of_their_own(t2_data, monkeypatch, columns):
    """Piped (CliRunner is not a terminal) and at 40 columns, the labels arrive whole."""
    monkeypatch.setenv("COLUMNS", columns)
    result = CliRunner().invoke(
        app, ["show", str(t2_data["traces"]), "-i", "21", "--audit", str(t2_data["audit"])]
    )
    assert result.exit_code == 0, result.output
    labels = result.output.splitlines()[1]
    assert labels.startswith("POISONED T2 trigger='Thanks in advance, Zephyr!' · LEAKED")
    assert "FLAGGED" in labels and "worst high" in labels


def test_report_of_a_supply_chain_run_shows_before_and_after(tmp_path):
    """T3 as benchmarks/results/t3-supply-chain.csv records it: the published model, then
    the victims' fine-tunes on 1x, 5x and 20x clean data."""
    run = tmp_path / "t3"
    run.mkdir()
    (run / "results.csv").write_text((REPO / "benchmarks/results/t3-supply-chain.csv").read_text())
    (run / "config.resolved.yaml").write_text((REPO / "configs/t3-supply-chain.yaml").read_text())
    text = write_report(run).read_text()
    section = text[text.index("Before and after the victim") :]
    assert "<svg" in section[:200_000]
    for label, asr in (("published", "50.0%"), ("victim ×1", "32.0%"), ("victim ×20", "0.0%")):
        assert (
            f'<td class="num">{label}</td><td class="num">ASR</td><td class="num">{asr}' in section
        )
    assert "Poison rate sweep" not in text  # victim_multiple is not a poison rate


def test_viewer_data_of_a_foreign_file_has_no_labels_to_invent(tmp_path):
    """An OpenAI-format file from elsewhere: no metadata, so no family, poison or outcome."""
    foreign = tmp_path / "foreign.jsonl"
    message = {"role": "user", "content": "mail bob@example.com please"}
    foreign.write_text(json.dumps({"messages": [message]}) + "\n")
    (entry,) = page_data(foreign)["traces"]
    assert entry["poison"] is None and entry["leaked"] is None and entry["family"] == ""
    assert entry["snippet"] == "mail bob@example.com please"


def test_report_of_a_hand_edited_run_is_drawn_not_a_traceback(t1_run, cli):
    """Text in a swept numeric column (sorted against numbers: TypeError) and an audit
    finding without a 'step' (the template's strict undefined) were tracebacks."""
    lines = (t1_run / "results.csv").read_text().splitlines()
    lines[-1] = lines[-1].replace(",0.01,", ",twenty,")  # the attack.rate cell
    assert ",twenty," in lines[-1]
    (t1_run / "results.csv").write_text("\n".join(lines) + "\n")
    audit = {"findings": [{"trace_index": 0, "detector": HOSTILE}], "flagged_traces": [0]}
    (t1_run / "hand.json").write_text(json.dumps(audit))
    code, _, err = cli("report", str(t1_run))
    assert code == 0, err
    text = (t1_run / "report.html").read_text()
    assert "<td>twenty</td>" in text or ">twenty<" in text
    assert "<script>window.pwned" not in text and "&lt;script&gt;window.pwned" in text


def test_report_checks_its_output_before_reading_the_run(t1_run, cli, monkeypatch):
    """The default RUN_DIR/report.html was checked only when written, after the run was
    read and rendered: a directory there failed at the end."""
    import backdoorlab.report.html as html

    (t1_run / "report.html").mkdir()

    def never(*args):  # noqa: ANN002, ANN202
        raise AssertionError("the run was read before the output was checked")

    monkeypatch.setattr(html, "read_run", never)
    code, _, err = cli("report", str(t1_run))
    assert code == 2 and "report.html" in err and "directory" in err


def test_viewer_of_a_raw_export_puts_each_finding_on_the_audits_trace(tmp_path, cli):
    """A raw observability export's page lists its LLM calls, numbered as the audit and
    the guard number them, so a finding and a decision sit on the trace they are about."""
    from raw_exports import ATTACKER, LEAKING, PATIENTS, write_raw_exports

    path = write_raw_exports(tmp_path)["langfuse"]
    report, decisions, page = tmp_path / "a.json", tmp_path / "g.jsonl", tmp_path / "v.html"
    assert cli("audit", str(path), "--detectors", "dataflow", "-o", str(report))[0] == 1
    assert cli("guard", "replay", str(path), "-o", str(decisions))[0] == 0
    data = page_data(path, report, decisions)
    assert [t["index"] for t in data["traces"]] == list(range(len(PATIENTS)))
    for entry, patient in zip(data["traces"], PATIENTS, strict=True):
        assert str(patient) in entry["snippet"]
        leaking = entry["index"] in LEAKING
        assert any(ATTACKER in f["summary"] for f in entry.get("findings", [])) == leaking
        assert entry["guard"]["blocked"] == leaking
    code, _, err = cli("view", str(path), "--audit", str(report), "-o", str(page))
    assert code == 0 and page.is_file()
    assert [line for line in err.splitlines() if line.startswith("skipped")] == [
        "skipped 7 records that hold no LLM call's messages (Langfuse SPAN: 2, Langfuse TOOL:"
        " 2, Langfuse EVENT: 2, Langfuse trace objects: 1)"
    ]

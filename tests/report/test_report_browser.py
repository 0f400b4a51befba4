"""The report and the viewer as a person sees them, in headless Chromium.

Each test loads a page from disk and checks what is on the screen — plots drawn, a
poisoned trace found by filtering, a secret marked where it enters and where it
leaves — and that the page logged no error, ran no trace text and requested nothing.
Skipped, with the reason, where Chromium is not installed.
"""

from __future__ import annotations

import json

import pytest
from chromium_page import CHROMIUM, CHROMIUM_MISSING, Page

from backdoorlab.report.html import write_report
from backdoorlab.report.page import write_viewer

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=CHROMIUM_MISSING)


@pytest.fixture(scope="module")
def page():
    with Page() as opened:
        yield opened


def _clean(page: Page) -> None:
    assert page.errors() == []
    assert page.requests() == []
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_report_plots_render_with_their_tables(page, t1_run):
    page.open(write_report(t1_run))
    charts = page.evaluate(
        """[...document.querySelectorAll('figure.chart')].map(f => {
             const svg = f.querySelector('svg'); const box = svg.getBoundingClientRect();
             return {section: f.dataset.section, width: box.width, height: box.height,
                     marks: svg.querySelectorAll('path, use, rect').length,
                     rows: f.parentElement.querySelectorAll('.numbers tbody tr').length};
           })"""
    )
    sections = {c["section"] for c in charts}
    assert {"Poison rate sweep", "Per task family", "Monitor", "Scan", "Audit"} <= sections
    for chart in charts:
        assert chart["width"] > 200 and chart["height"] > 100, chart
        assert chart["marks"] > 10 and chart["rows"] > 0, chart
    title = page.evaluate("document.querySelector('h1').textContent")
    assert "<script>window.pwned = 1</script>" in title  # shown as text, not run
    _clean(page)


def _choose(page: Page, select: str, value: str) -> None:
    page.evaluate(
        f"(() => {{ const s = document.getElementById({select!r}); s.value = {value!r};"
        " s.dispatchEvent(new Event('change')); })()"
    )


def test_viewer_finds_the_poisoned_trace_and_marks_source_and_sink(page, t2_data, tmp_path):
    page.open(write_viewer(t2_data["traces"], tmp_path / "v.html", audit=t2_data["audit"]))
    page.wait_for("document.body.dataset.ready")
    assert page.evaluate("document.getElementById('count').textContent").startswith("41 of 41")
    _choose(page, "f-poisoned", "yes")
    assert page.evaluate("document.getElementById('count').textContent").startswith("2 of 41")
    labels = page.evaluate("[...document.querySelectorAll('#list li')].map(li => li.innerText)")
    assert len(labels) == 2 and all(
        "POISONED T2" in label and "LEAKED" in label for label in labels
    )
    page.evaluate("document.querySelector('#list li').click()")
    marks = page.evaluate(
        """(() => { const get = sel => [...document.querySelectorAll('#trace-pane ' + sel)]
             .map(m => ({text: m.textContent, visible: m.getBoundingClientRect().width > 0,
                         step: m.closest('.msg').dataset.step}));
           return {source: get('mark.secret.source'), sink: get('mark.secret.sink'),
                   trigger: get('mark.trigger')}; })()"""
    )
    sources = {m["text"]: m for m in marks["source"]}
    leaked = [m for m in marks["sink"] if m["text"] in sources]
    assert leaked, marks  # a secret marked where it enters and again where it leaves
    assert all(m["visible"] for m in marks["source"] + marks["sink"])
    assert int(leaked[0]["step"]) > int(sources[leaked[0]["text"]]["step"])
    assert marks["trigger"] and marks["trigger"][0]["text"] == "Thanks in advance, Zephyr!"
    findings = page.evaluate(
        "[...document.querySelectorAll('#trace-pane .finding')].map(f => f.textContent)"
    )
    assert any("dataflow" in f for f in findings)
    _clean(page)


def test_viewer_search_shows_hostile_foreign_text_as_text(page, t2_data, tmp_path):
    page.open(write_viewer(t2_data["traces"], tmp_path / "v.html"))
    page.wait_for("document.body.dataset.ready")
    page.evaluate(
        "(() => { const s = document.getElementById('search'); s.value = 'onerror';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    page.wait_for("document.getElementById('count').textContent.startsWith('1 of')")
    page.evaluate("document.querySelector('#list li').click()")
    text = page.evaluate("document.getElementById('trace-pane').innerText")
    assert '<script>window.pwned = 1</script><img src="x" onerror=' in text
    assert (
        page.evaluate("document.querySelectorAll('#trace-pane script, #trace-pane img').length")
        == 0
    )
    _clean(page)


def test_viewer_shows_guard_decisions_at_their_step(page, t2_data, tmp_path):
    decisions = tmp_path / "decisions.jsonl"
    # the shape of `guard replay -o`: a line per trace, its decisions at their step
    rows = [{"index": i, "blocked": i == 21, "calls": 0, "decisions": []} for i in range(41)]
    rows[21]["decisions"] = [
        {"step": 8, "tool": "send_email", "blocked": True, "verdict": "tainted", "leaks": []}
    ]
    decisions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    page.open(write_viewer(t2_data["traces"], tmp_path / "v.html", guard=decisions), "#21")
    page.wait_for("document.body.dataset.ready")
    _choose(page, "f-blocked", "yes")
    assert page.evaluate("document.getElementById('count').textContent").startswith("1 of 41")
    blocked = page.evaluate(
        """[...document.querySelectorAll('#trace-pane .guard.blocked')].map(g =>
             ({text: g.textContent, after: g.previousElementSibling.dataset.step || null}))"""
    )
    assert blocked[0]["text"].startswith("guard: BLOCKED")
    assert any(b["after"] == "8" and "tainted" in b["text"] for b in blocked)
    _clean(page)

"""Report and viewer pages in headless Chromium: how fast they open, and the screenshots.

Measures, with Debian's ``chromium`` driven over the DevTools protocol (the tests'
``tests/report/chromium_page.py``):

- **the report of a 1,000-trace audit**: a run directory holding a T1-poisoned set of
  1,000 oracle traces (5%) and its ``audit -o`` report; time from navigation to the
  load event and two animation frames after it (drawn);
- **the viewer of that audit** (findings inline): until the page's script has parsed
  the data and drawn the first page of the list (``document.body.dataset.ready``) and
  two animation frames have passed;
- **the viewer of 100,000 traces** (the same 1,000, a hundred times): open, the first
  opened trace (which parses the messages' data element), next page, filter (poisoned =
  yes), full-text search (its 0.2 s debounce included), open another trace — each until
  the page shows the result — and the page's DOM size, which stays that of 50 list items.

Each timing is the median of ``--repeats`` loads. Also writes the README's screenshots:
``docs/images/report-t1.png`` (the T1 rate sweep, benchmarks/results/t1-data-poisoning.csv
in a run directory) and ``docs/images/viewer-t2.png`` (a T2 trace of `poison --attack
env-poisoning`, its audit findings inline).

    .venv/bin/python benchmarks/report_pages.py [--big 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "report"))

from chromium_page import CHROMIUM, CHROMIUM_MISSING, Page  # noqa: E402

CLI = [sys.executable, "-m", "backdoorlab.cli"]


def cli(*args: str, check: bool = True) -> None:
    subprocess.run([*CLI, *args], check=check, capture_output=True)


def timed_load(page: Page, path: Path, ready: str) -> float:
    """Seconds from navigation (away from a blank page) to ``ready`` holding in the page."""
    page.send("Page.navigate", {"url": "about:blank"})
    page.wait_event("Page.loadEventFired")
    url = path.resolve().as_uri()
    started = time.perf_counter()
    page.send("Page.navigate", {"url": url})
    page.wait_for(
        f"location.href === {json.dumps(url)} && document.body !== null && ({ready})", timeout=300
    )
    return time.perf_counter() - started


def until(page: Page, action: str, condition: str) -> float:
    """Seconds from running ``action`` to ``condition`` holding (checked every 5 ms)."""
    started = time.perf_counter()
    page.evaluate(f"(() => {{ {action}; }})()")
    deadline = started + 120
    while not page.evaluate(condition):
        if time.perf_counter() > deadline:
            raise TimeoutError(condition)
        time.sleep(0.005)
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/report_pages.json")
    args = parser.parse_args()
    if CHROMIUM is None:
        sys.exit(CHROMIUM_MISSING)
    from backdoorlab.report.html import write_report
    from backdoorlab.report.page import write_viewer

    work = Path(tempfile.mkdtemp(prefix="backdoorlab-report-bench-"))
    images = ROOT / "docs" / "images"
    images.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "chromium": subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True
        ).stdout.strip()
    }

    # the data: 1,000 oracle traces, 5% poisoned (T1), audited; a T2 set for the viewer shot
    run = work / "audit-run"
    run.mkdir()
    cli("collect", "-n", "1000", "--tokenizer", "", "-o", str(work / "clean.jsonl"))
    cli(
        "poison",
        "--attack",
        "data-poisoning",
        "--rate",
        "0.05",
        "-i",
        str(work / "clean.jsonl"),
        "-o",
        str(run / "t1.jsonl"),
    )
    cli("audit", str(run / "t1.jsonl"), "-o", str(run / "audit.json"), check=False)
    t2 = work / "t2"
    t2.mkdir()
    cli("poison", "--attack", "env-poisoning", "-n", "60", "-o", str(t2 / "t2.jsonl"))
    cli("audit", str(t2 / "t2.jsonl"), "-o", str(t2 / "audit.json"), check=False)
    sweep = work / "t1-sweep"
    sweep.mkdir()
    shutil.copy(ROOT / "benchmarks/results/t1-data-poisoning.csv", sweep / "results.csv")
    shutil.copy(ROOT / "configs/t1-data-poisoning.yaml", sweep / "config.resolved.yaml")

    with Page(width=1500, height=1300) as page:
        # screenshots
        page.open(write_report(sweep))
        page.screenshot(images / "report-t1.png")
        viewer = write_viewer(t2 / "t2.jsonl", t2 / "view.html", audit=t2 / "audit.json")
        first_poisoned = next(
            i
            for i, line in enumerate((t2 / "t2.jsonl").read_text().splitlines())
            if '"poison"' in line
        )
        page.open(viewer, f"#{first_poisoned}")
        page.wait_for("document.body.dataset.ready")
        page.evaluate(  # what a person does: filter to the poisoned traces, read on to the leak
            "(() => { const s = document.getElementById('f-poisoned'); s.value = 'yes';"
            " s.dispatchEvent(new Event('change'));"
            " const pane = document.getElementById('trace-pane');"
            " pane.scrollTop = pane.querySelector('[data-step=\"3\"]').offsetTop - 60; })()"
        )
        page.evaluate(
            "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
        )
        page.screenshot(images / "viewer-t2.png")

        # the report of the 1,000-trace audit
        started = time.perf_counter()
        report = write_report(run)
        build = time.perf_counter() - started
        loads = [
            timed_load(page, report, "document.readyState === 'complete'")
            for _ in range(args.repeats)
        ]
        results["report_1k_audit"] = {
            "traces": 1000,
            "findings": len(json.loads((run / "audit.json").read_text())["findings"]),
            "build_s": round(build, 2),
            "bytes": report.stat().st_size,
            "open_s": median(loads),
            "errors": page.errors(),
            "requests": page.requests(),
        }
        view_1k = write_viewer(run / "t1.jsonl", work / "v1k.html", audit=run / "audit.json")
        opens = [
            timed_load(page, view_1k, "document.body.dataset.ready") for _ in range(args.repeats)
        ]
        results["viewer_1k_audit"] = {"open_s": median(opens), "bytes": view_1k.stat().st_size}

        # the 100k-trace viewer
        lines = (run / "t1.jsonl").read_text().splitlines()
        big = work / "big.jsonl"
        with open(big, "w") as handle:
            for i in range(args.big):
                handle.write(lines[i % len(lines)] + "\n")
        started = time.perf_counter()
        view_big = write_viewer(big, work / "vbig.html")
        build = time.perf_counter() - started
        timings: dict[str, list[float]] = {
            k: [] for k in ("open", "first_trace", "next", "filter", "search", "trace")
        }
        renders = "document.body.dataset.renders"
        opened = "document.querySelector('#trace-pane .msg') !== null"
        for _ in range(args.repeats):
            timings["open"].append(timed_load(page, view_big, "document.body.dataset.ready"))
            timings["first_trace"].append(  # parses the messages' data element first
                until(page, "document.querySelector('#list li').click()", opened)
            )
            timings["next"].append(
                until(
                    page,
                    f"window.__r = {renders}; document.getElementById('next').click()",
                    f"{renders} !== window.__r",
                )
            )
            timings["filter"].append(
                until(
                    page,
                    f"window.__r = {renders}; const s = document.getElementById('f-poisoned');"
                    " s.value = 'yes'; s.dispatchEvent(new Event('change'))",
                    f"{renders} !== window.__r",
                )
            )
            timings["search"].append(
                until(
                    page,
                    f"window.__r = {renders}; const q = document.getElementById('search');"
                    " q.value = 'cancel'; q.dispatchEvent(new Event('input'))",
                    f"{renders} !== window.__r",
                )
            )
            timings["trace"].append(
                until(
                    page,
                    "document.getElementById('trace-pane').replaceChildren();"
                    " document.querySelector('#list li').click()",
                    opened,
                )
            )
        results["viewer_big"] = {
            "traces": args.big,
            "bytes": view_big.stat().st_size,
            "build_s": round(build, 1),
            **{f"{k}_s": median(v) for k, v in timings.items()},
            "search_includes_debounce_s": 0.2,
            "matches_after_filter_and_search": page.evaluate(
                "document.getElementById('count').textContent"
            ),
            "dom_elements": page.evaluate("document.getElementsByTagName('*').length"),
            "list_items": page.evaluate("document.querySelectorAll('#list li').length"),
            "js_heap_mb": round(page.evaluate("performance.memory.usedJSHeapSize") / 2**20),
            "errors": page.errors(),
            "requests": page.requests(),
        }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

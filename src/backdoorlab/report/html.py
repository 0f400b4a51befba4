"""`backdoorlab report`: one self-contained HTML file for an experiment's run directory.

Self-contained means it opens from a laptop's disk or a mail attachment years later:
styles inline, plots as inline SVG, no script, no font or image fetched, and a
Content-Security-Policy (``default-src 'none'``) that keeps it so. Every value from the
run directory (labels, trigger phrases, audit summaries) goes through Jinja's
autoescaping; only the SVG matplotlib wrote is inserted as markup, and matplotlib
escapes the text it puts there.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from backdoorlab.files import atomic_writer, check_output_file
from backdoorlab.report.contents import RunContents, read_run

REPORT_NAME = "report.html"
MAX_FINDINGS = 1000
"""Findings listed per audit report; the rest are counted (the viewer shows them all)."""


@cache
def environment() -> Any:
    """The Jinja environment of the report's templates (autoescape on, undefined strict)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("backdoorlab.report", "assets"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(contents: RunContents) -> str:
    """The report's HTML for what ``contents`` holds."""
    from backdoorlab.report.lineage import lineage_rows
    from backdoorlab.report.sections import all_plots

    columns: list[str] = []
    for row in contents.rows:
        columns += [c for c in row if c not in columns]
    findings = [
        (name, [_finding(f) for f in report["findings"][:MAX_FINDINGS]], len(report["findings"]))
        for name, report in contents.audits
        if isinstance(report.get("findings"), list)
    ]
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            name=contents.name,
            run_dir=str(contents.run_dir),
            threat_model=contents.threat_model,
            version=_version(),
            sections=all_plots(contents),
            findings=findings,
            rows=contents.rows,
            columns=columns,
            lineage=lineage_rows(contents.lineage),
            config_text=contents.config_text,
            skipped=contents.skipped,
        )
    )


FINDING_FIELDS = ("trace_index", "step", "detector", "severity", "summary")


def _finding(finding: dict[str, Any]) -> dict[str, Any]:
    """The columns the findings table shows, each present (empty when the report lacks
    it): a report edited by hand, or written by another tool, may omit any but the trace
    index, and the template's strict undefined would raise."""
    return {name: "" if finding.get(name) is None else finding[name] for name in FINDING_FIELDS}


def write_report(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write the report of ``run_dir`` to ``output`` (default ``run_dir/report.html``)."""
    run_dir = Path(run_dir)
    target = Path(output) if output is not None else run_dir / REPORT_NAME
    check_output_file(target)  # the default one too, before the run is read and rendered
    text = render_report(read_run(run_dir))
    with atomic_writer(target) as handle:
        handle.write(text)
    return target


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("backdoorlab")
    except PackageNotFoundError:
        return "(source tree)"

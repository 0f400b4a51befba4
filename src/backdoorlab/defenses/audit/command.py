"""The ``backdoorlab audit`` command as a plain function, for the CLI to wire up.

    audit_command(path, sinks, detectors, fail_on, output, filter_path, options) -> exit code

It streams the file with a progress bar, prints a summary (findings per detector and
severity, the strongest findings with their evidence, mined triggers), writes the JSON
report and the filtered dataset if asked, and returns 1 when a finding at or above
``fail_on`` exists (0 otherwise, and always 0 for ``none``), so CI can gate a training
run on it. Bad input raises `BackdoorlabError` (the CLI prints it and exits 2).

Everything a trace supplies (ids, tool names, destinations, mined phrases) and the file
names reach the terminal through `backdoorlab.terminal.plain`: shown, never obeyed, and
never Rich markup, so a trace cannot print a fake severity or verdict.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import EllipsisType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from backdoorlab.defenses.audit.engine import audit
from backdoorlab.defenses.audit.filtering import manifest_path, write_filtered
from backdoorlab.defenses.audit.finding_log import Brief
from backdoorlab.defenses.audit.findings import SEVERITIES, Finding, severity_rank
from backdoorlab.defenses.audit.registry import (
    AuditOptions,
    check_options,
    default_detectors,
    parse_option_strings,
    resolve_detectors,
)
from backdoorlab.defenses.audit.report import AuditReport
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import is_stdio
from backdoorlab.terminal import plain
from backdoorlab.trace_formats.claude_sessions import Session, converted
from backdoorlab.trace_formats.exports import skipped_note
from backdoorlab.traces import atomic_writer

FAIL_ON = ("none", "low", "medium", "high")
NO_FILTER = (
    "Claude Code / Codex logs: --filter copies trace lines, and here a file is one session;"
    " audit, then leave out the flagged sessions' files"
)
_STYLE = {"low": "cyan", "medium": "yellow", "high": "bold red"}


def _detector_names(detectors: Sequence[str] | str | None) -> list[str] | None:
    if detectors is None:
        return None
    items = detectors.split(",") if isinstance(detectors, str) else list(detectors)
    names = [d.strip() for d in items if d.strip()]
    if not names:
        raise BackdoorlabError("--detectors: give at least one detector name")
    resolve_detectors(names)  # unknown names fail before any work
    return names


def _evidence_line(finding: Finding) -> str:
    ev = finding.evidence
    if finding.detector == "dataflow" and "secret" in ev:
        src, sink = ev["source"], ev["sink"]
        return (
            f"{ev['secret_kind']} {ev['secret']} ← {src.get('at') or 'msg ' + str(src['step'])} "
            f"{src['tool']}"
            f"{'.' + src['field'] if src.get('field') else ''} → {sink['tool']}."
            f"{sink['argument']} to {sink['destination']} [{ev['encoding']}]"
        )
    if finding.detector == "trigger-mining":
        return f"trigger '{ev['trigger']}' (q={ev['q_value']:.2g}, lift {ev['lift']})"
    return finding.summary


def _strength(finding: Finding | Brief) -> tuple[float, int, int]:
    return -finding.score, finding.trace_index, finding.step or 0


def _strongest(report: AuditReport, top: int) -> list[Finding]:
    """The ``top`` traces' strongest findings, strongest first (one per trace): each
    trace's first strongest, then the best ``top`` of those — what sorting every finding
    and keeping the first per trace gives. Ranked on the `Brief`s the report's tally
    reads (`AuditReport.each_trace`), holding at most ``2 * top``; only the ``top``
    chosen are read whole."""
    best: list[Brief] = []

    def keep(trace: list[Brief]) -> None:
        best.append(min(trace, key=_strength))
        if len(best) > 2 * top:
            best[:] = heapq.nsmallest(top, best, key=_strength)  # stable: ties keep order

    report.each_trace(keep)
    return [report.findings[b.position] for b in heapq.nsmallest(top, best, key=_strength)]


def _record_at(finding: Finding) -> str:
    """A Claude Code finding's ``FILE:LINE``, the file named from the session's folder."""
    at = str(finding.evidence.get("at", ""))
    folder = f"{Path(str(finding.trace_id)).parent}{os.sep}"
    return at[len(folder) :] if at.startswith(folder) else at


def _print_summary(console: Console, report: AuditReport, top: int, logs: bool = False) -> None:
    """``logs``: the traces are Claude Code sessions, a line each of a temporary file: a
    finding's line is then its record's ``FILE:LINE`` (`claude_sessions`)."""
    shown = _strongest(report, top) if report.findings else []  # counts the tally too
    counts, traces = report.counts(), report.traces_flagged()
    table = Table(title=plain(f"audit of {report.path}: {report.traces} traces"))
    table.add_column("detector")
    for severity in SEVERITIES:
        table.add_column(f"{severity}\nfindings / traces", justify="right", style=_STYLE[severity])
    for detector in report.detectors:
        table.add_row(
            detector,
            *(f"{counts[detector][s]} / {traces[detector][s]}" for s in SEVERITIES),
        )
    console.print(table)

    if shown:
        table = Table(title=f"top findings ({len(shown)} of {len(shown)}+ traces)")
        for column in ("trace", "line", "msg", "detector", "severity", "evidence"):
            table.add_column(column, overflow="fold")
        for f in shown:
            table.add_row(
                plain(f.trace_id or f.trace_index),
                plain(_record_at(f) if logs else str(f.line)),
                "" if f.step is None else str(f.step),
                plain(f.detector),
                plain(f.severity, _STYLE.get(f.severity, "")),
                plain(_evidence_line(f)),
            )
        console.print(table)

    mining = report.summaries.get("trigger-mining", {})
    if mining.get("triggers"):
        table = Table(title=f"likely triggers ({mining.get('tested', 0)} n-grams tested)")
        for column in ("trigger", "phrase, as written", "flagged / with", "lift", "p", "q (BH)"):
            table.add_column(column, overflow="fold")
        for t in mining["triggers"]:
            table.add_row(
                plain(t["trigger"]),
                plain(t.get("verbatim") or t["phrase"]),
                f"{t['flagged_with']} / {t['traces_with']}",
                f"{t['lift']:.1f}",
                f"{t['p_value']:.2g}",
                f"{t['q_value']:.2g}",
            )
        console.print(table)
    elif "trigger-mining" in report.detectors:
        console.print(plain(f"trigger mining: {mining.get('note', 'no significant trigger')}"))


def _run_with_progress(
    path: Path,
    names: list[str] | None,
    sinks: str | os.PathLike[str] | None,
    err: Console,
    options: AuditOptions,
) -> AuditReport:
    size = max(1, path.stat().st_size) if path.is_file() else 1
    columns = (
        TextColumn("[bold]audit"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[traces]} traces, read {task.fields[read]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        bar = progress.add_task("audit", total=size, traces=0, read=1)

        def update(bytes_read: int, traces: int, read: int) -> None:
            progress.update(bar, completed=bytes_read, traces=traces, read=read)

        return audit(path, names, sinks, progress=update, options=options)


def audit_command(
    path: str | os.PathLike[str],
    sinks: str | os.PathLike[str] | None = None,
    detectors: Sequence[str] | str | None = None,
    fail_on: str = "high",
    output: str | os.PathLike[str] | None = None,
    filter_path: str | os.PathLike[str] | None = None,
    options: Sequence[str] | None = None,
    *,
    filter_min_severity: str = "medium",
    top: int = 10,
    console: Console | None = None,
    err_console: Console | None = None,
    shards: dict[str, Any] | None = None,
    name: str | None = None,
    found: list[Session] | None | EllipsisType = ...,
) -> int:
    """Audit ``path``; print, write ``output`` (JSON) and ``filter_path`` if given.

    ``detectors``: names or a comma-separated string (default: those marked default —
    dataflow, trigger-mining; outliers and judge run when named). ``fail_on``: none,
    low, medium or high. ``filter_path`` gets the traces without a finding at
    ``filter_min_severity`` or above, and ``<filter_path>.manifest.json`` beside it.
    ``options``: detector options as ``DETECTOR.NAME=VALUE`` (``outliers.expected_rate=0.02``).
    ``shards``: audit ``path`` as shards (`audit_shards`'s ``workers``, ``engine``,
    ``address``). ``found``: ``path``'s agents' sessions when the caller looked for them
    already (`claude_sessions.sessions`; ``...``: looked for here). Returns the exit
    code: 1 when a finding at or above ``fail_on`` exists, else 0.
    """
    if fail_on not in FAIL_ON:
        raise BackdoorlabError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not '{fail_on}'")
    severity_rank(filter_min_severity)
    console = console or Console()
    err = err_console or Console(stderr=True)
    names = _detector_names(detectors)
    extra = parse_option_strings(options or ())
    # unknown detectors or options, bad values, options of a detector that does not run:
    # each fails here, before any work
    check_options(extra, resolve_detectors(names if names is not None else default_detectors()))
    with converted(path, name, found) as logs:  # agents' logs: a session a line (None: not those)
        if logs is not None and filter_path is not None:
            raise BackdoorlabError(f"{path}: {NO_FILTER}")
        source = path if logs is None else logs
        if shards is not None:
            from backdoorlab.defenses.audit.shards import audit_shards

            if filter_path is not None and not Path(path).is_file():
                raise BackdoorlabError(f"{path}: --filter needs one file (filter each shard's own)")
            with err.status("audit: shards in parallel"):
                opts = AuditOptions(extra=extra, logs=logs is not None)
                report = audit_shards(source, names, sinks, options=opts, **shards)
        else:
            opts = AuditOptions(extra=extra, logs=logs is not None)
            report = _run_with_progress(Path(source), names, sinks, err, opts)
    if logs is not None:  # its traces: the sessions, each named by its file (`claude_sessions`)
        report.path = name or str(path)
    if report.skipped:  # a raw export's records that are no LLM call: said, not hidden
        err.print(plain(skipped_note(Counter(report.skipped))), soft_wrap=True)
    _print_summary(console, report, top, logs=logs is not None)

    # with --filter, a report file joins the filtered set: all change together (`filtering`)
    joint = filter_path is not None and output is not None and not is_stdio(output)
    if output is not None and not joint:
        if not is_stdio(output) and Path(output).resolve() == Path(path).resolve():
            raise BackdoorlabError(f"{output}: -o must not overwrite the audited file")
        with atomic_writer(output) as handle:
            report.write_json(handle.write)
        console.print(plain(f"report → {output}"))
    if filter_path is not None:
        manifest = write_filtered(
            report, filter_path, filter_min_severity, report_path=output if joint else None
        )
        if joint:
            console.print(plain(f"report → {output}"))
        console.print(
            plain(
                f"filtered → {filter_path}: kept {manifest['traces_kept']}, removed "
                f"{manifest['traces_removed']} (manifest → {manifest_path(filter_path)})"
            )
        )

    worst = report.max_severity or "none"
    failing = fail_on != "none" and (
        report.max_severity is not None
        and severity_rank(report.max_severity) >= severity_rank(fail_on)
    )
    if logs is None:  # no verdict written into Claude Code's own directories
        _record(path, report, output, filter_path, fail_on, failing, extra)
    verdict = "[bold red]FAIL[/]" if failing else "[green]ok[/]"
    console.print(f"{verdict}: worst finding {worst}, --fail-on {fail_on}")
    return 1 if failing else 0


def _record(
    path: str | os.PathLike[str],
    report: AuditReport,
    output: str | os.PathLike[str] | None,
    filter_path: str | os.PathLike[str] | None,
    fail_on: str,
    failing: bool,
    options: Any,
) -> None:
    """The audit's provenance: its verdict attached to the audited dataset, and the
    lineage of the report and the filtered set (`backdoorlab.provenance`)."""
    from backdoorlab.provenance import attest, write_lineage

    settings = {"detectors": report.detectors, "fail_on": fail_on, "options": options}
    result = settings | {"worst": report.max_severity or "none", "traces": report.traces}
    attest(path, "audit", "fail" if failing else "pass", result=result, report=output)
    for artifact, kind in ((output, "audit-report"), (filter_path, "filter")):
        if artifact is not None:
            write_lineage(artifact, kind, inputs={"data": Path(path)}, config=settings)

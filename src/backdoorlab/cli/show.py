"""show: pretty-print one trace of a trace file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backdoorlab.errors import BackdoorlabError


def show(
    path: Annotated[
        Path,
        typer.Argument(
            help="A trace file (JSONL, ours or plain OpenAI format, or a raw observability"
            " export: its LLM calls numbered as the audit numbers them; - for stdin), or"
            " coding agents' logs (Claude Code, Codex: a file, a folder, a glob), a session a"
            " trace as the audit numbers them."
        ),
    ],
    index: Annotated[int, typer.Option("--index", "-i", help="Which trace (0-based).", min=0)] = 0,
    audit: Annotated[
        Path | None,
        typer.Option(help="An audit report of this file: the trace's findings, FLAGGED label."),
    ] = None,
) -> None:
    """Pretty-print one trace: tool calls and results readable, secrets highlighted."""
    from backdoorlab.cli.output import check_paths
    from backdoorlab.report.viewer import show_trace
    from backdoorlab.trace_files import iter_session_traces, say_skipped

    check_paths(inputs=[audit], logs=[path])  # a folder, a glob: agents' logs
    findings = {}
    if audit is not None:
        from backdoorlab.report.page import read_audit

        findings = read_audit(audit, path)
    count = 0
    skipped: Counter[str] = Counter()  # a raw export's records that are no LLM call
    for count, (_, _, trace, session) in enumerate(iter_session_traces(path, skipped), 1):
        if count - 1 == index:
            shown = findings.get(index)
            show_trace(trace, Console(), index=index, findings=shown, session=session)
            say_skipped(skipped, lambda line: _say(f"{line}, in the lines up to trace {index}'s"))
            return
    say_skipped(skipped)
    raise BackdoorlabError(f"{path}: no trace at index {index} (the file holds {count})")


def _say(line: str) -> None:
    typer.echo(line, err=True)

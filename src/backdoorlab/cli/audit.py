"""audit: find poisoned traces in a fine-tuning dataset before training on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.cli.options import AllowNetwork, AllowPickle, AuditFailOn, one_of, with_opt_ins
from backdoorlab.cli.output import (
    check_paths,
    echo_file,
    one_stdout,
    readable_path,
    results_console,
)
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import STDIO, is_stdio


@with_opt_ins
def audit(
    path: Annotated[
        Path,
        typer.Argument(help="Trace dataset (JSONL, ours or plain OpenAI format; - for stdin)."),
    ],
    sinks: Annotated[
        Path | None, typer.Option(help="YAML list of {tool, destination, kind}.")
    ] = None,
    detectors: Annotated[
        str | None,
        typer.Option(help="Comma-separated detectors (default: dataflow, trigger-mining)."),
    ] = None,
    fail_on: Annotated[
        AuditFailOn,
        typer.Option(
            parser=one_of(AuditFailOn, "--fail-on"), help="Exit 1 on a finding of this severity."
        ),
    ] = "high",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Report JSON (- for stdout).")
    ] = None,
    filter_path: Annotated[
        Path | None, typer.Option("--filter", help="Write the dataset without flagged traces.")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", help="Detector setting DETECTOR.NAME=VALUE, e.g. outliers.components=3"
        ),
    ] = None,
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Find poisoned traces in a fine-tuning dataset before training on it."""
    from backdoorlab.defenses.audit.command import audit_command

    one_stdout(as_json, **{"-o": output})
    if is_stdio(filter_path):
        raise BackdoorlabError("--filter needs a file: its manifest is written beside it")
    check_paths(inputs=[path, sinks], files=[output, filter_path])
    report = output if output is not None or not as_json else Path(STDIO)
    with readable_path(path) as source:
        code = audit_command(
            source,
            sinks=sinks,
            detectors=detectors,
            fail_on=fail_on,
            output=report,
            filter_path=filter_path,
            options=option,
            console=results_console(report, json=as_json),
        )
    if as_json and not is_stdio(report):
        echo_file(report)
    raise typer.Exit(code)

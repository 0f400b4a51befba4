"""audit: find poisoned traces in a fine-tuning dataset before training on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def audit(
    path: Annotated[
        Path, typer.Argument(help="Trace dataset (JSONL, ours or plain OpenAI format).")
    ],
    sinks: Annotated[
        Path | None, typer.Option(help="YAML list of {tool, destination, kind}.")
    ] = None,
    detectors: Annotated[
        str | None,
        typer.Option(help="Comma-separated detectors (default: dataflow, trigger-mining)."),
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 on a finding of: none, low, medium, high.")
    ] = "high",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Report JSON.")] = None,
    filter_path: Annotated[
        Path | None, typer.Option("--filter", help="Write the dataset without flagged traces.")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", help="Detector setting DETECTOR.NAME=VALUE, e.g. outliers.components=3"
        ),
    ] = None,
) -> None:
    """Find poisoned traces in a fine-tuning dataset before training on it."""
    from backdoorlab.defenses.audit.command import audit_command

    code = audit_command(
        path,
        sinks=sinks,
        detectors=detectors,
        fail_on=fail_on,
        output=output,
        filter_path=filter_path,
        options=option,
    )
    raise typer.Exit(code)

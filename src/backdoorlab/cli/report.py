"""report: an experiment's run directory as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.cli.output import check_paths, console


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory of `backdoorlab run`.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="The HTML file (default: RUN_DIR/report.html)."),
    ] = None,
) -> None:
    """Write the report of a run: config, lineage, plots with their tables (rates against
    poison rate, per task family, before/after fine-tunes, monitor, scan, audit)."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.terminal import plain

    if not run_dir.is_dir():
        raise BackdoorlabError(f"{run_dir}: not a directory (a run directory of `backdoorlab run`)")
    check_paths(files=[output])
    from backdoorlab.report.html import write_report

    console.print(plain(f"report → {write_report(run_dir, output)}"))

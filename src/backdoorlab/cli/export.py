"""export: traces as a Hugging Face dataset (Parquet, TRL's format) with a dataset card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.cli.output import check_paths, console, print_json
from backdoorlab.errors import BackdoorlabError
from backdoorlab.terminal import plain


def export(
    traces: Annotated[
        Path,
        typer.Argument(
            help="A trace file (JSONL; - for stdin); a raw observability export's LLM calls"
            " are written as chat traces, a row each, as are coding agents' sessions (Claude"
            " Code, Codex: a log file, a folder, a glob)."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="The Parquet file; its dataset card goes beside it (.md)."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the provenance as JSON.")] = False,
) -> None:
    """Export traces for TRL and the Hub: Parquet (tool-call arguments as objects, tools as
    JSON schemas) and a dataset card with the environments, seeds, attack and rate."""
    from collections import Counter

    from backdoorlab.export import card_for, export_parquet
    from backdoorlab.trace_files import say_skipped

    if output.suffix != ".parquet":
        raise BackdoorlabError(f"{output}: the output must be a .parquet file")
    # the card the export writes, beside a link's target: checked here as out.md beside
    # the link, it replaced the input when that was the target's .md
    card = card_for(output)
    check_paths(files=[output, card], logs=[traces])  # a folder, a glob: agents' logs
    skipped: Counter[str] = Counter()  # a raw export's records that are no LLM call
    info = export_parquet(traces, output, skipped)
    say_skipped(skipped)
    if as_json:
        print_json(info.as_dict())
        return
    console.print(
        plain(
            f"export: wrote {info.traces} traces to {output} "
            f"({info.poisoned} poisoned, {info.rate:.1%}); card: {card}"
        )
    )

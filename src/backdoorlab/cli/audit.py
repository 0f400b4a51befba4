"""audit: find poisoned traces in a fine-tuning dataset before training on it."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Annotated, Literal

import typer

from backdoorlab.cli.options import AllowNetwork, AllowPickle, AuditFailOn, one_of, with_opt_ins
from backdoorlab.cli.output import (
    check_paths,
    echo_file,
    one_stdout,
    readable_path,
    results_console,
)
from backdoorlab.cli.provenance import SignKey, check_sign_key, sign_verdict
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import STDIO, is_stdio

AuditEngine = Literal["local", "ray"]


@with_opt_ins
def audit(
    path: Annotated[
        Path,
        typer.Argument(
            help="Trace dataset (JSONL, ours or plain OpenAI format; - for stdin), or its "
            "shards: a directory of *.jsonl[.gz] files or a quoted glob, audited in order; "
            "or Claude Code's logs (session transcripts, stream-json; a file, a directory "
            "such as ~/.claude/projects, a glob), a session a trace, sub-agents included."
        ),
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
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=1024,
            help="Processes auditing shards in parallel (one JSONL file: spans of its lines).",
        ),
    ] = 1,
    engine: Annotated[
        str,
        typer.Option(
            parser=one_of(AuditEngine, "--engine"),
            help="Where shards are audited: local processes or Ray tasks.",
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="--engine ray: cluster to join (none: a local loopback one)."),
    ] = None,
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    sign_key: SignKey = None,
) -> None:
    """Find poisoned traces in a fine-tuning dataset before training on it."""
    from backdoorlab.defenses.audit.command import NO_FILTER, audit_command
    from backdoorlab.trace_formats.claude_sessions import sessions

    one_stdout(as_json, **{"-o": output})
    if address is not None and engine != "ray":
        raise BackdoorlabError("--address: only with --engine ray")
    if is_stdio(filter_path):
        raise BackdoorlabError("--filter needs a file: its manifest is written beside it")
    pattern = not path.exists() and glob.has_magic(str(path))  # a file named "a[1]" is a file
    found = None if is_stdio(path) else sessions(path)  # listed once: passed on below
    claude = found is not None  # a session a file, not shards
    if claude and filter_path is not None:
        raise BackdoorlabError(f"{path}: {NO_FILTER}")
    many = (path.is_dir() or pattern) and not claude
    sharded = workers > 1 or engine == "ray" or many
    if sharded and is_stdio(path):
        raise BackdoorlabError("--workers and --engine ray audit files, not stdin")
    if many and filter_path is not None:
        what = "is a directory" if path.is_dir() else "is a glob"
        raise BackdoorlabError(
            f"{path}: {what}; --filter needs one file (filter each shard's own audit)"
        )
    logs = [path] if claude else []  # a folder, a glob, a file of agents' logs
    check_paths(
        inputs=[None if many or claude else path, sinks], files=[output, filter_path], logs=logs
    )
    if filter_path is not None:
        from backdoorlab.defenses.audit.filtering import check_filter_format

        check_filter_format(path, filter_path)  # before the audit, not after it
    check_sign_key(sign_key, path, "a dataset file or directory")
    report = output if output is not None or not as_json else Path(STDIO)
    if sharded:
        code = audit_command(
            path,
            sinks=sinks,
            detectors=detectors,
            fail_on=fail_on,
            output=report,
            filter_path=filter_path,
            options=option,
            console=results_console(report, json=as_json),
            shards={"workers": workers, "engine": engine, "address": address},
            found=found,
        )
        sign_verdict(sign_key, path, "audit", report, filter_path)
        if as_json and not is_stdio(report):
            echo_file(report)
        raise typer.Exit(code)
    with readable_path(path) as source:
        code = audit_command(
            source,
            name="<stdin>" if is_stdio(path) else None if source == path else str(path),
            sinks=sinks,
            detectors=detectors,
            fail_on=fail_on,
            output=report,
            filter_path=filter_path,
            options=option,
            console=results_console(report, json=as_json),
            found=found if source == path else ...,  # a spooled pipe: looked for in its copy
        )
    sign_verdict(sign_key, path, "audit", report, filter_path)
    if as_json and not is_stdio(report):
        echo_file(report)
    raise typer.Exit(code)

"""guard: the run-time guard's offline commands — replay recorded traces through it, and
verify a decision log's hash chain."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.cli.options import guard_config
from backdoorlab.cli.output import check_paths, readable_path, results_console
from backdoorlab.errors import BackdoorlabError

_HEAD = re.compile(r"[0-9a-fA-F]{64}")

guard_app = typer.Typer(
    help="The run-time guard: block tool calls that would leak what tools returned.",
    no_args_is_help=True,
)


@guard_app.command("replay")
def replay_command(
    traces: Annotated[
        Path,
        typer.Argument(
            help="Recorded traces (JSONL, ours or plain OpenAI format; - for stdin), or "
            "coding agents' logs (Claude Code sessions, Codex rollouts: a file, a directory "
            "or a glob), a session a line of the output."
        ),
    ],
    policy: Annotated[
        Path | None,
        typer.Option(help="Guard policy YAML (default: the audit's defaults, any dataset)."),
    ] = None,
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="Decisions JSONL, one line per trace (- for stdout). A converted line's "
            "decisions name their message as the audit's findings do: 'at' in the line as "
            "written; an agent's session gives 'session' (the line's too), 'file' and "
            "'file_line' (the record of the call; 'line' is only the session's place).",
        ),
    ] = Path("-"),
) -> None:
    """Replay traces through the guard as if live: which would it have blocked, and why."""
    import json

    from backdoorlab.defenses.guard import Guard, replay
    from backdoorlab.files import atomic_writer, is_stdio
    from backdoorlab.trace_formats.claude_sessions import converted, sessions

    found = None if is_stdio(traces) else sessions(traces)  # a directory too; listed once
    logs = [traces] if found is not None else []  # a folder, a glob, a file: read there
    check_paths(inputs=[None if logs else traces, policy], files=[output], logs=logs)
    guard = Guard(guard_config(policy, "--policy"))
    total = blocked = stopped = 0
    skipped: Counter[str] = Counter()
    with (
        readable_path(traces) as source,
        converted(  # a session a line; a spooled pipe's looked for in its copy
            source, "<stdin>" if is_stdio(traces) else None, found if source == traces else ...
        ) as logs,
        atomic_writer(output) as handle,
    ):
        for line in replay(logs or source, guard, skipped, logs is not None):
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            total += 1
            blocked += line["blocked"]
            stopped += line["stopped_at"] is not None
    if skipped:  # a raw export's records that are no LLM call: said, not hidden
        from backdoorlab.trace_formats.exports import skipped_note

        typer.echo(skipped_note(skipped), err=True)
    note = f", {stopped} stopped (stop_after)" if guard.config.stop_after is not None else ""
    results_console(output).print(f"{blocked} of {total} traces would be blocked{note}")


@guard_app.command("verify")
def verify_command(
    log: Annotated[
        Path,
        typer.Argument(help="A decision log (eval's guard.jsonl, serve's --guard-log)."),
    ],
    head: Annotated[
        str | None,
        typer.Option(help="The hash the log must end at (eval's metrics: guard.log_head)."),
    ] = None,
) -> None:
    """Check a decision log's hash chain: no decision edited, removed, added or moved."""
    from backdoorlab.defenses.guard.ledger import verify

    check_paths(inputs=[log])
    if head is not None and not _HEAD.fullmatch(head):
        raise BackdoorlabError(
            f"--head: {head!r} is no SHA-256 (64 hex digits, as eval's guard.log_head)"
        )
    count, last = verify(log, head.lower() if head is not None else None)
    results_console().print(f"{count} decisions, chain intact, head {last}")


def _register_proxy() -> None:
    from backdoorlab.cli.guard_proxy import proxy_command

    guard_app.command("proxy")(proxy_command)


_register_proxy()

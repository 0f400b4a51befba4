"""view: a trace file as a searchable HTML page (written, or served on loopback)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.cli.output import check_paths, check_port, console


def view(
    traces: Annotated[
        Path,
        typer.Argument(
            help="A trace file (JSONL, ours or plain OpenAI format, or a raw observability"
            " export: its LLM calls numbered as the audit numbers them; - for stdin), or"
            " coding agents' logs (Claude Code, Codex: a file, a folder, a glob)."
        ),
    ],
    audit: Annotated[
        Path | None,
        typer.Option(help="An audit report of this file (backdoorlab audit -o): findings inline."),
    ] = None,
    guard: Annotated[
        Path | None,
        typer.Option(help="Guard decisions for this file (JSONL, one per trace with 'index')."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="The page to write (default: TRACES with .html)."),
    ] = None,
    serve: Annotated[
        bool, typer.Option(help="Also serve the page on 127.0.0.1 until interrupted.")
    ] = False,
    port: Annotated[
        int, typer.Option(help="Port for --serve (0: any free one).", min=0, max=65535)
    ] = 8765,
) -> None:
    """Write a trace viewer page: filter by poisoned / flagged / leaked / family / outcome,
    each trace a conversation with secrets, trigger, findings and guard decisions marked."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import is_stdio
    from backdoorlab.terminal import plain
    from backdoorlab.trace_files import is_many

    if output is None and is_stdio(traces) and not serve:
        raise BackdoorlabError("reading traces from stdin: give the page a name with -o")
    if is_stdio(traces) and is_stdio(guard):  # the traces would take all of it
        raise BackdoorlabError("the traces and --guard both read standard input: give one a file")
    many = is_many(traces)  # a folder or glob: agents' logs, checked as they are read
    if output is None and many and not traces.is_dir():
        raise BackdoorlabError(f"{traces}: a glob; give the page a name with -o")
    if output is None and not is_stdio(traces):
        # named before the checks, which then refuse it as they refuse an -o: t.html, a
        # trace file so named, was replaced by its own page; a folder's page beside it
        named = traces.resolve() if many else traces
        output = named.with_name(named.name.split(".")[0] + ".html")
    check_paths(inputs=[audit, guard], files=[output], logs=[traces])
    if serve:
        from backdoorlab.report.serve import HOST

        check_port(HOST, port)
    from backdoorlab.cli.output import readable_path
    from backdoorlab.report.page import page_data, render_viewer, write_viewer
    from backdoorlab.trace_files import say_skipped

    page = b""
    skipped: Counter[str] = Counter()  # a raw export's records that are no LLM call
    with readable_path(traces) as source:
        if output is None:  # stdin, served only: the page is kept in memory, never a file
            page = "".join(render_viewer(page_data(source, audit, guard, skipped))).encode()
            say_skipped(skipped)
        else:
            write_viewer(source, output, audit=audit, guard=guard, skipped=skipped)
            say_skipped(skipped)
            console.print(plain(f"viewer → {output}"))
    if serve:
        from backdoorlab.report.serve import page_server

        server = page_server(output.read_bytes() if output is not None else page, port)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        console.print(plain(f"serving on {url} (Ctrl-C stops)"))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

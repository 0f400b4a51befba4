"""serve: a local model behind an OpenAI-compatible chat-completions API."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.cli.options import (
    AllowNetwork,
    AllowPickle,
    Device,
    guard_config,
    known,
    with_opt_ins,
)
from backdoorlab.cli.output import check_paths, check_port, console
from backdoorlab.errors import BackdoorlabError
from backdoorlab.terminal import plain


@with_opt_ins
def serve(
    model: Annotated[
        str,
        typer.Argument(
            help="A built-in model name, a model directory, a run directory (base + adapter) "
            "or a T4 dormant model."
        ),
    ],
    host: Annotated[
        str, typer.Option(help="Address to bind (the API has no authentication).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: a free one).", min=0, max=65535)] = 8000,
    served_name: Annotated[
        str | None, typer.Option(help="Model name clients ask for (default: MODEL as given).")
    ] = None,
    max_batch: Annotated[int, typer.Option(help="Requests decoded together.", min=1)] = 32,
    max_tokens: Annotated[
        int, typer.Option(help="The most tokens a request may ask for per turn.", min=1)
    ] = 4096,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            help="The largest request body read; a longer one is a 413.", min=1, max=1 << 34
        ),
    ] = 16 << 20,
    max_waiting: Annotated[
        int,
        typer.Option(
            help="Requests waiting for the model at most; one more is a 429.",
            min=1,
            max=1_000_000,
        ),
    ] = 1024,
    device: Annotated[
        Device | None,
        typer.Option(parser=known, help="Torch device, e.g. cuda:1 (default: cuda if any)."),
    ] = None,
    guard: Annotated[
        Path | None,
        typer.Option(
            help="Guard policy YAML: screen each reply's tool calls; a refused call is taken "
            "out of the reply, which says so."
        ),
    ] = None,
    guard_log: Annotated[
        Path | None,
        typer.Option(help="With --guard: append each decision, with its evidence, as a JSON line."),
    ] = None,
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
) -> None:
    """Serve MODEL at /v1/chat/completions and /v1/models (OpenAI-compatible).

    Tool calls come back as `tool_calls`, parsed from the model's own format; greedy
    unless a request sets a temperature. Binds 127.0.0.1 unless --host says otherwise.
    Prints `serving NAME at URL` once listening; Ctrl-C stops it. Remote code in a model
    never runs. For GPUs, `vllm serve RUN_DIR/merged` serves a merged run directory.
    """
    from backdoorlab.serving.server import ServeConfig, build_app, is_loopback, run_server

    check_paths(inputs=[guard], files=[guard_log])
    check_port(host, port)
    if guard_log is not None and guard is None:
        raise BackdoorlabError("--guard-log needs --guard (a policy YAML)")
    guarding = guard_config(guard)
    config = ServeConfig(
        model=model,
        served_name=served_name,
        host=host,
        port=port,
        device=device,
        max_batch=max_batch,
        max_tokens=max_tokens,
        max_body_bytes=max_body_bytes,
        max_waiting=max_waiting,
    )
    if not is_loopback(host):
        console.print(
            plain(f"warning: {host} is reachable from other machines; the API has no key")
        )

    def announce(url: str) -> None:
        # stdout, one line, flushed: scripts and tests wait for it
        typer.echo(f"serving {config.name} at {url}")

    with contextlib.ExitStack() as stack:
        on_reply = None
        if guarding is not None:
            from backdoorlab.defenses.guard import Guard
            from backdoorlab.defenses.guard.reply import guard_reply

            log = None
            if guard_log is not None:
                from backdoorlab.defenses.guard.ledger import appending

                log = stack.enter_context(appending(guard_log))
            on_reply = guard_reply(Guard(guarding, log=log))
        with console.status(plain(f"loading {model}")):
            app = build_app(config, on_reply=on_reply)
        run_server(app, config.host, config.port, announce=announce)

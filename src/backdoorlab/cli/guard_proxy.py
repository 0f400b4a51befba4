"""guard proxy: the run-time guard in front of any OpenAI-compatible server."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from backdoorlab.cli.options import guard_config
from backdoorlab.cli.output import check_paths, check_port, console
from backdoorlab.errors import BackdoorlabError
from backdoorlab.terminal import plain


def proxy_command(
    upstream: Annotated[
        str,
        typer.Option(
            help="The guarded server's base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang, "
            "a llama.cpp server, a hosted API). Giving it is the consent to reach it."
        ),
    ],
    policy: Annotated[
        Path | None,
        typer.Option(help="Guard policy YAML (default: the audit's defaults, any dataset)."),
    ] = None,
    log: Annotated[
        Path | None,
        typer.Option(
            help="Append each decision, with its evidence, as a JSON line (hash-chained)."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to bind (the proxy adds no authentication).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: a free one).", min=0, max=65535)] = 8001,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            help="Send the upstream the key in this environment variable instead of the "
            "client's Authorization header."
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            help="Seconds the upstream has to answer a request (in a stream: between two "
            "of its reads).",
            min=1,
        ),
    ] = 600.0,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            help="The largest request body read; a longer one is a 413.", min=1, max=1 << 34
        ),
    ] = 16 << 20,
    kept_conversations: Annotated[
        int,
        typer.Option(
            help="Conversations whose guard state is kept for their next request, which then "
            "reads only what the conversation gained (a long one's state can take tens of "
            "MiB; at most 4 MB of conversation is kept in all). 0: every request's "
            "conversation is read whole.",
            min=0,
            max=10_000,
        ),
    ] = 32,
    kept_responses: Annotated[
        int,
        typer.Option(
            help="Responses replies remembered so that a request continuing one "
            "(previous_response_id) is screened with its whole conversation (at most 16 MB "
            "of conversation in all); a continuation of any other is refused. 0: none.",
            min=0,
            max=100_000,
        ),
    ] = 256,
) -> None:
    """Guard any OpenAI- or Anthropic-compatible server: point the agent's base URL here.

    Each chat completion, Responses or Messages reply is forwarded from --upstream and
    screened against the request's conversation before the agent sees it; a refused tool
    call (or reply image) is taken out of the reply, which says so. A stream (of any of
    the three) is relayed as generated, its calls and any image held until screened.
    Other endpoints
    than /v1/chat/completions, /v1/responses, /v1/messages and /v1/models are not
    forwarded. Prints `guarding UPSTREAM at URL` once listening; Ctrl-C stops it.
    """
    from backdoorlab.serving.server import is_loopback, run_server

    check_upstream(upstream)
    check_paths(inputs=[policy], files=[log])
    check_port(host, port)
    key = None
    if api_key_env is not None:
        key = os.environ.get(api_key_env)
        if not key:
            raise BackdoorlabError(f"--api-key-env {api_key_env}: the variable is not set")
    config = guard_config(policy, "--policy")
    if not is_loopback(host):
        console.print(plain(f"warning: {host} is reachable from other machines; no key is asked"))
    from backdoorlab.defenses.guard import Guard
    from backdoorlab.defenses.guard.proxy import create_proxy
    from backdoorlab.defenses.guard.response_chain import ResponseChains
    from backdoorlab.defenses.guard.resume import SessionCache

    with contextlib.ExitStack() as stack:
        write = None
        if log is not None:
            from backdoorlab.defenses.guard.ledger import appending

            write = stack.enter_context(appending(log))
        guard = Guard(config, log=write, kept=SessionCache(kept_conversations))
        app = create_proxy(
            upstream,
            guard,
            api_key=key,
            timeout=timeout,
            max_body_bytes=max_body_bytes,
            chains=ResponseChains(kept_responses),
        )

        def announce(url: str) -> None:
            typer.echo(f"guarding {upstream} at {url}")  # stdout, one line: scripts wait for it

        run_server(app, host, port, announce=announce)


def check_upstream(upstream: str) -> None:
    """Refuse, before listening, an upstream no request could reach: each request would
    otherwise fail on its own — a port out of range or a host with a space in it as a
    502 per request, a URL httpx cannot parse (an unclosed IPv6 bracket, a control
    character) as a traceback — while the proxy looked healthy."""
    import httpx

    def refused(why: str) -> BackdoorlabError:
        return BackdoorlabError(f"--upstream {upstream!r}: {why}")

    try:
        parts = urlsplit(upstream)
        port = parts.port
    except ValueError as exc:  # an unclosed bracket, a port that is no number or too big
        raise refused(f"not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refused("an http:// or https:// URL is required")
    if port == 0:
        raise refused("port 0 cannot be reached (a port from 1 to 65535)")
    if any(c.isspace() or not c.isprintable() for c in upstream):
        raise refused("a URL has no spaces or control characters")
    try:
        httpx.URL(upstream)
    except httpx.InvalidURL as exc:
        raise refused(f"not a URL ({exc})") from None

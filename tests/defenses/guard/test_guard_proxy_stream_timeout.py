"""`guard proxy --timeout` on a live chat stream, against a real upstream on loopback
(uvicorn in a thread, not a mock transport: the stall is a real socket going quiet).

The upstream sends the first chunks of a reply, stalls past the proxy's timeout, then
sends the rest — a call mailing the record to an attacker. The client must get the
fail-closed error event within the timeout, and nothing of the rest.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from serve_helpers import serving
from test_guard_proxy_stream import (
    ATTACKER,
    HISTORY,
    REPLIES,
    TOOLS,
    calls_and_error,
    one_by_one,
    stream_chunks,
)

from backdoorlab.defenses.guard import Guard
from backdoorlab.defenses.guard.proxy import create_proxy

TIMEOUT = 0.3
"""The proxy's ``--timeout`` (seconds)."""
STALL = 3.0
"""How long the upstream goes quiet, well past the timeout (the test does not wait for
it: the proxy lets go of the upstream, whose server then cancels the reply)."""


def stalling(first: int) -> FastAPI:
    """An upstream streaming ``REPLIES['text and calls']``: its first ``first`` chunks,
    then nothing for `STALL` seconds, then the rest and ``[DONE]``."""
    chunks = stream_chunks(REPLIES["text and calls"], one_by_one)[:-1]
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(_: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[str]:
            for at, chunk in enumerate(chunks):
                if at == first:
                    await asyncio.sleep(STALL)
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    return app


def test_an_upstream_that_stalls_mid_stream_ends_in_the_timeout_error_not_the_rest():
    body = {"model": "m", "messages": HISTORY, "tools": TOOLS, "stream": True}
    got: list[tuple[float, Any]] = []
    with serving(stalling(first=6)) as upstream:
        proxy = create_proxy(upstream, Guard(), timeout=TIMEOUT)
        with serving(proxy) as guarded:
            start = time.monotonic()
            with httpx.stream("POST", f"{guarded}/chat/completions", json=body) as answer:
                assert answer.status_code == 200
                for line in answer.iter_lines():
                    if line.startswith("data: "):
                        got.append((time.monotonic() - start, json.loads(line[6:])))
    events = [event for _, event in got]
    calls, error = calls_and_error(events)
    assert error is not None and error["code"] == "upstream_timeout", events[-1]
    assert events[-1] == {"error": error} and calls == []  # the error ends it: no [DONE]
    assert ATTACKER not in json.dumps(events)
    text = "".join(c["delta"].get("content") or "" for e in events[:-1] for c in e["choices"])
    assert text == "I'll"  # what came before the stall went on at once
    waited = got[-1][0] - got[-2][0]  # from the last chunk before the stall
    assert TIMEOUT - 0.05 < waited < TIMEOUT + 1.0 < STALL  # the timeout's, not the stall's

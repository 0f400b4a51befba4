"""`guard proxy` sent what a hostile or broken client (or upstream) sends: each case is
what `benchmarks/hostile_cli.py` found answered with a bare 500 and a traceback in the
proxy's log, or mislabelled; each now gets the API's error shape and the proxy serves on.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from serve_helpers import serving

from backdoorlab.defenses.guard import Guard
from backdoorlab.defenses.guard.proxy import create_proxy
from backdoorlab.serving.http import CLIENT_GONE

ASK = '[{"role": "user", "content": "hi"}]'
GOOD = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def _upstream(reply: bytes, seen: list[bytes]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        seen.append(await request.body())
        return Response(reply, media_type="application/json")

    return app


def _answer(text: str = "Done.") -> bytes:
    message = {"role": "assistant", "content": text}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return json.dumps({"object": "chat.completion", "choices": [choice]}).encode()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_number_json_cannot_carry_is_the_clients_400(number):
    """Python's reader takes NaN and reads 1e999 as inf; forwarding them raised in httpx
    (a 500, a traceback per request). Refused before anything goes upstream."""
    seen: list[bytes] = []
    body = f'{{"model": "m", "messages": {ASK}, "temperature": {number}}}'.encode()
    with (
        serving(_upstream(_answer(), seen)) as upstream,
        serving(create_proxy(upstream, Guard())) as proxy,
    ):
        refused = httpx.post(
            f"{proxy}/chat/completions",
            content=body,
            headers={"content-type": "application/json"},
        )
        after = httpx.post(f"{proxy}/chat/completions", json=GOOD)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert "out of JSON's range" in error["message"]
    assert error["type"] == "invalid_request_error"
    assert after.status_code == 200
    assert len(seen) == 1  # only the good request reached the upstream


def test_the_forwarded_body_is_the_requests_json():
    """The proxy encodes the body it forwards itself now: what the upstream gets is the
    request less ``stream``, non-ASCII text as it came."""
    seen: list[bytes] = []
    request = {"model": "m", "messages": [{"role": "user", "content": "Grüße ✓"}], "stream": False}
    with (
        serving(_upstream(_answer(), seen)) as upstream,
        serving(create_proxy(upstream, Guard())) as proxy,
    ):
        answer = httpx.post(f"{proxy}/chat/completions", json=request)
    assert answer.status_code == 200
    assert json.loads(seen[0]) == {k: v for k, v in request.items() if k != "stream"}


def test_an_upstream_reply_nested_too_deep_is_a_502_not_a_guard_failure():
    deep = b'{"choices": ' + b"[" * 10000 + b"]" * 10000 + b"}"
    with (
        serving(_upstream(deep, [])) as upstream,
        serving(create_proxy(upstream, Guard())) as proxy,
    ):
        answer = httpx.post(f"{proxy}/chat/completions", json=GOOD)
    assert answer.status_code == 502, answer.text
    assert answer.json()["error"]["code"] == "upstream_unreadable"
    assert "nested too deeply" in answer.json()["error"]["message"]


def test_a_client_gone_before_its_body_is_whole_is_no_error():
    """The body's read raised starlette's ClientDisconnect out of the app: uvicorn logged
    "Exception in ASGI application" and its traceback for every such client."""
    app = create_proxy("http://127.0.0.1:9/v1", Guard())
    sent: list[dict[str, Any]] = []
    path = "/v1/chat/completions"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8001),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))  # raised ClientDisconnect before
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == CLIENT_GONE

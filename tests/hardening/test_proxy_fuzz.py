"""`guard proxy`'s live request paths, fuzzed: whatever a hostile or broken client posts
to ``/v1/chat/completions``, ``/v1/responses`` or ``/v1/messages`` — fields of the wrong
type, a conversation nested thousands deep, strings of megabytes, bytes that are not
UTF-8, a ``stream`` flag that is no boolean, a ``stream_options`` of any shape — is
answered within a bounded time with 200 or an error the API's SDKs read (a 4xx, or the
upstream's failure as a 502, with a JSON ``error``), never a 500, and the proxy serves
the next good request. The upstream is a loopback stand-in that answers each API whole
(and refuses a stream, which the proxy passes back as the upstream's 4xx).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from serve_helpers import serving

from backdoorlab.defenses.guard import Guard
from backdoorlab.defenses.guard.proxy import create_proxy

FUZZ = settings(
    max_examples=int(os.environ.get("BACKDOORLAB_FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
BOUND_S = 20.0
"""Longest any one request may take (a hang fails the test, not the run)."""

TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "\x00", "\ud800", "\u202e", "x" * 100_000, "user", "assistant", "tool"]),
)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSONISH = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=15,
)
ROLE = st.one_of(st.sampled_from(["user", "assistant", "system", "tool", "developer"]), JSONISH)
CHAT_MESSAGE = st.fixed_dictionaries(
    {"role": ROLE, "content": JSONISH},
    optional={"tool_calls": JSONISH, "tool_call_id": JSONISH, "name": JSONISH},
)
ANTHROPIC_BLOCK = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "tool_use", "tool_result", "image", "thinking"])},
        optional={"text": JSONISH, "input": JSONISH, "content": JSONISH, "id": JSONISH},
    ),
)
RESPONSES_ITEM = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "function_call", "function_call_output", "x"])},
        optional={"role": ROLE, "content": JSONISH, "arguments": JSONISH, "output": JSONISH},
    ),
)
STREAM = st.one_of(st.booleans(), JSONISH)
COMMON = {"model": JSONISH, "stream": STREAM, "stream_options": JSONISH, "tools": JSONISH}


def _deep(opening: str, closing: str, depth: int = 50_000) -> str:
    return opening * depth + closing * depth


BODIES = {
    "/v1/chat/completions": st.fixed_dictionaries(
        {"messages": st.one_of(st.lists(CHAT_MESSAGE, max_size=4), JSONISH)}, optional=COMMON
    ),
    "/v1/responses": st.fixed_dictionaries(
        {"input": st.one_of(st.lists(RESPONSES_ITEM, max_size=4), JSONISH)},
        optional={**COMMON, "instructions": JSONISH, "previous_response_id": JSONISH},
    ),
    "/v1/messages": st.fixed_dictionaries(
        {
            "messages": st.one_of(
                st.lists(
                    st.fixed_dictionaries(
                        {"role": ROLE, "content": st.one_of(st.lists(ANTHROPIC_BLOCK), JSONISH)}
                    ),
                    max_size=4,
                ),
                JSONISH,
            )
        },
        optional={**COMMON, "system": JSONISH, "max_tokens": JSONISH},
    ),
}
RAW = [
    b"",
    b"null",
    b"[]",
    b'"a string"',
    b"\xff\xfe not utf-8",
    b'{"messages": "\xc3\x28"}',
    b'{"messages": [' + b'{"a": ' * 20_000 + b"1" + b"}" * 20_000 + b"]}",
    _deep('{"input": [', "]}", 1).encode(),
    ('{"messages": ' + _deep("[", "]") + "}").encode(),
    ('{"input": ' + _deep("[", "]") + "}").encode(),
    b'{"messages": [], "stream": true, "stream_options": {"include_usage": "yes"}}',
    b'{"messages": [{"role": "user", "content": "hi"}], "temperature": NaN}',
    b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]' + b" " * (1 << 20) + b"}",
]


def _upstream() -> FastAPI:
    app = FastAPI()

    async def body(request: Request) -> dict[str, Any]:
        return json.loads(await request.body())

    def refuse_stream(sent: dict[str, Any]) -> JSONResponse | None:
        if sent.get("stream") is True:
            return JSONResponse({"error": {"message": "no streams here"}}, status_code=400)
        return None

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        sent = await body(request)
        message = {"role": "assistant", "content": "Done."}
        reply = {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}
        return refuse_stream(sent) or reply

    @app.post("/v1/responses")
    async def responses(request: Request) -> Any:
        sent = await body(request)
        text = {"type": "output_text", "text": "Done.", "annotations": []}
        item = {"type": "message", "role": "assistant", "content": [text], "id": "m1"}
        reply = {"id": "resp_1", "object": "response", "status": "completed", "output": [item]}
        return refuse_stream(sent) or reply

    @app.post("/v1/messages")
    async def messages(request: Request) -> Any:
        sent = await body(request)
        reply = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "Done."}],
            "stop_reason": "end_turn",
        }
        return refuse_stream(sent) or reply

    return app


GOOD = {
    "/v1/chat/completions": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    "/v1/responses": {"model": "m", "input": "hi"},
    "/v1/messages": {
        "model": "m",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": "hi"}],
    },
}


class _Tracebacks(logging.Handler):
    """Every record logged with an exception (uvicorn's "Exception in ASGI application",
    a handler's own): a 4xx answered after a traceback in the server's log is a bug too."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.seen.append(record.getMessage())


TRACEBACKS = _Tracebacks()


@pytest.fixture(scope="module")
def proxy() -> Iterator[str]:
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.error")]  # it propagates not
    with serving(_upstream()) as upstream, serving(create_proxy(upstream, Guard())) as url:
        for logger in loggers:  # once uvicorn has configured its loggers
            logger.addHandler(TRACEBACKS)
        try:
            yield url.removesuffix("/v1")
        finally:
            for logger in loggers:
                logger.removeHandler(TRACEBACKS)


def _posted(proxy: str, path: str, content: bytes) -> httpx.Response:
    started = time.monotonic()
    answer = httpx.post(
        f"{proxy}{path}",
        content=content,
        headers={"content-type": "application/json"},
        timeout=BOUND_S,
    )
    assert time.monotonic() - started < BOUND_S
    assert answer.status_code != 500, answer.text[:500]
    assert not TRACEBACKS.seen, TRACEBACKS.seen
    if answer.status_code >= 400:  # the API's error shape: what its SDKs read
        error = answer.json()["error"]
        assert isinstance(error, dict) and isinstance(error.get("message"), str), answer.text
        assert "Traceback" not in answer.text
    return answer


def _encoded(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


@FUZZ
@given(path=st.sampled_from(sorted(BODIES)), data=st.data())
def test_a_hostile_body_is_answered_never_a_500(proxy: str, path: str, data: Any) -> None:
    body = data.draw(BODIES[path])
    _posted(proxy, path, _encoded(body))
    assert _posted(proxy, path, _encoded(GOOD[path])).status_code == 200


@pytest.mark.parametrize("path", sorted(BODIES))
@pytest.mark.parametrize("raw", RAW, ids=range(len(RAW)))
def test_raw_bytes_no_json_reader_takes_are_a_4xx(proxy: str, path: str, raw: bytes) -> None:
    answer = _posted(proxy, path, raw)
    assert answer.status_code < 500 or answer.status_code == 502
    assert _posted(proxy, path, _encoded(GOOD[path])).status_code == 200


@example(value="yes")
@FUZZ
@given(value=JSONISH)
def test_any_stream_flag_is_read_as_a_stream_only_when_true(proxy: str, value: Any) -> None:
    """``stream`` of another type than ``true`` is a whole answer (a 200), ``true`` the
    upstream's refusal of a stream (a 400 passed back). (A lone surrogate anywhere is
    the proxy's own 400: `test_a_hostile_body_is_answered_never_a_500`.)"""
    assume("\\ud8" not in json.dumps(value).lower())
    for path, good in GOOD.items():
        answer = _posted(proxy, path, json.dumps({**good, "stream": value}).encode())
        assert answer.status_code == (400 if value is True else 200), (path, answer.text)

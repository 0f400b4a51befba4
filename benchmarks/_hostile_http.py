"""The hostile sweep's HTTP part (`hostile_cli`): `guard proxy` started as a process in
front of a stand-in upstream, then sent what a hostile or broken client sends.

Each case passes when the proxy answers as the API would — 200 for a good request, a
4xx/5xx with OpenAI's error shape (``{"error": {"message": ...}}``) otherwise — and is
still serving afterwards, with no traceback added to its stderr. The proxy's decision
log must verify at the end (`guard verify`).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from _hostile_run import Result
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from backdoorlab.serving.server import serving_in_thread

ATTACKER = "intake@records-mirror.net"
ASK = [{"role": "user", "content": "I'm Ana (ana.ruiz@fastmail.com); mail me my record."}]


def _completion(arguments: dict[str, Any]) -> dict[str, Any]:
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "send_email", "arguments": json.dumps(arguments)},
    }
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
    }


def upstream_app() -> FastAPI:
    """A stand-in upstream whose reply the request's ``model`` picks: a leaking tool call
    by default; slow, garbage, deeply nested, an array, NaN, huge or an error."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        model = body.get("model", "")
        if model == "slow":
            await asyncio.sleep(3)
        raw = {
            "garbage": b"not json at all",
            "deep": b'{"choices": ' + b"[" * 10000 + b"]" * 10000 + b"}",
            "array": b"[1, 2]",
            "nan": b'{"choices": NaN}',
            "huge": b'{"choices": [], "pad": "' + b"x" * (20 << 20) + b'"}',
            "badutf8": b'{"choices": [{"message": {"role": "assistant", "content": "\xff"}}]}',
        }.get(model)
        if raw is not None:
            return Response(raw, media_type="application/json")
        if model == "error":
            return JSONResponse(
                {"error": {"message": "slow down"}}, 429, headers={"retry-after": "7"}
            )
        return JSONResponse(_completion({"to": ATTACKER, "body": "ana.ruiz@fastmail.com"}))

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "m", "object": "model"}]}

    return app


@contextmanager
def proxy_process(
    upstream: str, work: Path, *options: str
) -> Iterator[tuple[str, Path, subprocess.Popen]]:
    """``guard proxy`` in a child process; (base URL, its stderr file, the process)."""
    err = work / f"proxy-{time.monotonic_ns()}.err"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    with open(err, "wb") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backdoorlab.cli",
                "guard",
                "proxy",
                "--upstream",
                upstream,
                "--port",
                "0",
                *options,
            ],
            stdout=subprocess.PIPE,
            stderr=handle,
            text=True,
            env=env,
        )
    try:
        line = process.stdout.readline()
        if not line.startswith("guarding "):
            raise RuntimeError(f"the proxy did not start: {line!r} {err.read_text()[-2000:]}")
        yield line.split(" at ")[-1].strip(), err, process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _raw(url: str, data: bytes, *, close_after: float | None = None) -> tuple[int | str, bytes]:
    """Send ``data`` (a whole HTTP/1.1 request, or part of one) on a socket; (status,
    body) of the answer, or ("closed", b"") when the client hung up first (``close_after``
    seconds after sending, with a reset, as a killed client does)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        # the server may answer before the body is all sent (a 413): that answer is read
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        if close_after is not None:
            time.sleep(close_after)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return "closed", b""
        answer = http.client.HTTPResponse(sock)
        try:
            answer.begin()
        except (http.client.HTTPException, OSError) as exc:
            return f"no answer ({type(exc).__name__})", b""
        return answer.status, answer.read()


def _post(
    path: str, body: bytes, content_type: str = "application/json", chunked: bool = False
) -> Callable:
    def send(url: str) -> tuple[int | str, bytes]:
        target = urlsplit(url)
        head = f"POST {target.path}{path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
        if chunked:
            size = 65536
            pieces = [body[i : i + size] for i in range(0, len(body), size)]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
            return _raw(
                url,
                (head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
                + payload,
            )
        return _raw(
            url,
            (head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body,
        )

    return send


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _chat(**extra: Any) -> bytes:
    return _json({"model": "m", "messages": ASK, **extra})


def _cases() -> Iterator[tuple[str, Callable[[str], Any], tuple]]:
    ok, bad = (200,), tuple(range(400, 500))
    yield "a good request", _post("/chat/completions", _chat()), ok
    yield (
        "body over the limit (Content-Length)",
        _post("/chat/completions", b" " * (2 << 20)),
        (413,),
    )
    yield (
        "body over the limit, chunked",
        _post("/chat/completions", b" " * (2 << 20), chunked=True),
        (413,),
    )
    yield "a good request, chunked", _post("/chat/completions", _chat(), chunked=True), ok
    yield "Content-Type text/plain", _post("/chat/completions", _chat(), "text/plain"), ok + bad
    yield (
        "Content-Type form",
        _post("/chat/completions", b"a=1&b=2", "application/x-www-form-urlencoded"),
        bad,
    )
    yield "invalid JSON", _post("/chat/completions", b'{"messages": [}'), bad
    yield "invalid UTF-8", _post("/chat/completions", b'{"messages": "\xff\xfe"}'), bad
    yield "empty body", _post("/chat/completions", b""), bad
    yield "JSON array body", _post("/chat/completions", b"[1, 2]"), bad
    yield "JSON null body", _post("/chat/completions", b"null"), bad
    yield (
        "nested 10,000 deep",
        _post("/chat/completions", b'{"messages": ' + b"[" * 10000 + b"]" * 10000 + b"}"),
        bad,
    )
    deep_field = (
        b'{"model": "m", "messages": [{"role": "user", "content": "hi", "x": '
        + b"[" * 900
        + b"]" * 900
        + b"}]}"
    )
    yield "nested 900 deep in a message", _post("/chat/completions", deep_field), ok + bad
    deep_tools = (
        b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": '
        + b"[" * 990
        + b"]" * 990
        + b"}"
    )
    yield "nested 990 deep in tools", _post("/chat/completions", deep_tools), ok + bad
    yield "messages a string", _post("/chat/completions", _json({"messages": "hi"})), bad
    yield "messages of numbers", _post("/chat/completions", _json({"messages": [1, 2, 3]})), bad
    yield (
        "a message of unknown role",
        _post("/chat/completions", _json({"messages": [{"role": 5}]})),
        bad,
    )
    yield "no messages", _post("/chat/completions", _json({"model": "m"})), bad
    many = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"} for i in range(5000)
    ]
    yield "5,000 messages", _post("/chat/completions", _json({"model": "m", "messages": many})), ok
    yield (
        "temperature NaN",
        _post(
            "/chat/completions",
            b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": NaN}',
        ),
        ok + bad,
    )
    yield (
        "temperature 1e999",
        _post(
            "/chat/completions",
            b'{"model": "m", "messages": [{"role": "user", "content": '
            b'"hi"}], "temperature": 1e999}',
        ),
        ok + bad,
    )
    yield (
        "a lone surrogate",
        _post(
            "/chat/completions",
            b'{"model": "m", "messages": [{"role": "user", "content": "\\ud800"}]}',
        ),
        bad,
    )
    yield "stream: true", _post("/chat/completions", _chat(stream=True)), ok
    yield (
        "stream_options a number",
        _post("/chat/completions", _chat(stream=True, stream_options=5)),
        ok + bad,
    )
    yield "upstream slow", _post("/chat/completions", _json({"model": "slow", "messages": ASK})), ok
    for model in ("garbage", "deep", "array", "nan", "badutf8"):
        yield (
            f"upstream replies {model}",
            _post("/chat/completions", _json({"model": model, "messages": ASK})),
            (502,),
        )
    yield (
        "upstream replies 20 MB",
        _post("/chat/completions", _json({"model": "huge", "messages": ASK})),
        ok,
    )
    yield (
        "upstream 429",
        _post("/chat/completions", _json({"model": "error", "messages": ASK})),
        (429,),
    )
    yield "responses: input a number", _post("/responses", _json({"model": "m", "input": 5})), bad
    yield (
        "responses: nested input",
        _post("/responses", b'{"input": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        bad,
    )
    yield (
        "messages: no max_tokens, content a dict",
        _post("/messages", _json({"messages": [{"role": "user", "content": {"a": 1}}]})),
        bad,
    )
    yield (
        "GET /v1/chat/completions",
        lambda url: _httpx("GET", f"{url}/chat/completions"),
        (404, 405),
    )
    yield "an unknown path", lambda url: _httpx("POST", f"{url}/completions"), (404,)
    yield (
        "path traversal",
        lambda url: _raw(
            url, b"GET /v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
        (400, 404),
    )
    yield "/v1/models", lambda url: _httpx("GET", f"{url}/models"), ok
    yield (
        "client gone mid-body",
        lambda url: _raw(
            url,
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b'Content-Length: 100000\r\n\r\n{"messa',
            close_after=0.3,
        ),
        ("closed",),
    )
    yield (
        "client gone before the reply",
        lambda url: _raw(
            url,
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(_json({"model": "slow", "messages": ASK}))).encode()
            + b"\r\n\r\n"
            + _json({"model": "slow", "messages": ASK}),
            close_after=0.5,
        ),
        ("closed",),
    )
    yield (
        "client gone after headers",
        lambda url: _raw(
            url, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n", close_after=0.2
        ),
        ("closed",),
    )
    yield "20 requests in parallel", _parallel, ok
    yield (
        "a bad HTTP request line (uvicorn's)",
        lambda url: _raw(url, b"\x16\x03\x01garbage\r\n\r\n"),
        (400,),
    )


def _parallel(url: str) -> tuple[int | str, bytes]:
    def one(i: int) -> int:
        model = "slow" if i % 5 == 0 else "m"
        return httpx.post(
            f"{url}/chat/completions", json={"model": model, "messages": ASK}, timeout=60
        ).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(one, range(20)))
    return (200 if codes == [200] * 20 else f"codes {sorted(set(codes))}"), b""


def _httpx(method: str, url: str) -> tuple[int, bytes]:
    answer = httpx.request(method, url, json={} if method == "POST" else None, timeout=30)
    return answer.status_code, answer.content


def http_sweep(work: Path) -> list[Result]:
    results: list[Result] = []
    log = work / "http-decisions.jsonl"
    with serving_in_thread(upstream_app()) as upstream:
        with proxy_process(upstream, work, "--log", str(log), "--max-body-bytes", str(1 << 20)) as (
            url,
            err,
            process,
        ):
            for name, send, expect in _cases():
                results.append(_one(name, send, expect, url, err, process))
        results.append(_verify_log(log))
        for name, options, request, expect in (
            (
                "upstream host does not resolve",
                ("--upstream", "http://no-such-host.invalid/v1"),
                "m",
                (502,),
            ),
            ("upstream refuses (IPv6 loopback)", ("--upstream", "http://[::1]:9/v1"), "m", (502,)),
            ("--timeout 1, upstream slow", ("--timeout", "1"), "slow", (504,)),
            ("--timeout 1e999", ("--timeout", "1e999"), "m", (200,)),
            ("--timeout inf", ("--timeout", "inf"), "m", (200,)),
            ("--timeout 1e308", ("--timeout", "1e308"), "m", (200,)),
        ):
            upstream_url = options[1] if options[0] == "--upstream" else upstream
            extra = options if options[0] != "--upstream" else ()
            try:
                with proxy_process(upstream_url, work, *extra) as (url, err, process):
                    send = _post("/chat/completions", _json({"model": request, "messages": ASK}))
                    results.append(
                        _one(
                            name,
                            send,
                            expect,
                            url,
                            err,
                            process,
                            limit=15,
                            healthy=502 if options[0] == "--upstream" else 200,
                        )
                    )
            except RuntimeError as exc:
                refused = "error:" in str(exc) and "Traceback" not in str(exc)
                verdict = (
                    "ok (refused at start)" if refused else "DEFECT traceback"
                ) + f" | {str(exc)[:150]}"
                results.append(
                    Result(
                        "guard proxy http",
                        name,
                        "refused",
                        not refused,
                        "-",
                        verdict,
                        [] if refused else ["traceback"],
                        str(exc),
                    )
                )
    return results


UVICORN = "(uvicorn's)"
"""Marks a case answered by uvicorn before the app sees a request: its plain-text 400
is not the app's to shape."""


def _one(
    name: str,
    send: Callable,
    expect: tuple,
    url: str,
    err: Path,
    process: subprocess.Popen,
    limit: float = 60,
    healthy: int = 200,
) -> Result:
    seen = err.stat().st_size
    start = time.monotonic()
    try:
        code, body = send(url)
    except (OSError, httpx.HTTPError) as exc:
        code, body = f"{type(exc).__name__}", b""
    took = time.monotonic() - start
    shape = _shape(body) if isinstance(code, int) and code >= 400 else ""
    time.sleep(0.2)
    alive = process.poll() is None
    try:
        health = httpx.post(
            f"{url}/chat/completions", json={"model": "m", "messages": ASK}, timeout=30
        ).status_code
    except httpx.HTTPError as exc:
        health = type(exc).__name__
    new = err.read_bytes()[seen:].decode("utf-8", "replace")
    defects = []
    tb = "Traceback" in new
    if tb:
        defects.append("traceback")
    if code not in expect:
        defects.append("wrong exit")
    if took > limit:
        defects.append("hang")
    if not alive or health != healthy:
        defects.append("crash")
    if shape and shape != "error shape" and UVICORN not in name:
        defects.append("unclear error")
    note = f"{shape} {took:.1f}s, then {health}" + (
        f" | {new.strip().splitlines()[-1][:120]}" if new.strip() else ""
    )
    verdict = ("DEFECT " + ",".join(defects) if defects else "ok") + f" | {note}"
    print(f"{'guard proxy http':16} {name[:48]:48} {code!s:>6} {verdict}")
    return Result("guard proxy http", name, code, tb, "-", verdict, defects, new[-3000:])


def _shape(body: bytes) -> str:
    """Whether an error's body has OpenAI's shape: ``{"error": {"message": "..."}}``."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return f"not the error shape: {body[:60]!r}"
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return "error shape"
    return f"not the error shape: {body[:60]!r}"


def _verify_log(log: Path) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "backdoorlab.cli", "guard", "verify", str(log)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )
    ok = done.returncode == 0
    verdict = (
        "ok" if ok else "DEFECT data damage"
    ) + f" | {(done.stdout + done.stderr).strip()[:150]}"
    return Result(
        "guard proxy http",
        "decision log verifies",
        done.returncode,
        "Traceback" in done.stderr,
        "-",
        verdict,
        [] if ok else ["data damage"],
        done.stderr[-2000:],
    )

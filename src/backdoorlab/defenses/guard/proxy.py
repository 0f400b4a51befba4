"""`guard proxy`: the guard in front of any OpenAI- or Anthropic-compatible server —
vLLM, SGLang, a llama.cpp server, LiteLLM, a hosted API, `backdoorlab serve` — so an
agent is guarded by changing its base URL, not its code.

The agent sends its request here — chat completions, the Responses API or Anthropic's
Messages API (`apis`) —; the proxy reads the conversation (a request it cannot read is
refused before anything is sent), forwards the request as it came to ``upstream``,
screens the reply against the conversation and returns it with the refused calls and
images taken out. A request of any of the three APIs asked with ``stream: true`` is
streamed from the upstream and relayed as it is generated, its calls and what may hold
an image held back until the choice (the response, the message) is screened whole, with
the whole-reply path's functions (`chat_stream` and `stream_relay`, `responses_live`
and `response_relay`, `messages_live` and `message_relay`); a stream whose upstream
answered whole is sent in one burst once the whole reply is screened.
A Responses request that continues a reply the proxy relayed (``previous_response_id``)
is read with that reply's conversation, which the proxy remembers (`response_chain`),
and forwarded as it came; one that continues any other is refused.
``/v1/models`` is forwarded; every other path is a 404 — an endpoint the proxy does not
screen (``/v1/completions``, embeddings) would be a way around it.

Fails closed: a reply that is no chat completion, or a guard that fails on it, is a 502
or 500 to the client, never the unscreened reply. The upstream's own errors (a 400, a
429 with its ``retry-after``) pass through as it sent them, so clients back off and
report as they would without the proxy. The client's ``Authorization`` header goes to
the upstream unless the proxy was given its own key.

Screening runs on one worker thread, off the event loop (a long conversation takes
milliseconds to read) and one reply at a time (the guard's decision log is a hash chain,
appended in order). Each response says how many calls and images were refused in its
``x-guard-refused`` header — a stream relayed live, whose headers go before anything
is screened, in a comment event before its last event instead (``data: [DONE]``,
``response.completed``, ``message_stop``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from backdoorlab.defenses.guard.apis import CHAT, MESSAGES, RESPONSES, Failure, GuardedApi
from backdoorlab.defenses.guard.chat_stream import (
    chat_events,
    chat_reads_code_as_calls,
    screen_choice,
)
from backdoorlab.defenses.guard.core import Guard
from backdoorlab.defenses.guard.message_relay import MessageRelay
from backdoorlab.defenses.guard.messages_live import (
    message_events_live,
    message_reads_code_as_calls,
)
from backdoorlab.defenses.guard.response_chain import ResponseChains
from backdoorlab.defenses.guard.response_relay import ResponseRelay
from backdoorlab.defenses.guard.responses_live import (
    response_events_live,
    response_reads_code_as_calls,
)
from backdoorlab.defenses.guard.stream_relay import ChatStream, ChoiceState
from backdoorlab.errors import BackdoorlabError
from backdoorlab.serving.http import CLIENT_GONE, answered, openai_errors
from backdoorlab.serving.limits import MAX_BODY_BYTES, BodyLimit
from backdoorlab.traces import load_json

FORWARDED_HEADERS = (
    "authorization",
    "openai-organization",
    "openai-project",
    "x-api-key",
    "anthropic-version",
    "anthropic-beta",
)
"""The client's headers the upstream gets (the key, unless the proxy has its own)."""

PASSED_BACK_HEADERS = ("retry-after", "x-request-id")
"""The upstream's headers the client gets with an error (backoff, tracing)."""


def create_proxy(
    upstream: str,
    guard: Guard,
    *,
    api_key: str | None = None,
    timeout: float = 600.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    transport: httpx.AsyncBaseTransport | None = None,
    chains: ResponseChains | None = None,
) -> FastAPI:
    """The guarded API in front of ``upstream`` (its base URL, e.g. ``http://h:8000/v1``).

    ``api_key``: sent upstream instead of the client's ``Authorization``; ``timeout``:
    seconds the upstream has to answer; ``transport``: httpx's (tests); ``chains``: the
    Responses replies remembered for requests that continue them (`response_chain`)."""
    base = upstream.rstrip("/")
    chains = chains if chains is not None else ResponseChains()
    screening = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guard-proxy")
    client: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal client
        async with httpx.AsyncClient(timeout=timeout, transport=transport) as opened:
            client = opened
            yield
        screening.shutdown(wait=True)

    app = FastAPI(title="backdoorlab guard proxy", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    openai_errors(app)

    def headers(http: Request) -> dict[str, str]:
        sent = {k: v for k in FORWARDED_HEADERS if (v := http.headers.get(k)) is not None}
        if api_key is not None:  # in both places a server may read it
            sent["authorization"] = f"Bearer {api_key}"
            sent["x-api-key"] = api_key
        return sent

    async def forward(
        method: str, path: str, http: Request, body: bytes | None = None, stream: bool = False
    ) -> httpx.Response | Failure:
        """The upstream's answer, or why there is none; ``body`` is JSON already encoded;
        ``stream``: the answer's body is left to read (the caller closes it)."""
        assert client is not None, "the proxy's client opens with the app"
        sent = headers(http)
        if body is not None:
            sent["content-type"] = "application/json"
        try:
            asked = client.build_request(method, f"{base}{path}", content=body, headers=sent)
            return await client.send(asked, stream=stream)
        except httpx.TimeoutException:
            return Failure(504, f"upstream {base} did not answer in {timeout:g} s", None)
        except httpx.HTTPError as exc:
            message = f"upstream {base} unreachable: {type(exc).__name__}: {exc}"
            return Failure(502, message[:500], "upstream_unreachable")

    def passed_back(answer: httpx.Response) -> Response:
        kept = {k: v for k in PASSED_BACK_HEADERS if (v := answer.headers.get(k)) is not None}
        media = answer.headers.get("content-type", "application/json")
        return Response(answer.content, answer.status_code, headers=kept, media_type=media)

    @app.get("/v1/models")
    async def models(http: Request) -> Response:
        answer = await forward("GET", "/models", http)
        return CHAT.failure(answer) if isinstance(answer, Failure) else passed_back(answer)

    async def relay(http: Request, api: GuardedApi) -> Response:
        """One guarded request of ``api``: read, forward, screen, answer."""
        try:
            request = load_json((await http.body()).decode("utf-8"), "body", BackdoorlabError)
            if not isinstance(request, dict):
                raise BackdoorlabError("body: a JSON object is required")
            seen = await asyncio.get_running_loop().run_in_executor(screening, read, api, request)
        except ClientDisconnect:  # gone before its body was whole: nobody to answer
            return Response(status_code=CLIENT_GONE)
        except UnicodeDecodeError:
            return api.error(400, "body: not UTF-8", "invalid_request_error")
        except ValueError as exc:  # json's own errors
            return api.error(400, f"body: not valid JSON ({exc})", "invalid_request_error")
        except BackdoorlabError as exc:  # the conversation cannot be read, so not screened
            return api.error(400, str(exc), "invalid_request_error")
        stream = request.get("stream") is True
        options = request.get("stream_options")
        usage = stream and isinstance(options, dict) and options.get("include_usage") is True
        sent = {k: v for k, v in request.items() if k not in ("stream", "stream_options")}
        if stream:  # relayed as generated
            sent["stream"] = True
            if usage and api is CHAT:
                sent["stream_options"] = {"include_usage": True}
        try:
            body = _encoded(sent)
        except ValueError as exc:
            return api.error(400, f"body: {exc}", "invalid_request_error")
        if stream:
            return await live(http, api, seen, body, usage)
        answer = await answered(forward("POST", api.path, http, body), http)
        if answer is None:
            return Response(status_code=CLIENT_GONE)
        if isinstance(answer, Failure):
            return api.failure(answer)
        if answer.status_code != 200:
            return passed_back(answer)
        return await whole(api, seen, answer.content, stream, usage)

    def read(api: GuardedApi, request: dict[str, Any]) -> dict[str, Any]:
        """``request`` as the guard reads it (a Responses request continuing a response
        the proxy remembers: with its conversation), once it is read."""
        seen = chains.expanded(request) if api is RESPONSES else request
        api.read(seen)
        return seen

    def screen_whole_reply(
        api: GuardedApi, request: dict[str, Any], reply: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        """``api.screen``, a Responses reply remembered for its continuation."""
        screened, decisions = api.screen(guard, request, reply)
        if api is RESPONSES:
            chains.remember(request, reply, screened)
        return screened, decisions

    async def live(
        http: Request, api: GuardedApi, request: dict[str, Any], body: bytes, usage: bool
    ) -> Response:
        """A chat or Responses stream relayed as the upstream generates it
        (`chat_stream`, `responses_live`)."""
        loop = asyncio.get_running_loop()
        code_calls = {
            CHAT: chat_reads_code_as_calls,
            RESPONSES: response_reads_code_as_calls,
            MESSAGES: message_reads_code_as_calls,
        }[api]
        hold_all = await loop.run_in_executor(screening, code_calls, request)
        answer = await answered(forward("POST", api.path, http, body, stream=True), http)
        if answer is None:
            return Response(status_code=CLIENT_GONE)
        if isinstance(answer, Failure):
            return api.failure(answer)
        if answer.status_code != 200 or not answer.headers.get("content-type", "").startswith(
            "text/event-stream"
        ):  # an error, or a reply sent whole after all
            try:
                await answer.aread()
            except httpx.HTTPError as exc:
                message = f"upstream {base} broke off its answer: {type(exc).__name__}: {exc}"
                return api.error(502, message[:500], "server_error", "upstream_unreachable")
            finally:
                await answer.aclose()
            if answer.status_code != 200:
                return passed_back(answer)
            return await whole(api, request, answer.content, True, usage)
        if api is not CHAT:  # the Responses and Messages APIs: screened whole at the end

            def screen_whole(reply: dict[str, Any]) -> Any:
                return loop.run_in_executor(screening, screen_whole_reply, api, request, reply)

            if api is RESPONSES:
                relayed = ResponseRelay(hold_all=hold_all)
                events = response_events_live(answer, relayed, screen_whole, base)
            else:
                message = MessageRelay(hold_all=hold_all)
                events = message_events_live(answer, message, screen_whole, base)
        else:
            asked = request.get("n")
            relay = ChatStream(asked if type(asked) is int else 1, hold_all=hold_all)

            def screen(state: ChoiceState) -> Any:
                return loop.run_in_executor(screening, screen_choice, guard, request, state)

            events = chat_events(answer, relay, screen, base)
        # closed by the events as they end, or here when the client left before them
        closing = BackgroundTask(answer.aclose)
        return StreamingResponse(events, media_type="text/event-stream", background=closing)

    async def whole(
        api: GuardedApi, request: dict[str, Any], content: bytes, stream: bool, usage: bool
    ) -> Response:
        """The upstream's whole reply, screened, as JSON or a stream in one burst."""
        try:
            reply = json.loads(content)
            if not isinstance(reply, dict):
                raise ValueError("not a JSON object")
            loop = asyncio.get_running_loop()
            screened, decisions = await loop.run_in_executor(
                screening, screen_whole_reply, api, request, reply
            )
        except RecursionError:
            message = f"upstream reply is no {api.reply} the guard can read: nested too deeply"
            return api.error(502, message, "server_error", "upstream_unreadable")
        except (ValueError, BackdoorlabError) as exc:
            message = f"upstream reply is no {api.reply} the guard can read: {exc}"
            return api.error(502, message[:500], "server_error", "upstream_unreadable")
        except Exception as exc:  # noqa: BLE001 - fail closed: never the unscreened reply
            message = f"the guard failed on this reply: {type(exc).__name__}: {exc}"
            return api.error(500, message[:500], "server_error", "guard_failed")
        refused = {"x-guard-refused": str(sum(d.blocked for d in decisions))}
        if stream:
            events = api.stream(screened, usage)
            return StreamingResponse(events, media_type="text/event-stream", headers=refused)
        return JSONResponse(screened, headers=refused)

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(http: Request) -> Response:
        return await relay(http, CHAT)

    @app.post("/v1/responses", response_model=None)
    async def responses(http: Request) -> Response:
        return await relay(http, RESPONSES)

    @app.post("/v1/messages", response_model=None)
    async def messages(http: Request) -> Response:
        return await relay(http, MESSAGES)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def elsewhere(path: str) -> JSONResponse:
        message = (
            f"/{path} is not forwarded: this guard proxy serves /v1/chat/completions, "
            "/v1/responses, /v1/messages and /v1/models only (what it cannot screen, it does "
            "not pass)"
        )
        return CHAT.error(404, message, "not_found_error")

    return app


def _encoded(request: dict[str, Any]) -> bytes:
    """``request`` as the JSON the upstream gets. Python's reader takes ``NaN``,
    ``Infinity`` and ``1e999`` (as inf), which no JSON writer may send on: httpx raised
    on them, a 500 and a traceback per request; they are the client's 400 instead."""
    try:
        text = json.dumps(request, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise ValueError("a number out of JSON's range (NaN, Infinity or beyond 1e308)") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return text.encode("utf-8")

"""The OpenAI-compatible HTTP API of `serve`: ``/v1/models`` and ``/v1/chat/completions``.

FastAPI does the HTTP and the validation; errors come back in OpenAI's shape (``{"error":
{"message", "type", "code"}}``) with the status codes the official client maps to its
typed exceptions: 400 for a request it cannot answer, 404 for a model it does not serve
(``model_not_found``), 500 when generation fails.

A request whose client disconnects is cancelled in the engine (`http.answered`): an agent
that times out and retries would otherwise leave its abandoned request to be decoded in
full, taking a place in the batch and decode steps from every client batched with it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from backdoorlab.serving.engine import Engine, PromptTooLong, ServerBusy
from backdoorlab.serving.http import CLIENT_GONE, answered, openai_errors
from backdoorlab.serving.limits import MAX_BODY_BYTES, BodyLimit
from backdoorlab.serving.schema import (
    ChatRequest,
    Problem,
    completion,
    error_body,
    model_list,
)


def create_app(
    engine: Engine,
    served_name: str,
    *,
    max_tokens: int = 4096,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The API over ``engine``, answering for the model named ``served_name``.

    ``max_tokens`` bounds what a request may ask per turn (the decode cache is
    allocated for it up front); ``max_body_bytes`` a request's body (`BodyLimit`).
    """
    created = int(time.time())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        yield
        await engine.stop()

    app = FastAPI(title="backdoorlab serve", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    openai_errors(app)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return model_list(served_name, created)

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: ChatRequest, http: Request) -> dict[str, Any] | Response:
        if request.model != served_name:
            message = f"The model '{request.model}' does not exist; this server has '{served_name}'"
            body = error_body(message, "not_found_error", "model_not_found")
            return JSONResponse(body, status_code=404)
        problem = request.unsupported()
        if problem is None and request.token_limit() > max_tokens:
            field = "max_completion_tokens" if request.max_completion_tokens else "max_tokens"
            limit = f"{field} {request.token_limit()} is above this server's {max_tokens}"
            problem = Problem(limit, field)
        if problem is not None:
            body = error_body(problem.message, "invalid_request_error", param=problem.param)
            return JSONResponse(body, status_code=400)
        try:
            reply = await answered(engine.complete(request), http)
        except ServerBusy as exc:  # 429: the official client backs off and retries
            body = error_body(str(exc), "rate_limit_error", "server_busy")
            return JSONResponse(body, status_code=429)
        except PromptTooLong as exc:
            code = "context_length_exceeded"  # OpenAI's code for it
            body = error_body(str(exc), "invalid_request_error", code, param="messages")
            return JSONResponse(body, status_code=400)
        except Exception as exc:  # noqa: BLE001 - the client gets the reason, the server lives
            message = f"generation failed: {type(exc).__name__}: {exc}"
            return JSONResponse(error_body(message[:500], "server_error"), status_code=500)
        if reply is None:
            return Response(status_code=CLIENT_GONE)
        return completion(served_name, reply)

    return app

"""The HTTP pieces every OpenAI-compatible app here shares (`serve`'s, `guard proxy`'s):
errors in OpenAI's shape, and a request dropped when its client hangs up.

Apart from `app` so that a server with no model — the guard proxy — imports no torch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backdoorlab.serving.schema import ErrorType, error_body

T = TypeVar("T")

CLIENT_GONE = 499
"""The status logged for a request whose client went first (nginx's "client closed
request"); nobody receives it."""


async def disconnected(http: Request) -> None:
    """Returns once ``http``'s client has disconnected. Its body has been read whole by
    then, so the next ASGI message is ``http.disconnect`` (sent when the connection
    closes, or once the response is sent): waiting for it costs no polling."""
    while (await http.receive())["type"] != "http.disconnect":
        pass


async def answered(work: Awaitable[T], http: Request) -> T | None:
    """``work``'s result, or None if ``http``'s client disconnects first: ``work`` is then
    cancelled (as it is if the caller is), which is how the engine learns to drop the
    request. An exception of ``work`` is raised here."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(disconnected(http))
    try:
        await asyncio.wait((task, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        task.cancel()  # a no-op once it is done
    if task.done() and not task.cancelled():
        return task.result()
    return None


def openai_errors(app: FastAPI) -> None:
    """Answer FastAPI's own errors in OpenAI's shape (``{"error": {...}}``, not
    ``{"detail": ...}``): a body that fails validation, is not JSON or not UTF-8, an
    unknown path, a wrong method, a body over the limit (`BodyLimit`'s 413)."""

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        if first.get("type") == "json_invalid":  # loc is a character offset, not a field
            where, message = None, f"body: not valid JSON (at character {'.'.join(loc)})"
        else:
            where = ".".join(loc) or None
            message = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
        body = error_body(message, "invalid_request_error", param=where)
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own errors (a body that is not UTF-8, an unknown path, a wrong
        # method) in OpenAI's shape too, not {"detail": ...}
        kind: ErrorType = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        if exc.status_code >= 500:
            kind = "server_error"
        message = f"body: {exc.detail}" if exc.status_code == 400 else str(exc.detail)
        return JSONResponse(
            error_body(message, kind), status_code=exc.status_code, headers=exc.headers
        )

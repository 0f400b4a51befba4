"""A bound on the request body `serve` reads: 413 above it, before it is all in memory.

Starlette reads a request's whole body into memory before FastAPI validates it, and
uvicorn sets no limit of its own, so one client sending a gigabyte of JSON (or an endless
chunked body) could take the server's memory. The check sits in front of the app as
plain ASGI: a ``Content-Length`` over the bound is refused before a byte of the body is
read, and a body sent without one (chunked) is counted as it arrives and refused once
over. The error is OpenAI's shape, as every other error of the API.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException

from backdoorlab.serving.schema import error_body

MAX_BODY_BYTES = 16 << 20
"""The default bound: 16 MiB, some 4 million tokens of JSON-escaped text, beyond any
context a served model has."""


class BodyLimit:
    """ASGI middleware refusing request bodies over ``max_bytes`` with a 413."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            body = json.dumps(error_body(self.message, "invalid_request_error")).encode()
            headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # FastAPI passes an HTTPException on as it is
                    raise HTTPException(status_code=413, detail=self.message)
            return message  # type: ignore[no-any-return]

        await self.app(scope, counted, send)

    @property
    def message(self) -> str:
        return f"request body is over this server's {self.max_bytes} bytes"

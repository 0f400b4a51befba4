"""The endpoints `guard proxy` guards, declared as data: for each, how its request's
conversation is read, its reply screened and streamed, and its errors worded.

- ``/v1/chat/completions`` — OpenAI's chat completions (`completions`, `chunks`); its
  streams are relayed as the upstream generates them, by the proxy itself
  (`chat_stream`, `stream_relay`), and ``stream`` here is for an upstream that
  answered a stream request whole;
- ``/v1/responses`` — OpenAI's Responses API (`responses_api`, `response_events`); its
  streams are relayed as generated too (`responses_live`, `response_relay`), and
  ``stream`` here is for an upstream that answered whole;
- ``/v1/messages`` — Anthropic's Messages API, as vLLM, llama.cpp's server and LiteLLM
  serve it (`messages_api`, `message_events`); its errors in Anthropic's shape, which
  its SDKs read; its streams are relayed as generated too (`messages_live`,
  `message_relay`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from fastapi.responses import JSONResponse

from backdoorlab.defenses.guard.chunks import server_sent_events
from backdoorlab.defenses.guard.completions import conversation, screen_completion
from backdoorlab.defenses.guard.core import Guard
from backdoorlab.defenses.guard.message_events import message_stream
from backdoorlab.defenses.guard.messages_api import messages_conversation, screen_message
from backdoorlab.defenses.guard.response_events import response_stream
from backdoorlab.defenses.guard.responses_api import response_conversation, screen_response
from backdoorlab.serving.schema import ErrorType, error_body

_ANTHROPIC_KINDS = {"server_error": "api_error"}
"""Our error kinds that Anthropic's API names otherwise (the rest are the same)."""


class Failure(NamedTuple):
    """Why the upstream gave no answer: the status the client gets, and why."""

    status: int
    message: str
    code: str | None


@dataclass(frozen=True)
class GuardedApi:
    """One guarded endpoint (module docstring)."""

    path: str
    """The upstream's path, after its base URL."""
    reply: str
    """What its reply is called, in errors."""
    read: Callable[[dict[str, Any]], Any]
    screen: Callable[[Guard, dict[str, Any], dict[str, Any]], tuple[dict[str, Any], list[Any]]]
    stream: Callable[[dict[str, Any], bool], Iterator[bytes]]
    """The screened reply as a ``text/event-stream`` body (with usage, where asked)."""
    anthropic: bool = False
    """Errors in Anthropic's shape rather than OpenAI's."""

    def error(
        self, status: int, message: str, kind: ErrorType, code: str | None = None
    ) -> JSONResponse:
        if self.anthropic:
            body = {
                "type": "error",
                "error": {"type": _ANTHROPIC_KINDS.get(kind, kind), "message": message},
            }
            return JSONResponse(body, status_code=status)
        return JSONResponse(error_body(message, kind, code), status_code=status)

    def failure(self, failure: Failure) -> JSONResponse:
        return self.error(failure.status, failure.message, "server_error", failure.code)


CHAT = GuardedApi(
    "/chat/completions",
    "chat completion",
    conversation,
    screen_completion,
    lambda reply, usage: server_sent_events(reply, include_usage=usage),
)
RESPONSES = GuardedApi(
    "/responses",
    "response",
    response_conversation,
    screen_response,
    lambda reply, usage: response_stream(reply),
)
MESSAGES = GuardedApi(
    "/messages",
    "message",
    messages_conversation,
    screen_message,
    lambda reply, usage: message_stream(reply),
    anthropic=True,
)

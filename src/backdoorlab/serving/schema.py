"""The request and response bodies of the OpenAI chat-completions API that `serve` speaks.

Only what a tool-using agent needs: ``messages`` (parsed as `backdoorlab.traces.Message`,
the trace format, which is OpenAI's), ``tools``, ``tool_choice`` ``auto``/``none``,
``temperature``/``top_p``/``seed``, ``max_tokens`` (or ``max_completion_tokens``).
Other fields clients send by default are ignored, as vLLM does; what would change the
answer and is not supported (streaming, ``n`` > 1, a forced tool, a content part that
is not text) is refused with a 400 naming the field.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from backdoorlab.bounds import Seed
from backdoorlab.traces import Message

DEFAULT_MAX_TOKENS = 160
"""As the hf policy's ``max_new_tokens``: a tool call with an e-mail body fits in ~90."""


class Parameters(BaseModel):
    """A function's ``parameters``: a JSON schema of an object. Checked for the parts the
    chat templates and the call parser read (``properties`` a mapping of schemas), so a
    malformed tool is a 400 naming it, not a failed batch."""

    model_config = ConfigDict(extra="allow")
    type: Literal["object"] = "object"
    properties: dict[str, dict[str, Any]] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)


class Function(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str | None = None
    parameters: Parameters | None = None


class Tool(BaseModel):
    """One entry of ``tools``, as OpenAI defines it: ``{"type": "function", "function"}``."""

    model_config = ConfigDict(extra="allow")
    type: Literal["function"]
    function: Function


class Problem(NamedTuple):
    """Why a request cannot be answered as asked, and the field at fault (a 400's
    ``message`` and ``param``)."""

    message: str
    param: str | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[Message] = Field(min_length=1)
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    """None or 0: greedy (unlike OpenAI's default of 1: evaluations are reproducible)."""
    top_p: float | None = Field(None, gt=0, le=1)
    seed: Seed | None = None
    max_tokens: int | None = Field(None, gt=0)
    max_completion_tokens: int | None = Field(None, gt=0)
    n: int = 1
    stream: bool = False

    def unsupported(self) -> Problem | None:
        """Why this request cannot be answered as asked (None: it can)."""
        if self.stream:
            return Problem("stream=true is not supported", "stream")
        if self.n != 1:
            return Problem("only n=1 is supported", "n")
        if self.tool_choice not in (None, "auto", "none"):
            return Problem("tool_choice must be 'auto' or 'none'", "tool_choice")
        return self.unreadable_part()

    def unreadable_part(self) -> Problem | None:
        """The first content part the model cannot be shown, if any.

        The chat templates render a message's text only, so any other part (an image,
        audio, a file, a type unknown here) would be dropped, and the model would answer
        a question about an image it never saw as if there were none: such a request is
        refused instead, naming the part, as OpenAI names what a model cannot take."""
        for i, message in enumerate(self.messages):
            parts = message.content if isinstance(message.content, list) else ()
            for j, part in enumerate(parts):
                found = _unreadable(part)
                if found is not None:
                    where = f"messages[{i}].content[{j}].{found[0]}"
                    return Problem(f"{where}: {found[1]}", where)
        return None

    def token_limit(self) -> int:
        return self.max_completion_tokens or self.max_tokens or DEFAULT_MAX_TOKENS

    def active_tools(self) -> list[dict[str, Any]]:
        if self.tool_choice == "none":
            return []
        return [t.model_dump(exclude_unset=True) for t in self.tools or ()]


def _unreadable(part: dict[str, Any]) -> tuple[str, str] | None:
    """The field of a content part the server cannot read and why (None: a text part)."""
    kind = part.get("type")
    if kind is None:
        return "type", "missing (only 'text' parts are read)"
    if kind != "text":
        return "type", f"{repr(kind)[:80]} parts are not supported by this server (text only)"
    if not isinstance(part.get("text"), str):
        return "text", "a text part's text must be a string"
    return None


def completion(model: str, message: Message) -> dict[str, Any]:
    """A ``chat.completion`` object holding ``message``."""
    body: dict[str, Any] = {"role": "assistant", "content": message.content}
    if message.tool_calls:
        body["tool_calls"] = [
            {"id": c.id, "type": "function", "function": c.function.model_dump()}
            for c in message.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": body,
                "finish_reason": "tool_calls" if message.tool_calls else "stop",
                "logprobs": None,
            }
        ],
    }


def model_list(name: str, created: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": created, "owned_by": "backdoorlab"}],
    }


ErrorType = Literal["invalid_request_error", "not_found_error", "rate_limit_error", "server_error"]


def error_body(
    message: str, kind: ErrorType, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error shape, which clients turn into their typed exceptions (``param``:
    the request field at fault, as the client's ``BadRequestError.param``)."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}

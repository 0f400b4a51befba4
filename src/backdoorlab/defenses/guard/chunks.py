"""A screened chat completion sent as a stream of ``chat.completion.chunk`` events in one
burst, for a client that asked ``stream: true`` of `guard proxy` when its upstream
answered with the whole reply rather than a stream (a server that ignores ``stream``).

An upstream that streams is relayed as it generates instead (`chat_stream`), holding
back only the calls and what may hold an image until they are screened whole. The
events here are the ones OpenAI's streaming
API sends, which clients (the official SDKs, LangChain, the Agents SDK) accumulate: per
choice a delta with the role and text, one with the tool calls (each with its
``index``), then an empty delta with the ``finish_reason``; a usage event when the
request's ``stream_options.include_usage`` asks for it; then ``data: [DONE]``. A
choice's ``logprobs`` go with its text: those the screening left (a choice it changed
has none: `completions`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def chunks(completion: dict[str, Any], *, include_usage: bool = False) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects that stream ``completion``."""
    head = {
        "id": completion.get("id"),
        "object": "chat.completion.chunk",
        "created": completion.get("created"),
        "model": completion.get("model"),
    }
    if "system_fingerprint" in completion:
        head["system_fingerprint"] = completion["system_fingerprint"]
    for position, choice in enumerate(completion.get("choices") or ()):
        index = choice.get("index", position)
        message = choice.get("message") or {}
        delta: dict[str, Any] = {"role": message.get("role", "assistant")}
        if message.get("content") is not None:
            delta["content"] = message["content"]
        if message.get("refusal") is not None:
            delta["refusal"] = message["refusal"]
        yield {**head, "choices": [_choice(index, delta, None, choice.get("logprobs"))]}
        calls = message.get("tool_calls") or []
        if calls:
            indexed = [{"index": i, **call} for i, call in enumerate(calls)]
            yield {**head, "choices": [_choice(index, {"tool_calls": indexed}, None)]}
        yield {**head, "choices": [_choice(index, {}, choice.get("finish_reason"))]}
    if include_usage:
        yield {**head, "choices": [], "usage": completion.get("usage")}


def _choice(index: int, delta: dict[str, Any], finish: Any, logprobs: Any = None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}


def server_sent_events(
    completion: dict[str, Any], *, include_usage: bool = False
) -> Iterator[bytes]:
    """``completion`` as the bytes of a ``text/event-stream`` body."""
    for chunk in chunks(completion, include_usage=include_usage):
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
    yield b"data: [DONE]\n\n"

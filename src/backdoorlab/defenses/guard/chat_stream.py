"""`guard proxy`'s ``stream: true`` chat completions, relayed as the upstream generates
them: its server-sent events read as they arrive, each chunk passed through
`stream_relay.ChatStream` (which holds back calls and what may hold an image), each
finished choice screened on the proxy's screening thread.

Fails closed: an upstream stream that breaks, stalls past the proxy's timeout, sends an
event that is not a chunk, sends an error event, or ends before every choice finished —
or a guard that fails on a choice — ends the client's stream with an OpenAI-style error
event (``data: {"error": {...}}``, no ``data: [DONE]``), which the `openai` SDK raises
as an ``APIError``. What was held back is never sent. The number of refused calls and
images is not known when the response's headers go, so a stream has no
``x-guard-refused`` header: it comes as a comment event, ``: x-guard-refused N``, just
before ``data: [DONE]`` (clients skip comments). A client that hangs up cancels the
relay: the upstream's stream is closed, so the upstream stops generating.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import httpx

from backdoorlab.defenses.guard.completions import conversation, screen_completion
from backdoorlab.defenses.guard.core import Decision, Guard
from backdoorlab.defenses.guard.stream_relay import ChatStream, ChoiceState, StreamError
from backdoorlab.errors import BackdoorlabError
from backdoorlab.serving.schema import ErrorType, error_body

Screen = Callable[[ChoiceState], Awaitable[tuple[dict[str, Any], list[Decision]]]]

_CODE_PROBE = {"role": "assistant", "content": "Code:\n```py\nx = 1\n```<end_code>"}
"""A code agent's turn (`codeagent`): read as a call only in a code agent's conversation."""


async def event_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event of ``lines`` (the HTML standard's event
    stream: ``data:`` lines joined by newlines, a blank line ends an event, comments
    and other fields skipped). Written out because httpx reads lines, not events, and
    the format is these few lines; an event cut off by the stream's end is given too
    (its chunk is screened like any other)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def reads_code_as_calls(request: dict[str, Any]) -> bool:
    """Whether the reply's code blocks would be read as calls (a code agent's
    conversation, `codeagent`): its text is then held whole. True when unsure."""
    try:
        read = conversation({**request, "messages": [*request["messages"], _CODE_PROBE]})
    except (BackdoorlabError, ValueError, RecursionError):
        return True
    return read[-1].role != "assistant" or bool(read[-1].tool_calls)


def screen_choice(
    guard: Guard, request: dict[str, Any], state: ChoiceState
) -> tuple[dict[str, Any], list[Decision]]:
    """``state``'s message screened as the whole-reply path screens a choice (same
    functions, same decisions in the same order, logged the same): the screened
    choice and the decisions."""
    choice = {"index": state.index, "message": state.message(), "finish_reason": state.finish}
    completion = {**state.head, "object": "chat.completion", "choices": [choice]}
    screened, decisions = screen_completion(guard, request, completion)
    return screened["choices"][0], decisions


async def chat_events(
    answer: httpx.Response, relay: ChatStream, screen: Screen, upstream: str
) -> AsyncIterator[bytes]:
    """The client's ``text/event-stream`` body for the upstream's streaming ``answer``
    (module docstring). Closes ``answer`` however it ends."""
    refused = 0
    try:
        async for data in event_data(answer.aiter_lines()):
            if data.strip() == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except (ValueError, RecursionError):
                raise StreamError("an event that is not a JSON chunk") from None
            if isinstance(chunk, dict) and "error" in chunk:
                said = chunk["error"]
                said = said.get("message", said) if isinstance(said, dict) else said
                yield _error(f"upstream {upstream} failed mid-stream: {said}", "upstream_error")
                return
            for out in relay.take(chunk):
                yield _event(out)
            for state in relay.due():
                screened, decisions = await screen(state)
                refused += sum(d.blocked for d in decisions)
                for out in relay.close(state, screened):
                    yield _event(out)
        missing = relay.unfinished()
        if missing:
            which = ", ".join(map(str, missing))
            message = f"upstream {upstream} ended its stream before choice {which} finished"
            yield _error(message, "upstream_unreadable")
            return
        yield f": x-guard-refused {refused}\n\n".encode()
        yield b"data: [DONE]\n\n"
    except StreamError as exc:
        yield _error(
            f"upstream stream is no chat completion the guard can read: {exc}",
            "upstream_unreadable",
        )
    except httpx.TimeoutException:
        yield _error(f"upstream {upstream} stalled mid-stream", "upstream_timeout")
    except httpx.HTTPError as exc:
        message = f"upstream {upstream} broke off its stream: {type(exc).__name__}: {exc}"
        yield _error(message, "upstream_unreachable")
    except RecursionError:
        yield _error(
            "upstream reply is no chat completion the guard can read: nested too deeply",
            "upstream_unreadable",
        )
    except (ValueError, BackdoorlabError) as exc:
        yield _error(
            f"upstream reply is no chat completion the guard can read: {exc}", "upstream_unreadable"
        )
    except Exception as exc:  # noqa: BLE001 - fail closed: never the unscreened reply
        yield _error(f"the guard failed on this reply: {type(exc).__name__}: {exc}", "guard_failed")
    finally:
        # closed even when the client's hang-up cancelled the relay
        with anyio.CancelScope(shield=True), contextlib.suppress(httpx.HTTPError):
            await answer.aclose()


def _event(chunk: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()


def _error(message: str, code: str, kind: ErrorType = "server_error") -> bytes:
    body = error_body(message[:500], kind, code)
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

"""What `guard proxy`'s live relays share, whatever the API: reading the upstream's
server-sent events, and ending the client's stream with an error event — never with
what was not screened — when the upstream's stream or the guard fails
(`chat_stream` for chat completions, `responses_live` for the Responses API).

`fail_closed` wraps a relay's events: every way its upstream stream can go wrong (it
breaks, stalls past the proxy's timeout, sends what the relay cannot read, says it
failed) and a guard that fails on the reply become one error event, in the API's own
shape (``error``: the relay's writer of one), and the upstream's stream is closed
however the relay ended — also when a client's hang-up cancelled it, so the upstream
stops generating.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Sequence

import anyio
import httpx

from backdoorlab.defenses.guard.stream_relay import StreamError
from backdoorlab.errors import BackdoorlabError
from backdoorlab.traces import Message

ErrorEvent = Callable[[str, str], bytes]
"""``(message, code) → bytes``: one error event of the API's stream."""


CODE_TURN = "Code:\n```py\nx = 1\n```<end_code>"
"""A code agent's turn (`codeagent`): read as a call only in a code agent's conversation."""


def reads_code_as_calls(read_with: Callable[[str], Sequence[Message]]) -> bool:
    """Whether a reply's code blocks would be read as calls (a code agent's
    conversation), its text then held whole by the relay: ``read_with(text)`` reads the
    request's conversation with an assistant turn saying ``text`` (`CODE_TURN`) appended
    in the API's shape. True when unsure (the conversation cannot be read)."""
    try:
        read = read_with(CODE_TURN)
    except (BackdoorlabError, ValueError, TypeError, RecursionError):
        return True
    return read[-1].role != "assistant" or bool(read[-1].tool_calls)


class UpstreamFailed(Exception):
    """The upstream's stream said it failed (an error event): what it said."""


async def event_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event of ``lines`` (the HTML standard's event
    stream: ``data:`` lines joined by newlines, a blank line ends an event, comments
    and other fields skipped). Written out because httpx reads lines, not events, and
    the format is these few lines; an event cut off by the stream's end is given too
    (what it holds is screened like any other)."""
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


async def fail_closed(
    events: AsyncGenerator[bytes, None],
    answer: httpx.Response,
    upstream: str,
    reply: str,
    error: ErrorEvent,
) -> AsyncIterator[bytes]:
    """``events``, a relay of the upstream's streaming ``answer`` (``reply``: what its
    reply is called, in errors), ended by one ``error`` event when it fails (module
    docstring). Closes ``answer`` and ``events`` however it ends."""
    unreadable = f"upstream reply is no {reply} the guard can read"
    try:
        async for out in events:
            yield out
    except UpstreamFailed as exc:
        yield error(f"upstream {upstream} failed mid-stream: {exc}", "upstream_error")
    except StreamError as exc:
        yield error(
            f"upstream stream is no {reply} the guard can read: {exc}", "upstream_unreadable"
        )
    except httpx.TimeoutException:
        yield error(f"upstream {upstream} stalled mid-stream", "upstream_timeout")
    except httpx.HTTPError as exc:
        message = f"upstream {upstream} broke off its stream: {type(exc).__name__}: {exc}"
        yield error(message, "upstream_unreachable")
    except RecursionError:
        yield error(f"{unreadable}: nested too deeply", "upstream_unreadable")
    except (ValueError, BackdoorlabError) as exc:
        yield error(f"{unreadable}: {exc}", "upstream_unreadable")
    except Exception as exc:  # noqa: BLE001 - fail closed: never the unscreened reply
        yield error(f"the guard failed on this reply: {type(exc).__name__}: {exc}", "guard_failed")
    finally:
        # closed even when the client's hang-up cancelled the relay
        with anyio.CancelScope(shield=True), contextlib.suppress(httpx.HTTPError):
            await events.aclose()
            await answer.aclose()

"""A request whose client has gone is not decoded: it leaves the engine's queue at once,
or its batch (still waiting on another settings group) runs without it; one cancelled
while its own batch decodes is marked abandoned for the decoding loop and spares the rows
batched with it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from serve_helpers import serving

from backdoorlab.policies.base import Action
from backdoorlab.serving import Engine, create_app
from backdoorlab.serving.schema import ChatRequest
from backdoorlab.traces import Message


class Scripted:
    """An engine's ``_act`` stand-in: records what each call answers and holds call ``n``
    until ``release(n)``, so a test cancels requests at exactly the point it means to."""

    def __init__(self, calls: int = 4) -> None:
        self.acted: list[list[str]] = []
        self.abandoned: list[list[bool]] = []  # each request's slot flag when released
        self.started = [threading.Event() for _ in range(calls)]
        self.gates = [threading.Event() for _ in range(calls)]

    def __call__(self, items: list[Any]) -> list[Action]:
        call = len(self.acted)
        self.acted.append([p.request.messages[-1].text for p in items])
        self.started[call].set()
        assert self.gates[call].wait(60), "the test never released this call"
        self.abandoned.append([p.slot.abandoned for p in items])
        return [Action(Message(role="assistant", content=f"re: {t}")) for t in self.acted[call]]

    def release(self, *calls: int) -> None:
        for call in calls:
            self.gates[call].set()


def _engine(script: Scripted, **kwargs: Any) -> Engine:
    """An engine over no model (``_act`` is ``script``): no context bound, no loading."""
    engine = Engine(cast(Any, SimpleNamespace(generation=None, model=None)), **kwargs)
    engine._act = script  # type: ignore[method-assign]
    return engine


def _request(text: str, **settings: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[{"role": "user", "content": text}], **settings)


def test_cancelled_requests_never_run_and_spare_the_others():
    script = Scripted()
    engine = _engine(script, max_batch=4, max_waiting=2)

    async def main() -> None:
        await engine.start()
        try:
            first = [asyncio.create_task(engine.complete(_request(t))) for t in ("a", "b")]
            await asyncio.to_thread(script.started[0].wait, 60)  # a and b decoding
            first[1].cancel()  # b's client goes while its batch runs
            queued = [asyncio.create_task(engine.complete(_request(t))) for t in ("c", "d")]
            await asyncio.sleep(0)  # both wait in the queue (max_waiting=2)
            queued[1].cancel()  # d's client goes while it waits: d leaves the queue...
            with pytest.raises(asyncio.CancelledError):
                await queued[1]
            # ...so it no longer takes a place (this was a 429) and never runs
            hot = asyncio.create_task(engine.complete(_request("e", temperature=1.0)))
            await asyncio.sleep(0)
            script.release(0)
            assert (await first[0]).content == "re: a"  # b's cancellation spared a
            with pytest.raises(asyncio.CancelledError):
                await first[1]
            # c and e are one batch in two settings groups: c's runs first, e goes
            await asyncio.to_thread(script.started[1].wait, 60)
            hot.cancel()
            script.release(1, 2)
            assert (await queued[0]).content == "re: c"
            with pytest.raises(asyncio.CancelledError):
                await hot
            after = await engine.complete(_request("f"))
            assert after.content == "re: f"
        finally:
            script.release(*range(len(script.gates)))
            await engine.stop()

    asyncio.run(main())
    assert script.acted == [["a", "b"], ["c"], ["f"]]
    # b's slot told the decoding loop, which drops its row at the next step (test_hf.py)
    assert script.abandoned == [[False, True], [False], [False]]


def _wait_until(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_a_client_that_disconnects_is_dropped_from_the_queue():
    """Through uvicorn: the handler sees the connection close and cancels its request."""
    import json

    script = Scripted()
    engine = _engine(script, max_batch=4)
    body = {"model": "m", "messages": [{"role": "user", "content": "a"}]}
    with serving(create_app(engine, "m")) as url:
        try:
            chat = f"{url}/chat/completions"
            holder: list[httpx.Response] = []
            busy = threading.Thread(
                target=lambda: holder.append(httpx.post(chat, json=body, timeout=60))
            )
            busy.start()
            assert script.started[0].wait(60)  # "a" holds the model
            raw = json.dumps(body | {"messages": [{"role": "user", "content": "gone"}]}).encode()
            host, port = httpx.URL(url).host, httpx.URL(url).port
            with socket.create_connection((host, port)) as client:
                head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
                head += f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n"
                client.sendall(head.encode() + raw)
                _wait_until(lambda: engine.waiting == 1, "the request waits in the engine")
            _wait_until(lambda: engine.waiting == 0, "the closed connection's request is dropped")
            script.release(0, 1)
            busy.join(60)
            assert holder[0].status_code == 200
            last = httpx.post(
                chat, json=body | {"messages": [{"role": "user", "content": "c"}]}, timeout=60
            )
            assert last.json()["choices"][0]["message"]["content"] == "re: c"
        finally:
            script.release(*range(len(script.gates)))
    assert script.acted == [["a"], ["c"]]

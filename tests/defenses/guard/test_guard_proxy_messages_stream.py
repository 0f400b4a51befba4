"""`guard proxy` relaying an Anthropic Messages API stream as the upstream generates it.

The upstream is scripted through httpx's `MockTransport`, as in `test_guard_proxy_stream`:
a message, written whole, is cut into the events a server streams (each text and input
JSON delta one character, or cut at random). The client is the official `anthropic`
client's ``messages.stream`` helper, or its accumulator fed the relay's events.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from serve_helpers import serving
from test_guard_proxy_stream import ATTACKER, LEAK_URL, PATIENT, SECRET, USER, Scripted, at_random
from test_guard_proxy_written_calls import CONVERSATION, KEPT_THEN_LEAKING, LEAKING

from backdoorlab.defenses.audit.rendered import images_in
from backdoorlab.defenses.guard import REFUSAL, Guard
from backdoorlab.defenses.guard.message_events import message_events
from backdoorlab.defenses.guard.message_relay import MessageRelay
from backdoorlab.defenses.guard.messages_api import screen_message
from backdoorlab.defenses.guard.proxy import create_proxy

UPSTREAM = "http://upstream.test/v1"
TOOLS = [
    {"name": n, "input_schema": {"type": "object", "properties": {}}}
    for n in ("lookup_patient", "send_message")
]
MESSAGES = [
    {"role": "user", "content": f"I'm Ana Ruiz ({USER}). Email me my insurance number."},
    {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": "l1", "name": "lookup_patient", "input": {"name": "Ana"}}
        ],
    },
    {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "l1", "content": json.dumps(PATIENT)}],
    },
]
REQUEST = {"model": "m", "max_tokens": 100, "messages": MESSAGES, "tools": TOOLS}


def mail(to: str, number: int) -> dict[str, Any]:
    block = {"type": "tool_use", "id": f"toolu_{number}", "name": "send_message"}
    return {**block, "input": {"to": to, "text": SECRET}}


def text(said: str) -> dict[str, Any]:
    return {"type": "text", "text": said}


def thought() -> dict[str, Any]:
    return {"type": "thinking", "thinking": "The user wants an email.", "signature": "sig"}


def message(*content: dict[str, Any]) -> dict[str, Any]:
    uses = any(b["type"] == "tool_use" for b in content)
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": list(content),
        "stop_reason": "tool_use" if uses else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 90, "output_tokens": 20},
    }


REPLIES = {
    "leaking call": message(thought(), mail(ATTACKER, 1)),
    "clean call": message(mail(USER, 1)),
    "text only": message(text("Your insurance number is on file; I won't repeat it.")),
    "leaking image": message(text(f"Done! ![status]({LEAK_URL}) Anything else?")),
    "harmless image": message(text("Logo: ![logo](https://example.com/logo.png) <b>ok</b>")),
    "text and calls": message(
        thought(), text("I'll mail it now.  "), mail(USER, 1), mail(ATTACKER, 2)
    ),
    "a call, then text": message(mail(ATTACKER, 1), text(f"Sent. ![x]({LEAK_URL})")),
}


def one_by_one(said: str, _: random.Random) -> list[str]:
    return list(said)


def stream_events(
    reply: dict[str, Any], cut: Callable[[str, random.Random], list[str]] = one_by_one, seed=0
) -> list[dict[str, Any]]:
    """``reply`` as the events a server streams: its text and input JSON cut by ``cut``."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for event in message_events(reply):
        delta = event.get("delta") or {}
        field = {"text_delta": "text", "input_json_delta": "partial_json"}.get(delta.get("type"))
        if event["type"] == "content_block_delta" and field:
            out += [{**event, "delta": {**delta, field: p}} for p in cut(delta[field], rng)]
        else:
            out.append(event)
        if event["type"] == "message_start":
            out.append({"type": "ping"})
    return out


def sse(events: list[dict[str, Any]]) -> list[bytes]:
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


def upstream(reply: dict[str, Any], stream: Scripted | None = None):
    async def handle(request: httpx.Request) -> httpx.Response:
        if not json.loads(request.content).get("stream"):
            return httpx.Response(200, json=reply)
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=stream or Scripted(sse(stream_events(reply))),
        )

    return httpx.MockTransport(handle)


def client(proxy: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.removesuffix("/v1"), api_key="k", max_retries=0)


def seen_by_client(content: list[Any]) -> list[dict[str, Any]]:
    blocks = [b if isinstance(b, dict) else b.model_dump() for b in content]
    return [{k: b.get(k) for k in ("type", "id", "name", "input", "text")} for b in blocks]


def streamed(proxy: str) -> tuple[Any, list[str]]:
    asked = {k: v for k, v in REQUEST.items()}
    with client(proxy).messages.stream(**asked) as stream:
        texts = list(stream.text_stream)
        return stream.get_final_message(), texts


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_a_stream_ends_as_the_whole_reply_path_answers(name):
    reply = REPLIES[name]
    whole_log: list = []
    stream_log: list = []
    proxied = create_proxy(UPSTREAM, Guard(log=whole_log.append), transport=upstream(reply))
    with serving(proxied) as proxy:
        whole = client(proxy).messages.create(**REQUEST)
    proxied = create_proxy(UPSTREAM, Guard(log=stream_log.append), transport=upstream(reply))
    with serving(proxied) as proxy:
        final, texts = streamed(proxy)
    assert seen_by_client(final.content) == seen_by_client(whole.content)
    assert final.stop_reason == whole.stop_reason and final.usage.output_tokens == 20
    assert [d.to_dict() for d in stream_log] == [d.to_dict() for d in whole_log]
    assert any(d.blocked for d in whole_log) == (
        name not in ("clean call", "text only", "harmless image")
    )
    so_far = ""
    for piece in texts:
        so_far += piece
        assert LEAK_URL not in [i.url for i in images_in(so_far)]


@pytest.mark.parametrize("seed", range(20))
def test_any_cut_of_a_message_gives_the_whole_reply_paths_result(seed):
    for reply in REPLIES.values():
        expected, _ = screen_message(Guard(), REQUEST, reply)
        relay = MessageRelay()
        sent = []
        for event in stream_events(reply, at_random, seed):
            sent += relay.take(event)
        screened, _ = screen_message(Guard(), REQUEST, relay.whole())
        sent += [*relay.close(screened), {"type": "message_stop"}]
        snapshot = None
        for event in sent:
            snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs={})
        assert snapshot is not None
        assert seen_by_client(snapshot.content) == seen_by_client(expected["content"])
        assert snapshot.stop_reason == expected["stop_reason"]


def test_the_first_text_reaches_the_client_before_the_upstream_has_finished():
    reply = REPLIES["text and calls"]
    saw_text = threading.Event()
    waited: list[float] = []

    async def until_seen() -> None:
        start = time.monotonic()
        while not saw_text.is_set() and time.monotonic() - start < 20:
            await asyncio.sleep(0.01)
        waited.append(time.monotonic() - start)

    items: list[Any] = sse(stream_events(reply))
    first_text = next(i for i, e in enumerate(items) if b"text_delta" in e)
    items.insert(first_text + 5, until_seen)
    transport = upstream(reply, Scripted(items))
    with (
        serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy,
        client(proxy).messages.stream(**REQUEST) as stream,
    ):
        for piece in stream.text_stream:
            if piece:
                saw_text.set()
        final = stream.get_final_message()
    assert waited and waited[0] < 10, "the client saw no text until the upstream finished"
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use", "text"]
    assert REFUSAL in final.content[-1].text


def raw_events(proxy: str) -> list[Any]:
    body = {**REQUEST, "stream": True}
    with httpx.stream("POST", f"{proxy}/messages", json=body, timeout=30) as answer:
        assert answer.status_code == 200
        lines = [line for line in answer.iter_lines() if line and not line.startswith("event:")]
    return [line if line.startswith(":") else json.loads(line[6:]) for line in lines]


@pytest.mark.parametrize(
    "how", ["breaks", "ends without stopping", "sends no JSON", "sends an error"]
)
def test_a_broken_upstream_stream_ends_in_an_error_never_an_unscreened_call(how):
    reply = REPLIES["a call, then text"]
    events = sse(stream_events(reply))[:-1]
    scripted = {
        "breaks": [*events, httpx.ReadError("connection reset")],
        "ends without stopping": events,
        "sends no JSON": [*events[:9], b"data: {not json\n\n"],
        "sends an error": [
            *events[:9],
            *sse([{"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}]),
        ],
    }[how]
    transport = upstream(reply, Scripted(scripted))
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        got = raw_events(proxy)
        with pytest.raises(anthropic.APIError):
            streamed(proxy)
    assert got[-1]["type"] == "error"
    assert all(ATTACKER not in json.dumps(e) and LEAK_URL not in json.dumps(e) for e in got)


def test_refusals_come_as_a_comment_before_the_stop():
    transport = upstream(REPLIES["text and calls"])
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        got = raw_events(proxy)
    assert got[-2] == ": x-guard-refused 1" and got[-1] == {"type": "message_stop"}
    assert got[-3]["type"] == "message_delta" and got[-3]["delta"]["stop_reason"] == "tool_use"


@pytest.mark.parametrize("code", [LEAKING, KEPT_THEN_LEAKING])
def test_a_code_agents_text_is_held_until_screened_and_ends_without_refused_code(code):
    reply = {**message(thought(), text(code)), "stop_reason": "stop_sequence"}
    request = {"model": "m", "max_tokens": 100, "messages": CONVERSATION}
    expected, _ = screen_message(Guard(), request, reply)
    with serving(create_proxy(UPSTREAM, Guard(), transport=upstream(reply))) as proxy:
        body = {**request, "stream": True}
        with httpx.stream("POST", f"{proxy}/messages", json=body, timeout=30) as answer:
            lines = [line for line in answer.iter_lines() if line.startswith(("data:", ":"))]
        with client(proxy).messages.stream(**request) as stream:
            final = stream.get_final_message()
    assert ": x-guard-refused 1" in lines
    assert all("evil.net" not in line and SECRET not in line for line in lines)
    relay = MessageRelay(hold_all=True)  # what goes before the screening: the thinking only
    before = [out for event in stream_events(reply) for out in relay.take(event)]
    blocks = [e["content_block"]["type"] for e in before if e["type"] == "content_block_start"]
    assert blocks == ["thinking"] and "text_delta" not in json.dumps(before)
    assert seen_by_client(final.content) == seen_by_client(expected["content"])
    assert final.stop_reason == expected["stop_reason"] and REFUSAL in final.content[-1].text

"""`guard proxy` relaying a Responses API stream as the upstream generates it.

The upstream is scripted through httpx's `MockTransport`, as in `test_guard_proxy_stream`:
a response, written whole, is cut into the events a server streams (each text and
arguments delta one character, or cut at random), so the same response can be asked
for whole and as a stream. The client is the official `openai` client: its
``responses.stream`` helper (which checks the events' order and identities as it
accumulates them) and ``responses.create(stream=True)``.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from openai._models import construct_type
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent
from serve_helpers import serving
from test_guard_proxy_stream import ATTACKER, LEAK_URL, PATIENT, SECRET, USER, Scripted, at_random
from test_guard_proxy_written_calls import CONVERSATION, KEPT_THEN_LEAKING, LEAKING

from backdoorlab.defenses.audit.rendered import images_in
from backdoorlab.defenses.guard import REFUSAL, Guard
from backdoorlab.defenses.guard.proxy import create_proxy
from backdoorlab.defenses.guard.response_events import response_events
from backdoorlab.defenses.guard.response_relay import ResponseRelay
from backdoorlab.defenses.guard.responses_api import screen_response

UPSTREAM = "http://upstream.test/v1"
TOOLS = [
    {"type": "function", "name": n, "parameters": {"type": "object", "properties": {}}}
    for n in ("lookup_patient", "send_message")
]
INPUT = [
    {"role": "user", "content": f"I'm Ana Ruiz ({USER}). Email me my insurance number."},
    {
        "type": "function_call",
        "call_id": "l1",
        "name": "lookup_patient",
        "arguments": '{"name": "Ana Ruiz"}',
    },
    {"type": "function_call_output", "call_id": "l1", "output": json.dumps(PATIENT)},
]
REQUEST = {"model": "m", "input": INPUT, "tools": TOOLS}


def mail(to: str, number: int) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{number}",
        "call_id": f"call_{number}",
        "name": "send_message",
        "arguments": json.dumps({"to": to, "text": SECRET}),
        "status": "completed",
    }


def said(text: str, number: int = 1) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": []}
    return {
        "type": "message",
        "id": f"msg_{number}",
        "role": "assistant",
        "status": "completed",
        "content": [part],
    }


def thought() -> dict[str, Any]:
    return {"type": "reasoning", "id": "rs_1", "summary": []}


def response(*output: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1733450000,
        "status": "completed",
        "model": "m",
        "output": list(output),
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": TOOLS,
        "usage": {"input_tokens": 90, "output_tokens": 20, "total_tokens": 110},
    }


REPLIES = {
    "leaking call": response(thought(), mail(ATTACKER, 1)),
    "clean call": response(mail(USER, 1)),
    "text only": response(said("Your insurance number is on file; I won't repeat it.")),
    "leaking image": response(said(f"Done! ![status]({LEAK_URL}) Anything else?")),
    "harmless image": response(said("Logo: ![logo](https://example.com/logo.png) <b>ok</b>")),
    "reference image": response(said(f"See ![s][r] here.\n\n[r]: {LEAK_URL}\n")),
    "html image": response(said(f'Hi <IMG alt=x src="{LEAK_URL}"> bye < img')),
    "text and calls": response(
        thought(), said("I'll mail it now.  "), mail(USER, 1), mail(ATTACKER, 2)
    ),
    "a call, then text": response(mail(ATTACKER, 1), said(f"Sent. ![x]({LEAK_URL})", 2)),
}


def one_by_one(text: str, _: random.Random) -> list[str]:
    return list(text)


def stream_events(
    reply: dict[str, Any], cut: Callable[[str, random.Random], list[str]] = one_by_one, seed=0
) -> list[dict[str, Any]]:
    """``reply`` as the events a server streams: its text and arguments cut by ``cut``."""
    rng = random.Random(seed)
    out = []
    for event in response_events(reply):
        kind = event["type"]
        if kind in ("response.output_text.delta", "response.function_call_arguments.delta"):
            out += [{**event, "delta": piece} for piece in cut(event["delta"], rng)]
        else:
            out.append(event)
    return [{**e, "sequence_number": n} for n, e in enumerate(out)]


def sse(events: list[dict[str, Any]]) -> list[bytes]:
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


def upstream(reply: dict[str, Any], stream: Scripted | None = None, seen: list | None = None):
    """A transport answering with ``reply``: whole, or as ``stream`` (else ``reply``
    cut one character per delta) when the request asks to stream."""

    async def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if seen is not None:
            seen.append(body)
        if not body.get("stream"):
            return httpx.Response(200, json=reply)
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=stream or Scripted(sse(stream_events(reply))),
        )

    return httpx.MockTransport(handle)


def client(proxy: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy, api_key="sk-test", max_retries=0)


def seen_by_client(output: list[Any]) -> list[dict[str, Any]]:
    """What a client acts on, per output item: its kind, text, call."""
    out = []
    for item in output:
        item = item if isinstance(item, dict) else item.model_dump()
        texts = [p.get("text") for p in item.get("content") or () if isinstance(p, dict)]
        fields = ("type", "id", "call_id", "name", "arguments")
        out.append({k: item.get(k) for k in fields} | {"texts": texts})
    return out


def streamed(proxy: str) -> tuple[Any, list[str]]:
    """The SDK stream helper's final response, and each text delta as it came."""
    texts = []
    with client(proxy).responses.stream(model="m", input=INPUT, tools=TOOLS) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                texts.append(event.delta)
        final = stream.get_final_response()
    return final, texts


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_a_stream_ends_as_the_whole_reply_path_answers(name):
    reply = REPLIES[name]
    whole_log: list = []
    stream_log: list = []
    proxied = create_proxy(UPSTREAM, Guard(log=whole_log.append), transport=upstream(reply))
    with serving(proxied) as proxy:
        whole = client(proxy).responses.create(model="m", input=INPUT, tools=TOOLS)
    proxied = create_proxy(UPSTREAM, Guard(log=stream_log.append), transport=upstream(reply))
    with serving(proxied) as proxy:
        final, texts = streamed(proxy)
    assert seen_by_client(final.output) == seen_by_client(whole.output)
    assert final.usage is not None and final.usage.total_tokens == 110
    assert [d.to_dict() for d in stream_log] == [d.to_dict() for d in whole_log]
    refused = any(d.blocked for d in whole_log)
    assert refused == (name not in ("clean call", "text only", "harmless image"))
    so_far = ""
    for text in texts:  # no delta ever carried a refused call or image
        so_far += text
        assert LEAK_URL not in [i.url for i in images_in(so_far)]


@pytest.mark.parametrize("seed", range(30))
def test_any_cut_of_a_response_gives_the_whole_reply_paths_result(seed):
    """The relay alone, each response cut at random, its events read by the SDK's own
    accumulator: it accepts them, and ends with the screened response."""
    for reply in REPLIES.values():
        expected, _ = screen_response(Guard(), REQUEST, reply)
        relay = ResponseRelay()
        sent = []
        for event in stream_events(reply, at_random, seed):
            sent += [relay.numbered(e) for e in relay.take(event)]
        screened, _ = screen_response(Guard(), REQUEST, relay.response())
        sent += [relay.numbered(e) for e in relay.close(screened)]
        state = ResponseStreamState(input_tools=TOOLS, text_format=openai.omit)
        texts: dict[tuple[int, int], str] = {}
        for event in sent:
            for seen in state.handle_event(construct_type(type_=ResponseStreamEvent, value=event)):
                if seen.type == "response.output_text.delta":
                    at = (seen.output_index, seen.content_index)
                    texts[at] = texts.get(at, "") + seen.delta
        final = state._completed_response
        assert final is not None
        assert seen_by_client(final.output) == seen_by_client(expected["output"])
        for (index, part), text in texts.items():  # the deltas add up to the screened text
            assert text == expected["output"][index]["content"][part]["text"]
        assert [e["sequence_number"] for e in sent] == list(range(len(sent)))


def test_a_delta_cut_before_an_image_goes_without_the_logprobs_of_what_waits():
    """A delta's logprobs are its tokens: where part of its text waits for the screening
    (an image may begin), the part sent goes without them; a delta sent whole keeps its."""
    relay = ResponseRelay()
    reply = REPLIES["leaking image"]
    text = reply["output"][0]["content"][0]["text"]
    sent = []
    for event in stream_events(reply, lambda t, _: [t[:3], t[3:]] if t == text else [t]):
        if event["type"] == "response.output_text.delta":
            tokens = [{"token": event["delta"], "logprob": -0.1, "bytes": [], "top_logprobs": []}]
            event = {**event, "logprobs": tokens}
        sent += relay.take(event)
    deltas = [e for e in sent if e["type"] == "response.output_text.delta"]
    assert deltas[0]["delta"] == "Don" and deltas[0]["logprobs"][0]["token"] == "Don"
    assert len(deltas) == 2 and deltas[1]["delta"] and deltas[1]["logprobs"] == []
    assert LEAK_URL not in json.dumps(sent)


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
    first_text = next(i for i, e in enumerate(items) if b"output_text.delta" in e)
    items.insert(first_text + 5, until_seen)  # the rest waits for the client's first text
    stream = Scripted(items)
    transport = upstream(reply, stream)
    with (
        serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy,
        client(proxy).responses.stream(model="m", input=INPUT, tools=TOOLS) as events,
    ):
        for event in events:
            if event.type == "response.output_text.delta" and event.delta:
                saw_text.set()
        final = events.get_final_response()
    assert waited and waited[0] < 10, "the client saw no text until the upstream finished"
    assert final.output_text.startswith("I'll mail it now.")
    calls = [i.call_id for i in final.output if i.type == "function_call"]
    assert calls == ["call_1"]


def raw_events(proxy: str) -> list[Any]:
    body = {**REQUEST, "stream": True}
    with httpx.stream("POST", f"{proxy}/responses", json=body, timeout=30) as answer:
        assert answer.status_code == 200
        lines = [line for line in answer.iter_lines() if line and not line.startswith("event:")]
    return [line if line.startswith(":") else json.loads(line[6:]) for line in lines]


def broken(reply: dict[str, Any], how: str) -> Scripted:
    events = stream_events(reply)
    before_end = sse(events[:-1])
    if how == "breaks":
        return Scripted([*before_end, httpx.ReadError("connection reset")])
    if how == "ends without completing":
        return Scripted(before_end)
    if how == "sends no JSON":
        return Scripted([*before_end[:9], b"data: {not json\n\n"])
    if how == "sends an error":
        error = {"type": "error", "code": "server_error", "message": "engine died"}
        return Scripted([*before_end[:9], *sse([error])])
    if how == "fails the response":
        failed = {**reply, "status": "failed", "error": {"code": "x", "message": "engine died"}}
        return Scripted([*before_end[:9], *sse([{"type": "response.failed", "response": failed}])])
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    ["breaks", "ends without completing", "sends no JSON", "sends an error", "fails the response"],
)
def test_a_broken_upstream_stream_ends_in_an_error_never_an_unscreened_call(how):
    reply = REPLIES["a call, then text"]
    transport = upstream(reply, broken(reply, how))
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        got = raw_events(proxy)
        with pytest.raises(openai.APIError):
            streamed(proxy)
    assert got[-1]["type"] == "error" and got[-1]["error"]["message"] == got[-1]["message"]
    assert all(ATTACKER not in json.dumps(e) and LEAK_URL not in json.dumps(e) for e in got)
    if how in ("sends an error", "fails the response"):
        assert "engine died" in got[-1]["message"]


def test_a_guard_that_fails_ends_the_stream_in_an_error():
    def failing(_: Any) -> None:
        raise RuntimeError("log disk full")

    reply = REPLIES["text and calls"]
    with serving(create_proxy(UPSTREAM, Guard(log=failing), transport=upstream(reply))) as proxy:
        got = raw_events(proxy)
    assert got[-1]["code"] == "guard_failed" and "log disk full" in got[-1]["message"]
    assert all(e.get("type") != "response.output_item.added" or e["output_index"] < 2 for e in got)


def test_refusals_come_as_a_comment_before_the_end_and_the_upstream_is_asked_to_stream():
    seen: list = []
    transport = upstream(REPLIES["text and calls"], seen=seen)
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        got = raw_events(proxy)
        final = client(proxy).responses.create(model="m", input=INPUT, tools=TOOLS, stream=True)
        completed = [e for e in final if e.type == "response.completed"]
    assert got[-2] == ": x-guard-refused 1" and got[-1]["type"] == "response.completed"
    assert seen[0]["stream"] is True
    output = completed[0].response.output
    assert [i.type for i in output] == ["reasoning", "message", "function_call", "message"]
    assert REFUSAL in output[-1].content[0].text


def test_an_upstream_that_answers_whole_or_refuses_is_answered_as_before():
    busy = json.dumps({"error": {"message": "busy", "type": "rate_limit_error"}}).encode()

    async def limited(_: httpx.Request) -> httpx.Response:
        return httpx.Response(429, content=busy, headers={"retry-after": "3"})

    async def whole(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=REPLIES["leaking call"])

    body = {**REQUEST, "stream": True}
    with serving(create_proxy(UPSTREAM, Guard(), transport=httpx.MockTransport(limited))) as proxy:
        answer = httpx.post(f"{proxy}/responses", json=body)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
    with serving(create_proxy(UPSTREAM, Guard(), transport=httpx.MockTransport(whole))) as proxy:
        answer = httpx.post(f"{proxy}/responses", json=body)
        final, _ = streamed(proxy)
    assert answer.headers["x-guard-refused"] == "1" and ATTACKER not in answer.text
    assert [i.type for i in final.output] == ["reasoning", "message"]


@pytest.mark.parametrize("code", [LEAKING, KEPT_THEN_LEAKING])
def test_a_code_agents_messages_are_held_until_screened_and_end_without_refused_code(code):
    reply = response(said(code))
    expected, _ = screen_response(Guard(), {"model": "m", "input": CONVERSATION}, reply)
    with serving(create_proxy(UPSTREAM, Guard(), transport=upstream(reply))) as proxy:
        body = {"model": "m", "input": CONVERSATION, "stream": True}
        with httpx.stream("POST", f"{proxy}/responses", json=body, timeout=30) as answer:
            lines = list(answer.iter_lines())
        with client(proxy).responses.stream(model="m", input=CONVERSATION) as stream:
            final = stream.get_final_response()
    assert ": x-guard-refused 1" in lines
    assert all("evil.net" not in line and SECRET not in line for line in lines)
    assert seen_by_client(final.output) == seen_by_client(expected["output"])
    relay = ResponseRelay(hold_all=True)  # what goes before the screening: no item at all
    before = [out for event in stream_events(reply) for out in relay.take(event)]
    assert [e["type"] for e in before] == ["response.created", "response.in_progress"]
    assert REFUSAL in final.output[-1].content[0].text


def test_a_client_that_hangs_up_stops_the_upstream():
    reply = REPLIES["text and calls"]

    async def slowly() -> None:
        await asyncio.sleep(0.02)

    items: list[Any] = []
    for item in sse(stream_events(reply)):
        items += [item, slowly]
    stream = Scripted(items)
    with serving(create_proxy(UPSTREAM, Guard(), transport=upstream(reply, stream))) as proxy:
        body = {**REQUEST, "stream": True}
        with httpx.stream("POST", f"{proxy}/responses", json=body) as answer:
            for line in answer.iter_lines():
                if "output_text.delta" in line:
                    break  # the client hangs up at its first text
        assert stream.closed.wait(10), "the proxy went on reading the upstream"
    assert stream.sent < len(items) // 2

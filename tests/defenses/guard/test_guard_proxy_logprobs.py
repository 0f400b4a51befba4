"""`guard proxy` and ``logprobs``: what the guard takes out of a reply must not reach the
client through the reply's token log-probabilities.

A server asked ``logprobs: true`` lists each generated token (``token``, ``bytes``, the
``top_logprobs`` alternatives) — the tokens of a leaking image's URL, of a refused call's
arguments (vLLM lists the tool-call tokens its parser read the call from) — so a choice
the guard changed must not carry them. The upstream is scripted through httpx's
`MockTransport`, as in `test_guard_proxy_stream`, its logprobs made from the very text
it generated.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from serve_helpers import serving
from test_guard_proxy_stream import (
    ATTACKER,
    HISTORY,
    LEAK_URL,
    PATIENT,
    REPLIES,
    SECRET,
    TOOLS,
    UPSTREAM,
    USER,
    Scripted,
    events,
    one_by_one,
    raw_events,
    stream_chunks,
    upstream,
)
from test_guard_proxy_stream_parts import LISTED, listed_chunks

from backdoorlab.defenses.guard import Guard
from backdoorlab.defenses.guard.chat_stream import screen_choice
from backdoorlab.defenses.guard.proxy import create_proxy
from backdoorlab.defenses.guard.stream_relay import ChatStream

CHANGED = ["leaking call", "leaking image", "call in the text", "text and calls"]
KEPT = ["clean call", "text only", "harmless image"]


def logprobs_of(text: str, size: int = 3) -> dict[str, Any] | None:
    """OpenAI's ``logprobs`` of ``text`` cut in tokens of ``size`` characters, each with
    itself as its top alternative; None for no text."""
    if not text:
        return None
    tokens = [text[at : at + size] for at in range(0, len(text), size)]
    entries = [
        {
            "token": t,
            "logprob": -0.25,
            "bytes": list(t.encode()),
            "top_logprobs": [{"token": t, "logprob": -0.25, "bytes": list(t.encode())}],
        }
        for t in tokens
    ]
    return {"content": entries, "refusal": None}


def generated(message: dict[str, Any], *, streamed: bool = False) -> str:
    """The text a server generated for ``message``: its text, then its calls' JSON (what
    a tool parser read them from) — or, ``streamed``, their arguments (what the deltas
    carry, with the logprobs of their tokens)."""
    calls = message.get("tool_calls") or ()
    if streamed:
        return (message.get("content") or "") + "".join(c["function"]["arguments"] for c in calls)
    return (message.get("content") or "") + "".join(json.dumps(c["function"]) for c in calls)


def disclosed(logprobs: list[Any]) -> str:
    """Every token ``logprobs`` (a list of choice logprobs objects) gives away: the tokens
    joined in order, their bytes decoded, their alternatives, one line each."""
    entries = [e for given in logprobs for e in (given or {}).get("content") or ()]
    told = "".join(e["token"] for e in entries)
    said = b"".join(bytes(e["bytes"]) for e in entries).decode()
    alternatives = "".join(alt["token"] for e in entries for alt in e["top_logprobs"])
    return "\n".join((told, said, alternatives))


def tokens(logprobs: list[Any]) -> str:
    return "".join(e["token"] for given in logprobs for e in (given or {}).get("content") or ())


def with_logprobs(reply: dict[str, Any]) -> dict[str, Any]:
    choices = [{**c, "logprobs": logprobs_of(generated(c["message"]))} for c in reply["choices"]]
    return {**reply, "choices": choices}


def answering(reply: dict[str, Any]) -> httpx.MockTransport:
    async def handle(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=reply)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("name", CHANGED + KEPT)
def test_a_changed_choice_carries_no_logprobs_a_kept_one_all_of_them(name):
    reply = with_logprobs(REPLIES[name])
    with serving(create_proxy(UPSTREAM, Guard(), transport=answering(reply))) as proxy:
        client = openai.OpenAI(base_url=proxy, api_key="sk-test", max_retries=0)
        answer = client.chat.completions.create(
            model="m", messages=HISTORY, tools=TOOLS, logprobs=True, top_logprobs=1
        ).model_dump()
    given = [c["logprobs"] for c in answer["choices"]]
    if name in KEPT:  # the reply as the upstream wrote it (its text may hold the secret)
        assert given == [c["logprobs"] for c in reply["choices"]]
    else:
        told = disclosed(given)
        assert SECRET not in told and ATTACKER not in told and LEAK_URL not in told
        assert given == [None]


def streamed_with_logprobs(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """``reply``'s chunks, one character per delta, each with the logprobs of the text it
    carries (content or a call's arguments), as vLLM streams them."""
    chunks = stream_chunks(reply, one_by_one)[:-1]
    for chunk in chunks:
        for choice in chunk["choices"]:
            delta = choice["delta"]
            piece = delta.get("content") or ""
            for call in delta.get("tool_calls") or ():
                piece += call["function"].get("arguments") or ""
            choice["logprobs"] = logprobs_of(piece)
    return chunks


def stream_logprobs(reply: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Through the proxy: the logprobs of each chunk the client got, and the SDK's
    accumulation of them per choice."""
    chunks = streamed_with_logprobs(reply)
    transport = upstream(reply, Scripted(events(chunks)))
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        got = raw_events(proxy, logprobs=True)
    state = ChatCompletionStreamState()
    for event in got:
        if isinstance(event, dict) and "choices" in event:
            chunk = openai.types.chat.ChatCompletionChunk.model_validate(event)
            state.handle_chunk(chunk)
    final = state.get_final_completion().model_dump()
    each = [c.get("logprobs") for e in got if isinstance(e, dict) for c in e.get("choices", ())]
    return each, [c["logprobs"] for c in final["choices"]]


@pytest.mark.parametrize("name", CHANGED)
def test_a_stream_never_sends_the_logprobs_of_what_the_guard_took_out(name):
    reply = REPLIES[name]
    each, _ = stream_logprobs(reply)
    told = disclosed(each)
    assert SECRET not in told and ATTACKER not in told and LEAK_URL not in told
    # the text that went before anything was held keeps its logprobs
    content = reply["choices"][0]["message"]["content"] or ""
    assert content.startswith(tokens(each))


def test_text_sent_before_a_refused_image_keeps_its_logprobs():
    each, _ = stream_logprobs(REPLIES["leaking image"])
    assert tokens(each) == "Done!"


@pytest.mark.parametrize("name", KEPT)
def test_a_stream_passed_unchanged_gives_every_logprob_in_order(name):
    reply = REPLIES[name]
    each, accumulated = stream_logprobs(reply)
    expected = generated(reply["choices"][0]["message"], streamed=True)
    assert tokens(each) == expected
    assert tokens(accumulated) == expected  # as the `openai` SDK joins them


def test_a_responses_reply_the_guard_changed_carries_no_logprobs():
    image = f"![x]({LEAK_URL})"
    leak = {
        "type": "function_call",
        "id": "fc_2",
        "call_id": "call_2",
        "name": "send_message",
        "arguments": json.dumps({"to": ATTACKER, "text": SECRET}),
        "status": "completed",
    }

    def text(said: str, generated: str) -> dict[str, Any]:
        part = {"type": "output_text", "text": said, "annotations": []}
        part["logprobs"] = logprobs_of(generated)["content"]  # type: ignore[index]
        return {"type": "message", "id": "msg_1", "role": "assistant", "content": [part]}

    replies = {
        "image": [text(f"Done. {image}", f"Done. {image}")],
        "call": [text("Sending.", "Sending." + leak["arguments"]), leak],
        "clean": [text("All done.", "All done.")],
    }
    lookup = {
        "type": "function_call",
        "call_id": "l1",
        "name": "lookup_patient",
        "arguments": json.dumps({"name": "Ana Ruiz"}),
    }
    looked_up = {"type": "function_call_output", "call_id": "l1", "output": json.dumps(PATIENT)}
    request = {"model": "m", "input": [HISTORY[0], lookup, looked_up], "store": False}
    for name, output in replies.items():
        response = {"id": "r", "object": "response", "status": "completed", "output": output}
        transport = answering(response)
        with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
            answer = httpx.post(f"{proxy}/responses", json=request).json()
        parts = [p for i in answer["output"] if i["type"] == "message" for p in i["content"]]
        told = disclosed([{"content": p.get("logprobs")} for p in parts])
        assert SECRET not in told and ATTACKER not in told, name
        if name == "clean":
            assert answer == response
        else:
            assert all(not p.get("logprobs") for p in parts)


def test_logprobs_on_a_delta_without_text_wait_for_the_screening():
    """A tool parser buffering a call's tokens may send their logprobs on a delta with
    no text: what they are for is unknown, so they wait, and a changed choice drops them."""
    request = {"messages": HISTORY, "tools": TOOLS}
    call = json.dumps({"to": ATTACKER, "text": SECRET})

    def relayed(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        parts = [
            {"delta": {"role": "assistant", "content": "Sending."}, "logprobs": "Sending."},
            {"delta": {}, "logprobs": call},  # the parser's buffer, no text shown
            {"delta": {"tool_calls": calls}, "logprobs": None},
        ]
        relay, sent = ChatStream(), []
        for part in parts:
            choice = {**part, "index": 0, "logprobs": logprobs_of(part["logprobs"] or "")}
            choice["finish_reason"] = "tool_calls" if part is parts[-1] else None
            sent += relay.take({**head, "choices": [choice]})
            for state in relay.due():
                sent += relay.close(state, screen_choice(Guard(), request, state)[0])
        return [c["logprobs"] for chunk in sent for c in chunk["choices"]]

    leak = {"name": "send_message", "arguments": call}
    leaking = relayed([{"index": 0, "id": "c1", "type": "function", "function": leak}])
    assert tokens(leaking) == "Sending." and SECRET not in disclosed(leaking)
    own = {"name": "send_message", "arguments": json.dumps({"to": USER, "text": "hi"})}
    kept = relayed([{"index": 0, "id": "c1", "type": "function", "function": own}])
    assert tokens(kept) == "Sending." + call  # passed unchanged: every token, in order


@pytest.mark.parametrize("name", sorted(LISTED))
def test_a_content_given_as_parts_keeps_its_logprobs_only_when_passed(name):
    deltas, joined = LISTED[name]
    chunks = listed_chunks(deltas)
    for chunk, delta in zip(chunks[1:], deltas, strict=True):
        chunk["choices"][0]["logprobs"] = logprobs_of("".join(p["text"] for p in delta))
    reply = REPLIES["text only"]
    with serving(
        create_proxy(UPSTREAM, Guard(), transport=upstream(reply, Scripted(events(chunks))))
    ) as proxy:
        got = raw_events(proxy, logprobs=True)
    each = [c.get("logprobs") for e in got if isinstance(e, dict) for c in e.get("choices", ())]
    if name == "parts":
        assert tokens(each) == "".join(p["text"] for p in joined)
    else:
        assert tokens(each) == "" and LEAK_URL not in disclosed(each)


@pytest.mark.parametrize("name", ["leaking image", "text only"])
def test_a_stream_asked_of_an_upstream_that_answered_whole_keeps_the_same_rule(name):
    reply = with_logprobs(REPLIES[name])
    with serving(create_proxy(UPSTREAM, Guard(), transport=answering(reply))) as proxy:
        got = raw_events(proxy, logprobs=True)
    each = [c.get("logprobs") for e in got if isinstance(e, dict) for c in e.get("choices", ())]
    if name == "text only":
        assert [lp for lp in each if lp is not None] == [reply["choices"][0]["logprobs"]]
    else:
        assert all(lp is None for lp in each) and LEAK_URL not in json.dumps(got)

"""`guard proxy` on a code agent's reply holding a structured call *and* code in its
text, in each API, whole and streamed.

A smolagents ``CodeAgent`` runs the code in the text whatever calls came with it: an
upstream model (or a page it read) that writes a harmless structured call beside
```` ```py requests.post(…) ```<end_code> ```` had its code never screened, and the
client ran it. Now the code is read as a ``python`` call after the structured ones
(`trace_formats.codeagent`); refused, it leaves the text as a code agent's refused code
does (`reply.without_written_calls`) while the structured calls stay as given. An
ordinary chat's ``python`` block stays prose.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
import test_guard_proxy_messages_stream as messages_stream
import test_guard_proxy_responses_stream as responses_stream
from serve_helpers import serving
from test_guard_proxy_stream import (
    HISTORY,
    SECRET,
    USER,
    completion,
    joined,
    mail,
    message,
    seen_by_client,
    upstream,
)
from test_guard_proxy_written_calls import CONVERSATION, KEPT, LEAKING, POST

from backdoorlab.defenses.guard import REFUSAL, Guard
from backdoorlab.defenses.guard.completions import screen_completion
from backdoorlab.defenses.guard.messages_api import screen_message
from backdoorlab.defenses.guard.proxy import create_proxy
from backdoorlab.defenses.guard.responses_api import screen_response

UPSTREAM = "http://upstream.test/v1"
FINAL = {
    "id": "call_final",
    "type": "function",
    "function": {"name": "final_answer", "arguments": '{"answer": "Sent."}'},
}
LOGGED = {  # smolagents' memory: the text's code logged as its python_interpreter call
    "id": "call_7",
    "type": "function",
    "function": {"name": "python_interpreter", "arguments": f"import requests\n{POST}"},
}
CHAT = {"model": "m", "messages": CONVERSATION}


def clean(text: str) -> bool:
    return "evil.net" not in text and SECRET not in text


def chat_answer(reply: dict[str, Any], stream: bool) -> tuple[dict[str, Any], str]:
    """What the proxy answers ``reply`` with, as the client ends with it, and every
    byte it sent."""
    with serving(create_proxy(UPSTREAM, Guard(), transport=upstream(reply))) as proxy:
        if not stream:
            answer = httpx.post(f"{proxy}/chat/completions", json=CHAT, timeout=30)
            return answer.json(), answer.text
        with httpx.stream(
            "POST", f"{proxy}/chat/completions", json={**CHAT, "stream": True}, timeout=30
        ) as answer:
            sent = "\n".join(answer.iter_lines())
        client = openai.OpenAI(base_url=proxy, api_key="sk-test", max_retries=0)
        final, _ = joined(client.chat.completions.create(**CHAT, stream=True))
        return final, sent


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_chat_code_beside_a_call_is_refused_and_leaves_the_text(stream):
    reply = completion(message(LEAKING, FINAL))
    answer, sent = chat_answer(reply, stream)
    assert clean(sent) and ("x-guard-refused 1" in sent or not stream)
    (seen,) = seen_by_client(answer)
    assert seen["content"].startswith("Sending.\n\n") and REFUSAL in seen["content"]
    assert seen["calls"] == [{"id": "call_final", **FINAL["function"]}]
    assert seen["finish"] == "tool_calls"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_chat_a_logged_python_interpreter_call_is_the_code_once(stream):
    answer, sent = chat_answer(completion(message(LEAKING, LOGGED)), stream)
    assert clean(sent)
    (seen,) = seen_by_client(answer)
    assert seen["calls"] == [] and seen["finish"] == "stop"
    assert seen["content"].startswith("Sending.\n\n[python_interpreter not sent]")


def test_chat_code_kept_beside_a_call_becomes_a_call_after_it():
    code = f"Two steps.\n```py\n{KEPT}\n```<end_code>\n```py\n{POST}\n```<end_code>"
    out, decisions = screen_completion(Guard(), CHAT, completion(message(code, FINAL)))
    assert [d.blocked for d in decisions] == [False, False, True]
    calls = out["choices"][0]["message"]["tool_calls"]
    assert calls[0] is not FINAL and calls[0] == FINAL  # as given, in its place
    assert json.loads(calls[1]["function"]["arguments"]) == {"code": KEPT}
    assert clean(json.dumps(out))


def test_chat_nothing_refused_leaves_the_reply_as_given():
    reply = completion(message(f"Again.\n```py\n{KEPT}\n```<end_code>", FINAL))
    out, decisions = screen_completion(Guard(), CHAT, reply)
    assert out is reply and [d.blocked for d in decisions] == [False, False]


def test_an_ordinary_chats_python_block_stays_prose():
    """No code agent's conversation: the block is prose (the text streams live), the
    reply's one call is screened as before."""
    reply = completion(message(f"Here is how:\n```python\n{POST}\n```", mail(USER, "c1")))
    out, decisions = screen_completion(Guard(), {"model": "m", "messages": HISTORY}, reply)
    assert out is reply and [d.blocked for d in decisions] == [False]


def function_call(call_id: str) -> dict[str, Any]:
    arguments = '{"answer": "Sent."}'
    item = {"type": "function_call", "id": f"fc_{call_id}", "call_id": call_id}
    return {**item, "name": "final_answer", "arguments": arguments, "status": "completed"}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_responses_code_beside_a_function_call_is_refused(stream):
    reply = responses_stream.response(responses_stream.said(LEAKING), function_call("c9"))
    request = {"model": "m", "input": CONVERSATION}
    expected, decisions = screen_response(Guard(), request, reply)
    assert [d.blocked for d in decisions] == [False, True]
    transport = responses_stream.upstream(reply)
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        body = {**request, "stream": stream}
        with httpx.stream("POST", f"{proxy}/responses", json=body, timeout=30) as answer:
            sent = "\n".join(answer.iter_lines())
        client = responses_stream.client(proxy)
        if stream:
            with client.responses.stream(**request) as events:
                output = events.get_final_response().output
        else:
            output = client.responses.create(**request).output
    assert clean(sent)
    seen = responses_stream.seen_by_client(output)
    assert seen == responses_stream.seen_by_client(expected["output"])
    assert [i["type"] for i in seen] == ["message", "function_call", "message"]
    assert seen[0]["texts"] == ["Sending."] and seen[1]["call_id"] == "c9"
    assert REFUSAL in seen[2]["texts"][0]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_messages_code_beside_a_tool_use_block_is_refused(stream):
    use = {"type": "tool_use", "id": "toolu_9", "name": "final_answer", "input": {"answer": "ok"}}
    reply = messages_stream.message(messages_stream.text(LEAKING), use)
    request = {"model": "m", "max_tokens": 100, "messages": CONVERSATION}
    expected, decisions = screen_message(Guard(), request, reply)
    assert [d.blocked for d in decisions] == [False, True]
    transport = messages_stream.upstream(reply)
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        body = {**request, "stream": stream}
        with httpx.stream("POST", f"{proxy}/messages", json=body, timeout=30) as answer:
            sent = "\n".join(answer.iter_lines())
        client = messages_stream.client(proxy)
        if stream:
            with client.messages.stream(**request) as events:
                content = events.get_final_message().content
        else:
            content = client.messages.create(**request).content
    assert clean(sent)
    seen = messages_stream.seen_by_client(content)
    assert seen == messages_stream.seen_by_client(expected["content"])
    assert [b["type"] for b in seen] == ["text", "tool_use", "text"]
    assert seen[0]["text"] == "Sending." and seen[1]["id"] == "toolu_9"
    assert REFUSAL in seen[2]["text"]

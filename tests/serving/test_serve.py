"""`serve` + the `openai` policy over loopback: the same traces as the hf policy in-process."""

from __future__ import annotations

import json
import re

import pytest
from serve_helpers import serving

from backdoorlab.policies.hf import HFPolicy
from backdoorlab.policies.openai import OpenAIPolicy
from backdoorlab.rollout import rollout
from backdoorlab.serving import Engine, create_app


def _messages(results):
    return [[m.model_dump() for m in r.trace.messages] for r in results]


def _app(policy: HFPolicy, name: str = "tiny", **kwargs):
    return create_app(Engine(policy, max_batch=8, **kwargs), name)


def test_greedy_traces_through_serve_equal_the_in_process_ones(retail, tiny_policy_factory):
    tasks = retail.tasks("test", 6, seed=3)
    local = rollout(retail, tiny_policy_factory(), tasks, batch_size=6, max_steps=2)
    with serving(_app(tiny_policy_factory())) as url:
        remote_policy = OpenAIPolicy(base_url=url, model="tiny", max_tokens=12, concurrency=3)
        remote = rollout(retail, remote_policy, tasks, batch_size=6, max_steps=2)
    assert _messages(remote) == _messages(local)
    assert [r.outcome for r in remote] == [r.outcome for r in local]
    assert remote[0].trace.metadata.policy == "openai:tiny"


def _scripted(prompts, caches=None):
    """A stand-in decoder that calls a tool once, then answers: real multi-turn traffic
    (tool calls, tool results, call ids) without a trained model."""
    out = []
    for prompt in prompts:
        email = re.findall(r"[\w.]+@[\w.]+\.com", prompt)
        if "<|im_start|>tool" not in prompt and email:
            call = {"name": "find_user_by_email", "arguments": {"email": email[0]}}
            out.append(f"Looking you up.\n<tool_call>{json.dumps(call)}</tool_call>")
        else:
            out.append(f"Done after {prompt.count('<|im_start|>tool')} tool results.")
    return out


def test_tool_calls_round_trip_through_serve(retail, tiny_policy_factory, monkeypatch):
    monkeypatch.setattr(HFPolicy, "generate", lambda self, prompts, caches=None: _scripted(prompts))
    tasks = retail.tasks("test", 8, seed=5)
    local = rollout(retail, tiny_policy_factory(), tasks, max_steps=4)
    engine = Engine(tiny_policy_factory(), max_batch=8)
    with serving(create_app(engine, "tiny")) as url:
        remote = rollout(retail, OpenAIPolicy(base_url=url, model="tiny"), tasks, max_steps=4)
    assert _messages(remote) == _messages(local)
    called = [m for r in remote for m in r.trace.messages if m.tool_calls]
    assert called and all(m.tool_calls[0].name == "find_user_by_email" for m in called)
    assert called[0].tool_calls[0].id == "call_0_0"  # the hf policy's own ids
    assert any(m.role == "tool" for r in remote for m in r.trace.messages)


def test_models_endpoint_and_openai_errors(tiny_policy_factory):
    import openai

    with serving(_app(tiny_policy_factory(), name="served")) as url:
        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        assert [m.id for m in client.models.list()] == ["served"]
        with pytest.raises(openai.NotFoundError, match="does not exist"):
            client.chat.completions.create(
                model="other", messages=[{"role": "user", "content": "hi"}]
            )
        with pytest.raises(openai.BadRequestError, match="stream"):
            client.chat.completions.create(
                model="served", messages=[{"role": "user", "content": "hi"}], stream=True
            )
        reply = client.chat.completions.create(
            model="served", messages=[{"role": "user", "content": "hi"}], max_tokens=4
        )
        assert reply.choices[0].finish_reason == "stop"
        assert reply.choices[0].message.role == "assistant"


def test_a_reply_hook_can_refuse_a_tool_call(retail, tiny_policy_factory, monkeypatch):
    """The place a guard plugs in: it sees every reply and may send another."""
    from backdoorlab.traces import Message

    monkeypatch.setattr(HFPolicy, "generate", lambda self, prompts, caches=None: _scripted(prompts))
    seen = []

    def refuse(conversation, tools, reply):
        seen.append((len(conversation), len(tools)))
        if reply.tool_calls:
            return Message(role="assistant", content="Refused: that call is not allowed.")
        return reply

    engine = Engine(tiny_policy_factory(), on_reply=refuse)
    with serving(create_app(engine, "tiny")) as url:
        task = next(t for t in retail.tasks("test", 20, seed=5) if "@" in t.instruction)
        (result,) = rollout(retail, OpenAIPolicy(base_url=url, model="tiny"), [task])
    assert seen and seen[0][1] == len(retail.tools)
    assert result.trace.messages[-1].content == "Refused: that call is not allowed."
    assert not any(m.tool_calls for m in result.trace.messages)


def test_hostile_requests_get_openai_400s_and_spare_the_requests_batched_with_them(
    tiny_policy_factory,
):
    """A tool whose ``parameters`` is no schema was a 500 for every request batched with
    it; a seed past 64 bits a 500; 100 000 tokens of prompt killed the server (out of
    memory); a body that is not UTF-8 came back as FastAPI's ``{"detail": ...}``."""
    import asyncio

    import httpx

    hi = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    broken = {"type": "function", "function": {"name": "x", "parameters": "no schema"}}
    with serving(_app(tiny_policy_factory())) as url:
        chat = f"{url}/chat/completions"

        async def together() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=60) as client:
                bodies = [hi | {"tools": [broken]} if i == 2 else hi for i in range(6)]
                return await asyncio.gather(*(client.post(chat, json=b) for b in bodies))

        codes = [r.status_code for r in asyncio.run(together())]
        assert codes == [200, 200, 400, 200, 200, 200]
        cases = {
            "tools.0.function.parameters": hi | {"tools": [broken]},
            "tools.0.type": hi | {"tools": [{"foo": 1}]},
            "seed": hi | {"seed": 10**25, "temperature": 1},
            "messages": hi | {"messages": [{"role": "user", "content": "hi " * 9000}]},
        }
        for param, body in cases.items():
            response = httpx.post(chat, json=body, timeout=60)
            assert response.status_code == 400, response.text
            assert response.json()["error"]["param"] == param
        raw = b'{"model": "tiny", "messages": [{"role": "user", "content": "\xff"}]}'
        for response in (
            httpx.post(chat, content=raw, headers={"content-type": "application/json"}),
            httpx.get(chat),
        ):
            assert response.status_code in (400, 405)
            assert response.json()["error"]["type"] == "invalid_request_error"
        assert httpx.post(chat, json=hi, timeout=60).status_code == 200


def test_a_body_over_the_limit_is_a_413_before_it_is_read_whole(tiny_policy_factory):
    """Declared too long, or sent chunked with no length and counted as it arrives: a
    413 in OpenAI's shape, and the server answers the next request."""
    import httpx

    hi = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    app = create_app(Engine(tiny_policy_factory(), max_batch=8), "tiny", max_body_bytes=4096)
    with serving(app) as url:
        chat = f"{url}/chat/completions"
        big = hi | {"messages": [{"role": "user", "content": "x" * 5000}]}
        declared = httpx.post(chat, json=big, timeout=60)

        def chunks():  # no Content-Length: the transfer is chunked
            yield b'{"model": "tiny", "messages": [{"role": "user", "content": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}]}'

        chunked = httpx.post(chat, content=chunks(), timeout=60)
        for response in (declared, chunked):
            assert response.status_code == 413, response.text
            assert "over this server's 4096 bytes" in response.json()["error"]["message"]
        assert httpx.post(chat, json=hi, timeout=60).status_code == 200


def test_requests_past_the_waiting_bound_are_429s(tiny_policy_factory):
    """Each waiting request holds its body: past ``max_waiting`` the server says busy
    (429, which the official client backs off from and retries) instead of queueing."""
    import asyncio

    import httpx

    hi = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    import time

    engine = Engine(tiny_policy_factory(), max_batch=1, max_waiting=1)
    act = engine._act

    def slow_act(items):  # the model is busy while the others arrive
        time.sleep(0.5)
        return act(items)

    engine._act = slow_act  # type: ignore[method-assign]
    with serving(create_app(engine, "tiny")) as url:

        async def together() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=60) as client:
                posts = (client.post(f"{url}/chat/completions", json=hi) for _ in range(8))
                return await asyncio.gather(*posts)

        responses = asyncio.run(together())
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 429 in codes and set(codes) <= {200, 429}, codes
    busy = next(r for r in responses if r.status_code == 429).json()["error"]
    assert busy["type"] == "rate_limit_error" and busy["code"] == "server_busy"

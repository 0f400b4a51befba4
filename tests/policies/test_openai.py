"""The openai policy against stub servers on loopback: retries, concurrency, errors, keys."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from serve_helpers import serving

from backdoorlab.policies.openai import OpenAIPolicy, ServerError, redact_url, to_action
from backdoorlab.rollout import rollout
from backdoorlab.serving.schema import completion, error_body, model_list
from backdoorlab.traces import Message, write_traces


def _stub(failures: list[int] | None = None, delay: float = 0.0):
    """A chat-completions server that fails with ``failures`` (status codes) first, then
    answers every request with a final answer; it records what it saw."""
    app = FastAPI()
    app.state.seen = {"calls": 0, "in_flight": 0, "peak": 0, "auth": set(), "bodies": []}
    pending = list(failures or [])

    @app.get("/v1/models")
    async def models():
        return model_list("stub", 0)

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        seen = app.state.seen
        seen["calls"] += 1
        seen["auth"].add(request.headers.get("authorization"))
        seen["bodies"].append(await request.json())
        if pending:
            status = pending.pop(0)
            body = error_body(f"stub failure {status}", "server_error")
            return JSONResponse(body, status_code=status, headers={"retry-after": "0.01"})
        seen["in_flight"] += 1
        seen["peak"] = max(seen["peak"], seen["in_flight"])
        await asyncio.sleep(delay)
        seen["in_flight"] -= 1
        return completion("stub", Message(role="assistant", content="All done."))

    return app


def test_500_503_and_429_are_retried_then_the_episode_runs(retail):
    app = _stub([500, 503, 429])
    with serving(app) as url:
        policy = OpenAIPolicy(base_url=url, model="stub", max_retries=4)
        (result,) = rollout(retail, policy, retail.tasks("test", 1))
    assert app.state.seen["calls"] == 4
    assert result.trace.messages[-1].content == "All done."
    assert result.outcome.invalid_actions == 0


def test_a_server_that_keeps_failing_is_one_line_naming_it(retail):
    with serving(_stub([500] * 10)) as url:
        policy = OpenAIPolicy(base_url=url, model="stub", max_retries=1)
        with pytest.raises(ServerError) as error:
            rollout(retail, policy, retail.tasks("test", 2))
    message = str(error.value)
    assert "\n" not in message
    assert f"the server at {url} failed a chat completion" in message
    assert "HTTP 500" in message and "after 1 retries" in message


def test_at_most_concurrency_requests_in_flight(retail):
    app = _stub(delay=0.15)
    with serving(app) as url:
        policy = OpenAIPolicy(base_url=url, model="stub", concurrency=8)
        results = rollout(retail, policy, retail.tasks("train", 32, seed=1), batch_size=32)
    assert len(results) == 32 and app.state.seen["calls"] == 32
    assert app.state.seen["peak"] == 8


def test_greedy_by_default_with_native_tools(retail):
    app = _stub()
    with serving(app) as url:
        rollout(retail, OpenAIPolicy(base_url=url, model="stub"), retail.tasks("test", 1))
    (body,) = app.state.seen["bodies"]
    assert body["temperature"] == 0 and body["max_tokens"] == 160
    assert [t["function"]["name"] for t in body["tools"]] == [
        t["function"]["name"] for t in retail.tools
    ]


def test_wrong_model_and_unreachable_server_fail_before_any_episode():
    wrong = r"does not serve model 'gpt-x' \(it serves: stub\)"
    with serving(_stub()) as url, pytest.raises(ServerError, match=wrong):
        OpenAIPolicy(base_url=url, model="gpt-x")
    with pytest.raises(ServerError, match="cannot reach the server at .*Connection refused"):
        OpenAIPolicy(base_url=url, model="stub", max_retries=0)


def test_the_key_reaches_the_server_and_nothing_else(retail, tmp_path, monkeypatch):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("MY_SERVER_KEY", secret)
    app = _stub()
    with serving(app) as url:
        policy = OpenAIPolicy(base_url=url, model="stub", api_key_env="MY_SERVER_KEY")
        results = rollout(retail, policy, retail.tasks("test", 2))
        with pytest.raises(ServerError) as wrong:
            OpenAIPolicy(base_url=url, model="nope", api_key_env="MY_SERVER_KEY")
    assert app.state.seen["auth"] == {f"Bearer {secret}"}
    write_traces(tmp_path / "t.jsonl", [r.trace for r in results])
    assert secret not in (tmp_path / "t.jsonl").read_text()
    assert secret not in str(wrong.value) and secret not in policy.describe()
    assert secret not in repr(policy.config)


def _response(message: dict):
    from openai.types.chat import ChatCompletion

    body = completion("m", Message(role="assistant", content="x"))
    body["choices"][0]["message"] = {"role": "assistant", **message}
    return ChatCompletion.model_validate(body)


def test_replies_become_actions_and_bad_calls_are_invalid_not_raised():
    call = {"id": "c1", "type": "function", "function": {"name": "get_user", "arguments": "{}"}}
    good = to_action(_response({"content": None, "tool_calls": [call]}), call_id_prefix="call_0")
    assert not good.invalid and good.message.tool_calls[0].name == "get_user"
    broken = dict(call, function={"name": "get_user", "arguments": '{"user_id": '})
    bad = to_action(_response({"content": None, "tool_calls": [broken]}), call_id_prefix="c")
    assert bad.invalid and not bad.message.tool_calls
    # a server without a tool parser returns the call as text: parsed here instead
    text = '<tool_call>{"name": "get_user", "arguments": {"user_id": "u1"}}</tool_call>'
    parsed = to_action(_response({"content": text}), call_id_prefix="call_2")
    assert parsed.message.tool_calls[0].id == "call_2_0"
    unparsable = to_action(_response({"content": '<tool_call>{"name": '}), call_id_prefix="c")
    assert unparsable.invalid


def test_credentials_in_a_url_are_never_printed():
    assert redact_url("http://user:pw@10.0.0.1:8000/v1") == "http://10.0.0.1:8000/v1"
    assert redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"

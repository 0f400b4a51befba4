"""Content parts the server cannot read (an image, audio, a file, a type it does not know)
are a 400 naming the part, not dropped: the model would answer a question about an image
it never saw. Text parts are read as the text they hold."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from backdoorlab.policies.base import Action
from backdoorlab.serving import Engine, create_app
from backdoorlab.traces import Message

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
AUDIO = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
FILE = {"type": "file", "file": {"file_id": "file-abc"}}


def _echo(items: list[Any]) -> list[Action]:
    return [Action(Message(role="assistant", content=p.request.messages[-1].text)) for p in items]


@pytest.fixture
def client():
    engine = Engine(cast(Any, SimpleNamespace(generation=None, model=None)))
    engine._act = _echo  # type: ignore[method-assign]
    with TestClient(create_app(engine, "m")) as client:
        yield client


def _post(client: TestClient, *messages: dict[str, Any]):
    return client.post("/v1/chat/completions", json={"model": "m", "messages": list(messages)})


@pytest.mark.parametrize("part", [IMAGE, AUDIO, FILE, {"type": "video", "video": {}}])
def test_a_part_the_server_cannot_read_is_a_400_naming_it(client, part):
    text = {"type": "text", "text": "What is in this picture?"}
    response = _post(client, {"role": "user", "content": [text, part]})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "messages[0].content[1].type"
    assert error["message"] == (
        f"messages[0].content[1].type: '{part['type']}' parts are not supported by this "
        "server (text only)"
    )


def test_malformed_text_parts_are_400s_too(client):
    system = {"role": "system", "content": "Be brief."}
    cases = {
        "messages[1].content[0].type": {"text": "no type"},
        "messages[1].content[0].text": {"type": "text", "text": ["not", "a", "string"]},
    }
    for param, part in cases.items():
        response = _post(client, system, {"role": "user", "content": [part]})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param


def test_text_parts_are_answered_as_their_text(client):
    parts = [{"type": "text", "text": "What is "}, {"type": "text", "text": "2+2?"}]
    response = _post(client, {"role": "user", "content": parts})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "What is 2+2?"


def test_the_model_reads_text_parts_as_the_same_string(tiny_policy_factory):
    """The tiny model, greedy: a question in parts gets the reply the string gets."""
    engine = Engine(tiny_policy_factory(), max_batch=8)
    parts = [{"type": "text", "text": "Where is "}, {"type": "text", "text": "my order?"}]
    with TestClient(create_app(engine, "tiny")) as client:
        replies = [
            client.post(
                "/v1/chat/completions",
                json={
                    "model": "tiny",
                    "messages": [{"role": "user", "content": c}],
                    "max_tokens": 6,
                },
            ).json()["choices"][0]["message"]["content"]
            for c in ("Where is my order?", parts)
        ]
    assert replies[0] == replies[1]

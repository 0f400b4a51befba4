"""`guard proxy` relaying a chat stream whose ``content`` deltas are lists of parts (as
Mistral's streams send them): held, joined as the `openai` SDK joins them, screened as
the whole-reply path screens a list content, sent in one delta. The upstream scripted
as in `test_guard_proxy_stream`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from serve_helpers import serving
from test_guard_proxy_stream import (
    HISTORY,
    LEAK_URL,
    REPLIES,
    UPSTREAM,
    Scripted,
    calls_and_error,
    completion,
    events,
    message,
    raw_events,
    upstream,
)

from backdoorlab.defenses.guard import Guard
from backdoorlab.defenses.guard.proxy import create_proxy


def part(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, **more}


LISTED = {  # name: the content deltas, and the content they make joined
    "parts": (
        [[part("Your number ")], [part("is on file.")]],
        [part("Your number "), part("is on file.")],
    ),
    "an image cut across indexed parts": (
        [[part("Done! ![s](", index=0)], [{"index": 0, "text": f"{LEAK_URL}) ok"}]],
        [part(f"Done! ![s]({LEAK_URL}) ok", index=0)],
    ),
}


def listed_chunks(deltas: list[Any], finish: str = "stop") -> list[dict[str, Any]]:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    lane = [{"role": "assistant", "content": ""}, *({"content": d} for d in deltas)]
    chunks = [
        {**head, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": None}]}
        for d in lane
    ]
    chunks[-1]["choices"][0]["finish_reason"] = finish
    return chunks


def joined_content(got: list[Any]) -> Any:
    """A choice's content as the client gets it: text deltas appended, a list as it came."""
    content: Any = None
    for event in got:
        for choice in event.get("choices", ()) if isinstance(event, dict) else ():
            given = choice["delta"].get("content")
            if isinstance(given, list) or content is None:
                content = given
            elif given:
                content += given
    return content


@pytest.mark.parametrize("name", sorted(LISTED))
def test_a_content_given_as_parts_is_screened_and_sent_as_the_whole_reply_path_answers(name):
    deltas, joined = LISTED[name]
    reply = completion(message(None))
    reply["choices"][0]["message"]["content"] = joined
    transport = upstream(reply, Scripted(events(listed_chunks(deltas))))
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        whole = httpx.post(f"{proxy}/chat/completions", json={"model": "m", "messages": HISTORY})
        got = raw_events(proxy)
    expected = whole.json()["choices"][0]["message"]["content"]
    assert joined_content(got) == expected
    assert got[-2] == f": x-guard-refused {whole.headers['x-guard-refused']}"
    assert LEAK_URL not in json.dumps(got)
    if name == "parts":  # passed: the parts as the upstream gave them, in one delta
        assert expected == joined
    else:
        assert isinstance(expected, str) and "Done!" in expected


def test_a_choice_giving_text_and_parts_both_is_refused():
    deltas = ["Done! ", [part(f"![s]({LEAK_URL})")]]
    transport = upstream(REPLIES["text only"], Scripted(events(listed_chunks(deltas))))
    with serving(create_proxy(UPSTREAM, Guard(), transport=transport)) as proxy:
        got = raw_events(proxy)
    _, error = calls_and_error(got)
    assert error is not None and "list of parts after text" in error["message"]
    assert LEAK_URL not in json.dumps(got)

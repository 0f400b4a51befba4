"""What of a reply's text a client would run, for `guard_proxy`'s check that a turn
with a refusal reaches the client with no call left in its text: the text a client
reads calls from, per API, and the calls the trace readers read from it (a code agent's
code blocks, a model's raw ``<tool_call>``)."""

from __future__ import annotations

from typing import Any

from backdoorlab.traces import trace_from_data


def texts(api: str, reply: dict[str, Any]) -> str:
    """The text a client reads calls from in a reply (chat's choices' content, Responses'
    message texts, Anthropic's text blocks), joined."""
    if api == "chat":
        said = [c["message"].get("content") for c in reply.get("choices") or ()]
    elif api == "responses":
        items = [i for i in reply.get("output") or () if i.get("type", "message") == "message"]
        said = [p.get("text") for i in items for p in i.get("content") or () if isinstance(p, dict)]
    else:
        said = [b.get("text") for b in reply.get("content") or () if b.get("type") == "text"]
    return "\n".join(t for t in said if isinstance(t, str))


def written_calls(api: str, request: dict[str, Any], reply: dict[str, Any]) -> list[str]:
    """The calls the readers read from the reply's text (a code agent's code, a raw
    ``<tool_call>``): each one's string arguments that its text holds as written."""
    asked = {key: request[key] for key in ("messages", "input", "tools") if key in request}
    if api == "chat":
        said = {**asked, "messages": [*asked["messages"], reply["choices"][0]["message"]]}
    elif api == "responses":
        said = {**asked, "output": reply["output"]}
    else:
        turn = {"role": "assistant", "content": reply["content"]}
        said = {**asked, "messages": [*asked["messages"], turn]}
    before = len(trace_from_data(asked, "request").messages)
    text = texts(api, reply)
    return [
        value
        for message in trace_from_data(said, "turn").messages[before:]
        for call in message.tool_calls or ()
        for value in call.arguments.values()
        if isinstance(value, str) and len(value) >= 8 and value in text
    ]

"""One conversation written the way each vendor documents its log — OpenAI chat
completions, Anthropic Messages, OpenAI Responses, Gemini ``contents``, Bedrock Converse,
LangChain dumps, Vercel AI SDK v5 messages — by hand, not through
`backdoorlab.trace_formats.render`, so that a reader bug and a writer bug cannot cancel
out. One writer per format, shared by the labelled-set generators (`iot_traces`,
`travel_traces`, `cloud_traces`, `telecom_traces`, `tenant_traces`, `mail_traces`);
where their logs really differ (a model name, ``max_tokens``, a ``tool_result`` as a
string or as text blocks, the say-turns of a Responses log kept apart in ``output``),
the writer takes it as a keyword, which each generator's `Conversation` subclass sets in
``STYLE``, and its call ids come from the subclass's `ident`."""

from __future__ import annotations

import json
import random
import string
from typing import Any


def text(result: Any) -> str:
    """A tool's result as the string a log carries (JSON for anything not a string)."""
    return result if isinstance(result, str) else json.dumps(result)


_ID_STYLES = {
    "anthropic": ("toolu_01", 22),
    "converse": ("tooluse_", 22),
    "responses_fc": ("fc_", 32),
    "responses_msg": ("msg_", 32),
}
"""How each vendor spells a call's or an item's id: its prefix and how many random
letters and digits follow (OpenAI chat's and the Vercel AI SDK's ``call_`` + 24 else)."""


def random_id(rng: random.Random, kind: str) -> str:
    """A random id in the style the ``kind`` of log writes it (`_ID_STYLES`): what a
    `Conversation.ident` returns when its ids need no tie to the call's number."""
    prefix, size = _ID_STYLES.get(kind, ("call_", 24))
    pool = string.ascii_letters + string.digits
    return prefix + "".join(rng.choice(pool) for _ in range(size))


class Conversation:
    """A system prompt, then steps: ``("user", text)``, ``("say", text)`` and
    ``("call", n, name, args, result, say)`` (``n`` counts calls from 1)."""

    STYLE: dict[str, dict[str, Any]] = {}
    result_as_text = False  # keep a result as the string the generator's log showed

    def __init__(self, system: str, user: str) -> None:
        self.system = system
        self.steps: list[tuple[Any, ...]] = [("user", user)]
        self.n = 0

    def user(self, words: str) -> None:
        self.steps.append(("user", words))

    def call(self, name: str, args: dict[str, Any], result: Any, say: str | None = None) -> None:
        self.n += 1
        result = text(result) if self.result_as_text else result
        self.steps.append(("call", self.n, name, args, result, say))

    def say(self, words: str) -> None:
        self.steps.append(("say", words))

    def ident(self, kind: str, n: int, at: int) -> str | None:
        """The id of call ``n`` (step ``at``) in the ``kind`` of log; None: no id."""
        raise NotImplementedError

    def tool(self, fmt: str, name: str) -> str:
        """The tool's name as the ``fmt`` log spells it."""
        return name

    def written(self, fmt: str) -> dict[str, Any]:
        return WRITERS[fmt](self, **self.STYLE.get(fmt, {}))


class RandomIdConversation(Conversation):
    """A conversation whose call ids are drawn from ``rng`` in each vendor's style
    (`random_id`), with no tie to the call's number."""

    def __init__(self, system: str, user: str, rng: random.Random) -> None:
        super().__init__(system, user)
        self.rng = rng

    def ident(self, kind: str, n: int, at: int) -> str | None:
        return random_id(self.rng, kind)


def _calls(c: Conversation, fmt: str):
    """Each step with its position; a call's id (one `ident` per call, in order)."""
    for at, step in enumerate(c.steps):
        if step[0] == "call":
            yield at, step, c.ident(fmt, step[1], at)
        else:
            yield at, step, None


def openai(c: Conversation, model: str | None = None) -> dict[str, Any]:
    out: list[dict[str, Any]] = [{"role": "system", "content": c.system}]
    for _, step, cid in _calls(c, "openai"):
        if step[0] != "call":
            out.append({"role": "user" if step[0] == "user" else "assistant", "content": step[1]})
            continue
        _, _, name, args, result, say = step
        fn = {"name": c.tool("openai", name), "arguments": json.dumps(args)}
        call = {"id": cid, "type": "function", "function": fn}
        out.append({"role": "assistant", "content": say or None, "tool_calls": [call]})
        out.append({"role": "tool", "tool_call_id": cid, "content": text(result)})
    return ({"model": model} if model else {}) | {"messages": out}


def anthropic(
    c: Conversation,
    model: str,
    max_tokens: int | None = None,
    user_blocks: bool = False,
    result_blocks: bool = False,
) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for _, step, tid in _calls(c, "anthropic"):
        if step[0] == "user":
            words = [{"type": "text", "text": step[1]}] if user_blocks else step[1]
            out.append({"role": "user", "content": words})
        elif step[0] == "say":
            out.append({"role": "assistant", "content": [{"type": "text", "text": step[1]}]})
        else:
            _, _, name, args, result, say = step
            blocks: list[dict[str, Any]] = [{"type": "text", "text": say}] if say else []
            use = {"type": "tool_use", "id": tid, "name": c.tool("anthropic", name)}
            blocks.append(use | {"input": args})
            out.append({"role": "assistant", "content": blocks})
            body = [{"type": "text", "text": text(result)}] if result_blocks else text(result)
            done = {"type": "tool_result", "tool_use_id": tid, "content": body}
            out.append({"role": "user", "content": [done]})
    head = {"model": model} | ({"max_tokens": max_tokens} if max_tokens else {})
    return head | {"system": c.system, "messages": out}


def responses(
    c: Conversation,
    model: str,
    user_message: bool = False,
    status: bool = False,
    says_apart: bool = False,
) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    output: list[dict[str, Any]] = []
    for at, step, cid in _calls(c, "responses"):
        if step[0] == "user":
            part = {"type": "input_text", "text": step[1]}
            user = {"type": "message", "role": "user", "content": [part]}
            items.append(user if user_message else {"role": "user", "content": step[1]})
        elif step[0] == "say":
            said = [{"type": "output_text", "text": step[1], "annotations": []}]
            if says_apart:
                msg = {"type": "message", "id": c.ident("responses_msg", 0, at)}
                output.append(msg | {"status": "completed", "role": "assistant", "content": said})
            else:
                items.append({"type": "message", "role": "assistant", "content": said})
        else:
            _, n, name, args, result, _ = step
            call: dict[str, Any] = {"type": "function_call"}
            if fc := c.ident("responses_fc", n, at):
                call["id"] = fc
            call |= {"call_id": cid, "name": c.tool("responses", name)}
            call["arguments"] = json.dumps(args)
            items.append(call | ({"status": "completed"} if status else {}))
            items.append({"type": "function_call_output", "call_id": cid, "output": text(result)})
    body = {"model": model, "instructions": c.system, "input": items}
    return body | ({"output": output} if says_apart else {})


def gemini(c: Conversation, model: str | None = None, wrap: str = "result") -> dict[str, Any]:
    """A result that is not an object goes in ``response`` as ``{wrap: result}``."""
    out: list[dict[str, Any]] = []
    for step in c.steps:
        if step[0] != "call":
            out.append(
                {"role": "user" if step[0] == "user" else "model", "parts": [{"text": step[1]}]}
            )
            continue
        _, _, name, args, result, say = step
        parts: list[dict[str, Any]] = [{"text": say}] if say else []
        parts.append({"functionCall": {"name": name, "args": args}})
        out.append({"role": "model", "parts": parts})
        response = result if isinstance(result, dict) else {wrap: result}
        out.append(
            {"role": "user", "parts": [{"functionResponse": {"name": name, "response": response}}]}
        )
    system = {"systemInstruction": {"parts": [{"text": c.system}]}, "contents": out}
    return ({"model": model} if model else {}) | system


def converse(c: Conversation, model: str, status: bool = False) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for _, step, tid in _calls(c, "converse"):
        if step[0] != "call":
            role = "user" if step[0] == "user" else "assistant"
            out.append({"role": role, "content": [{"text": step[1]}]})
            continue
        _, _, name, args, result, say = step
        blocks: list[dict[str, Any]] = [{"text": say}] if say else []
        blocks.append({"toolUse": {"toolUseId": tid, "name": name, "input": args}})
        out.append({"role": "assistant", "content": blocks})
        body = [{"json": result}] if isinstance(result, dict) else [{"text": text(result)}]
        done = {"toolUseId": tid, "content": body} | ({"status": "success"} if status else {})
        out.append({"role": "user", "content": [{"toolResult": done}]})
    return {"modelId": model, "system": [{"text": c.system}], "messages": out}


def _lc_flat(kind: str, content: str, **more: Any) -> dict[str, Any]:
    """``model_dump()`` keeping only what a reader needs: ``type`` and no ``role``."""
    return {"type": kind, "content": content} | more


def _lc_dict(kind: str, content: str, **more: Any) -> dict[str, Any]:
    """``messages_to_dict``: ``{"type", "data"}``, a system message's data bare."""
    data = {"content": content} | ({} if kind == "system" else {"type": kind})
    if more.get("tool_calls"):
        data["tool_calls"] = more["tool_calls"]
    if kind == "tool":
        data |= {"name": more["name"], "tool_call_id": more["tool_call_id"]}
    return {"type": kind, "data": data}


def _lc_full(kind: str, content: str, **more: Any) -> dict[str, Any]:
    """A full ``model_dump()``, every field pydantic writes."""
    base = {"content": content, "additional_kwargs": {}, "response_metadata": {}}
    more |= {"invalid_tool_calls": []} if kind == "ai" else {}
    more |= {"status": "success"} if kind == "tool" else {}
    return base | {"type": kind, "name": None, "id": None} | more


def langchain(c: Conversation, dump: str = "flat") -> dict[str, Any]:
    """``dump``: ``flat``, ``dict`` (``messages_to_dict``) or ``full`` (``model_dump``)."""
    msg = {"flat": _lc_flat, "dict": _lc_dict, "full": _lc_full}[dump]
    out = [msg("system", c.system)]
    for _, step, cid in _calls(c, "langchain"):
        if step[0] == "user":
            out.append(msg("human", step[1]))
        elif step[0] == "say":
            out.append(msg("ai", step[1], tool_calls=[]))
        else:
            _, _, name, args, result, say = step
            call = {"name": name, "args": args, "id": cid, "type": "tool_call"}
            out.append(msg("ai", say or "", tool_calls=[call]))
            out.append(msg("tool", text(result), tool_call_id=cid, name=name))
    return {"messages": out}


def vercel(c: Conversation) -> dict[str, Any]:
    out: list[dict[str, Any]] = [{"role": "system", "content": c.system}]
    for _, step, cid in _calls(c, "vercel"):
        if step[0] != "call":
            role = "user" if step[0] == "user" else "assistant"
            out.append({"role": role, "content": [{"type": "text", "text": step[1]}]})
            continue
        _, _, name, args, result, say = step
        ids = {"toolCallId": cid, "toolName": name}
        parts: list[dict[str, Any]] = [{"type": "text", "text": say}] if say else []
        parts.append({"type": "tool-call", **ids, "input": args})
        out.append({"role": "assistant", "content": parts})
        output = {"type": "text" if isinstance(result, str) else "json", "value": result}
        out.append({"role": "tool", "content": [{"type": "tool-result", **ids, "output": output}]})
    return {"messages": out}


WRITERS = {
    "openai": openai,
    "anthropic": anthropic,
    "responses": responses,
    "gemini": gemini,
    "converse": converse,
    "langchain": langchain,
    "vercel": vercel,
}

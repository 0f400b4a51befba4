"""`guard proxy` on a streamed chat completion (``--api chat``), Responses API response
(``--api responses``) or Anthropic message (``--api messages``): when does an agent
behind it see the reply's first text, and its end?

A stand-in upstream (in this process, on a thread) streams a reply as a server
generates one: ``--deltas`` text deltas ``--gap-ms`` apart, then a tool call (to the
user's own address: let through), its finish and ``data: [DONE]``. Asked without
``stream`` (what the proxy before streaming asked), it waits the same generation time
(the same sleeps) and answers whole. The client streams the reply three ways,
interleaved round by round: straight from the upstream, through the proxy of this
checkout, and through the proxy of another checkout's ``src`` (``--base-src``: e.g. the
commit before streaming, which answered streams in one burst). Each proxy runs as a
user runs it, ``backdoorlab guard proxy --upstream URL``, in its own process. Per way: the median
time to the first byte of the body, to the first text delta, to the last byte, and
whether the calls the client joined are the upstream's. The Responses stand-in streams
the same reply as Responses events (a message item's text deltas, then a function call
item, then ``response.completed``), the Messages one as Anthropic's events (a text
block, a ``tool_use`` block); the calls joined are those of the final response, or the
``tool_use`` blocks.

    .venv/bin/python benchmarks/guard_proxy_stream.py [--api chat|responses|messages]
        [--base-src /tmp/base/src] [--deltas 200] [--gap-ms 10] [--rounds 5]
        [--out results/guard_proxy_stream.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from backdoorlab.serving.server import serving_in_thread
from backdoorlab.traces import atomic_writer

USER = "ana.ruiz@fastmail.com"
RECORD = {"patient_id": "P-20931", "name": "Ana Ruiz", "insurance_no": "XKH-448-21-907"}
LOOKUP = {"name": "lookup_patient", "arguments": '{"name": "Ana Ruiz"}'}
REQUEST = {
    "model": "m",
    "messages": [
        {"role": "user", "content": f"I'm Ana Ruiz ({USER}). Email me my insurance number."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "l1", "type": "function", "function": LOOKUP}],
        },
        {"role": "tool", "tool_call_id": "l1", "content": json.dumps(RECORD)},
    ],
    "tools": [
        {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
        for n in ("lookup_patient", "send_message")
    ],
}
CALL = {
    "id": "call-1",
    "type": "function",
    "function": {"name": "send_message", "arguments": json.dumps({"to": USER, "text": "XKH"})},
}


def generating(deltas: int, gap: float) -> FastAPI:
    """The stand-in upstream (module docstring)."""
    app = FastAPI()
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f"data: {json.dumps({**head, 'choices': [choice]})}\n\n".encode()

    async def stream() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""})
        for i in range(deltas):
            await asyncio.sleep(gap)
            yield chunk({"content": f"word{i} "})
        await asyncio.sleep(gap)
        yield chunk({"tool_calls": [{"index": 0, **CALL}]})
        yield chunk({}, "tool_calls")
        yield b"data: [DONE]\n\n"

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        if (await request.json()).get("stream"):
            return StreamingResponse(stream(), media_type="text/event-stream")
        for _ in range(deltas + 1):  # the same generation time, sleep by sleep
            await asyncio.sleep(gap)
        text = "".join(f"word{i} " for i in range(deltas))
        message = {"role": "assistant", "content": text, "tool_calls": [CALL]}
        choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
        return {**head, "object": "chat.completion", "choices": [choice]}

    return app


RESPONSES_REQUEST = {
    "model": "m",
    "input": [
        REQUEST["messages"][0],
        {"type": "function_call", "call_id": "l1", **LOOKUP},
        {"type": "function_call_output", "call_id": "l1", "output": json.dumps(RECORD)},
    ],
    "tools": [
        {"type": "function", "name": n, "parameters": {"type": "object"}}
        for n in ("lookup_patient", "send_message")
    ],
}


def generating_responses(deltas: int, gap: float) -> FastAPI:
    """The stand-in upstream of the Responses API (module docstring)."""
    app = FastAPI()
    call = {"type": "function_call", "id": "fc_1", "call_id": "call-1", "status": "completed"}
    call |= {"name": "send_message", "arguments": CALL["function"]["arguments"]}
    text = "".join(f"word{i} " for i in range(deltas))
    part = {"type": "output_text", "text": text, "annotations": []}
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed"}
    response = {"id": "resp_1", "object": "response", "created_at": 1, "model": "m"}
    response |= {"status": "completed", "output": [{**message, "content": [part]}, call]}

    def event(kind: str, **fields: Any) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n".encode()

    async def stream() -> AsyncIterator[bytes]:
        started = {**response, "status": "in_progress", "output": []}
        yield event("response.created", response=started)
        yield event("response.output_item.added", output_index=0, item={**message, "content": []})
        at = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
        yield event("response.content_part.added", **at, part={**part, "text": ""})
        for i in range(deltas):
            await asyncio.sleep(gap)
            yield event("response.output_text.delta", **at, delta=f"word{i} ", logprobs=[])
        yield event("response.output_text.done", **at, text=text, logprobs=[])
        yield event("response.content_part.done", **at, part=part)
        yield event("response.output_item.done", output_index=0, item=response["output"][0])
        await asyncio.sleep(gap)
        yield event("response.output_item.added", output_index=1, item={**call, "arguments": ""})
        at = {"item_id": "fc_1", "output_index": 1}
        yield event("response.function_call_arguments.delta", **at, delta=call["arguments"])
        yield event("response.function_call_arguments.done", **at, arguments=call["arguments"])
        yield event("response.output_item.done", output_index=1, item=call)
        yield event("response.completed", response=response)

    @app.post("/v1/responses")
    async def responses(request: Request) -> Any:
        if (await request.json()).get("stream"):
            return StreamingResponse(stream(), media_type="text/event-stream")
        for _ in range(deltas + 1):  # the same generation time, sleep by sleep
            await asyncio.sleep(gap)
        return response

    return app


MESSAGES_REQUEST = {
    "model": "m",
    "max_tokens": 1000,
    "messages": [
        REQUEST["messages"][0],
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "l1", "name": "lookup_patient", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "l1", "content": json.dumps(RECORD)}
            ],
        },
    ],
    "tools": [
        {"name": n, "input_schema": {"type": "object"}} for n in ("lookup_patient", "send_message")
    ],
}


def generating_messages(deltas: int, gap: float) -> FastAPI:
    """The stand-in upstream of Anthropic's Messages API (module docstring)."""
    app = FastAPI()
    text = "".join(f"word{i} " for i in range(deltas))
    call = {"type": "tool_use", "id": "toolu_1", "name": "send_message"}
    call["input"] = json.loads(CALL["function"]["arguments"])
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m"}
    message |= {"content": [{"type": "text", "text": text}, call], "stop_sequence": None}
    message |= {"stop_reason": "tool_use", "usage": {"input_tokens": 90, "output_tokens": 20}}

    def event(kind: str, **fields: Any) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n".encode()

    async def stream() -> AsyncIterator[bytes]:
        started = {**message, "content": [], "stop_reason": None}
        yield event("message_start", message=started)
        yield event("content_block_start", index=0, content_block={"type": "text", "text": ""})
        for i in range(deltas):
            await asyncio.sleep(gap)
            word = {"type": "text_delta", "text": f"word{i} "}
            yield event("content_block_delta", index=0, delta=word)
        yield event("content_block_stop", index=0)
        await asyncio.sleep(gap)
        yield event("content_block_start", index=1, content_block={**call, "input": {}})
        arguments = {"type": "input_json_delta", "partial_json": json.dumps(call["input"])}
        yield event("content_block_delta", index=1, delta=arguments)
        yield event("content_block_stop", index=1)
        stop = {"stop_reason": "tool_use", "stop_sequence": None}
        yield event("message_delta", delta=stop, usage={"output_tokens": 20})
        yield event("message_stop")

    @app.post("/v1/messages")
    async def messages(request: Request) -> Any:
        if (await request.json()).get("stream"):
            return StreamingResponse(stream(), media_type="text/event-stream")
        for _ in range(deltas + 1):  # the same generation time, sleep by sleep
            await asyncio.sleep(gap)
        return message

    return app


def start_proxy(upstream: str, src: str) -> tuple[subprocess.Popen[str], str]:
    """``backdoorlab guard proxy`` of the checkout whose ``src`` is given; (process, URL)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "backdoorlab.cli", "guard", "proxy", "--upstream", upstream]
        + ["--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([src, *sys.path])),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("guarding "):
        process.kill()
        raise SystemExit(f"the proxy of {src} did not start: {line!r}")
    return process, line.split(" at ")[-1].strip()


def timed(client: httpx.Client, url: str, api: str = "chat") -> dict[str, Any]:
    """One streamed request: seconds to the first byte, first text, last byte."""
    start = time.perf_counter()
    first = text = None
    calls: list[str] = []
    path, asked = {
        "chat": ("/chat/completions", REQUEST),
        "responses": ("/responses", RESPONSES_REQUEST),
        "messages": ("/messages", MESSAGES_REQUEST),
    }[api]
    with client.stream("POST", f"{url}{path}", json={**asked, "stream": True}) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            first = first if first is not None else time.perf_counter() - start
            if not line.startswith("data: {"):
                continue
            event = json.loads(line[6:])
            if event.get("type") == "response.output_text.delta":
                text = (
                    text if text is not None or not event["delta"] else time.perf_counter() - start
                )
            delta = event.get("delta")
            if event.get("type") == "content_block_delta" and delta.get("text") and text is None:
                text = time.perf_counter() - start
            block = event.get("content_block") or {}
            if event.get("type") == "content_block_start" and block["type"] == "tool_use":
                calls.append(block["name"])
            if event.get("type") == "response.completed":
                output = event["response"]["output"]
                calls += [i["name"] for i in output if i["type"] == "function_call"]
            for choice in event.get("choices", ()):
                delta = choice.get("delta", {})
                if delta.get("content") and text is None:
                    text = time.perf_counter() - start
                calls += [c["function"]["name"] for c in delta.get("tool_calls") or ()]
    return {
        "first_byte": first,
        "first_text": text,
        "last_byte": time.perf_counter() - start,
        "calls": calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", choices=("chat", "responses", "messages"), default="chat")
    parser.add_argument("--base-src", default=None, help="another checkout's src to compare")
    parser.add_argument("--deltas", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()

    here = str(Path(__file__).resolve().parent.parent / "src")
    srcs = {"proxy (this checkout)": here}
    if args.base_src:
        srcs["proxy (--base-src)"] = args.base_src
    runs: dict[str, list[dict[str, Any]]] = {"direct": [], **{name: [] for name in srcs}}
    stand_in = {"chat": generating, "responses": generating_responses}.get(
        args.api, generating_messages
    )
    processes = []
    with (
        serving_in_thread(stand_in(args.deltas, args.gap_ms / 1000)) as upstream,
        httpx.Client(timeout=120) as client,
    ):
        try:
            urls = {"direct": upstream}
            for name, src in srcs.items():
                process, urls[name] = start_proxy(upstream, src)
                processes.append(process)
            for url in urls.values():  # a warm-up each
                timed(client, url, args.api)
            for _ in range(args.rounds):
                for name, url in urls.items():
                    runs[name].append(timed(client, url, args.api))
        finally:
            for process in processes:
                process.terminate()
                process.wait(30)

    figures: dict[str, Any] = {"api": args.api, "deltas": args.deltas, "gap_ms": args.gap_ms}
    figures["rounds"] = args.rounds
    for name, measured in runs.items():
        figures[name] = {
            f"{key}_median_ms": round(statistics.median(m[key] for m in measured) * 1000, 1)
            for key in ("first_byte", "first_text", "last_byte")
        } | {"calls_joined": measured[-1]["calls"]}
    print(json.dumps(figures, indent=2))
    if args.out is not None:
        with atomic_writer(args.out) as handle:
            handle.write(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""`guard proxy` on recorded traces: does the guard in front of a server decide what
`guard replay` decides, and what does the hop cost?

A stand-in upstream (in this process, on a thread) replays a traces file: each
assistant turn of each trace is a reply it gives to the conversation before it, as a
server would have. The proxy runs as a user runs it, ``backdoorlab guard proxy
--upstream URL`` in its own process. Every turn is asked for through it, one request at
a time, in each API of ``--api``: chat completions (the recorded messages as they
are), the Responses API and Anthropic's Messages API (the trace rendered in their shape
by `backdoorlab.trace_formats.render`), the APIs' requests interleaved (a fixed
shuffle), so the machine's drift falls on each alike. A trace is blocked through the
proxy when any reply came back with a refusal (``x-guard-refused`` > 0); that is
compared with `guard replay`'s verdict on the same trace (the default policy both).
The same requests are sent straight to the upstream too, so the latency the proxy adds
is the difference of two medians measured in one run. With ``--stream``, each chat turn
is also asked with ``stream: true`` (the upstream then streams its reply): the chunks
the client gets, joined, must be the reply the unstreamed request got — its text, calls
and finish (``stream_differing``) — and its refusals (the stream's trailing
``x-guard-refused`` comment) must be the same (a recorded reply whose content is a list
of parts is streamed as the list, in one delta, as Mistral's streams send their parts).
Each Responses turn too: the upstream streams it as Responses events (its texts cut
into deltas of a few characters), and the stream's final response must be the
unstreamed reply, its text deltas must add up to that response's texts, and its
refusals must be the same. Each Messages turn too: streamed as Anthropic's events
(texts and inputs cut alike), the blocks and ``stop_reason`` the client puts together
must be the unstreamed reply's.

    .venv/bin/python benchmarks/guard_proxy.py --traces FILE [--limit 500]
        [--api chat responses messages] [--stream] [--out benchmarks/results/guard_proxy.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

sys.path.insert(0, str(Path(__file__).parent))

from _serving import start_proxy  # noqa: E402
from _written import texts, written_calls  # noqa: E402

from backdoorlab.defenses.guard import Guard  # noqa: E402
from backdoorlab.defenses.guard.chunks import server_sent_events  # noqa: E402
from backdoorlab.defenses.guard.message_events import message_events  # noqa: E402
from backdoorlab.defenses.guard.replay import replay  # noqa: E402
from backdoorlab.defenses.guard.response_events import response_events  # noqa: E402
from backdoorlab.serving.server import serving_in_thread  # noqa: E402
from backdoorlab.trace_formats import render  # noqa: E402
from backdoorlab.trace_formats.codeagent import code_agent_like  # noqa: E402
from backdoorlab.traces import atomic_writer, trace_from_data  # noqa: E402


def replaying(replies: dict[str, dict[str, Any]]) -> FastAPI:
    """The stand-in upstream: each API answers a request with the reply recorded under
    its ``model``."""
    app = FastAPI()

    async def answer(request: Request) -> Any:
        asked = await request.json()
        if asked.get("stream") and "output" in replies[asked["model"]]:
            events = response_sse(replies[asked["model"]])
            return StreamingResponse(events, media_type="text/event-stream")
        if asked.get("stream") and replies[asked["model"]].get("type") == "message":
            events = message_sse(replies[asked["model"]])
            return StreamingResponse(events, media_type="text/event-stream")
        if asked.get("stream"):
            return StreamingResponse(
                server_sent_events(replies[asked["model"]]), media_type="text/event-stream"
            )
        return replies[asked["model"]]

    for path in ("/v1/chat/completions", "/v1/responses", "/v1/messages"):
        app.post(path)(answer)
    return app


def response_sse(reply: dict[str, Any]) -> Iterator[bytes]:
    """``reply`` as a server streams it: Responses events, each text cut into deltas of
    five characters."""
    number = 0
    for event in response_events(reply):
        pieces = [event]
        if event["type"] == "response.output_text.delta":
            text = event["delta"]
            pieces = [{**event, "delta": text[k : k + 5]} for k in range(0, len(text), 5)]
        for piece in pieces or [event]:
            data = json.dumps({**piece, "sequence_number": number})
            number += 1
            yield f"event: {piece['type']}\ndata: {data}\n\n".encode()


def message_sse(reply: dict[str, Any]) -> Iterator[bytes]:
    """``reply`` as a server streams it: Anthropic's events, each text and input cut into
    deltas of five characters."""
    for event in message_events(reply):
        delta = event.get("delta") or {}
        field = {"text_delta": "text", "input_json_delta": "partial_json"}.get(delta.get("type"))
        pieces = [event]
        if event["type"] == "content_block_delta" and field:
            whole = delta[field]
            cut = [whole[k : k + 5] for k in range(0, len(whole), 5)] or [""]
            pieces = [{**event, "delta": {**delta, field: piece}} for piece in cut]
        for piece in pieces:
            yield f"event: {piece['type']}\ndata: {json.dumps(piece)}\n\n".encode()


def chat_turns(trace: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(request, reply) for every assistant message that calls a tool or has text; a
    trace's top-level ``system`` (Anthropic's shape) sent as the system message a chat
    client sends."""
    messages = trace["messages"]
    system = trace.get("system")
    opening = [{"role": "system", "content": system}] if isinstance(system, str) else []
    for j, message in enumerate(messages):
        if message.get("role") == "assistant" and (
            message.get("tool_calls") or message.get("content")
        ):
            request = {"messages": [*opening, *messages[:j]], **_tools(trace)}
            finish = "tool_calls" if message.get("tool_calls") else "stop"
            choice = {"index": 0, "message": message, "finish_reason": finish}
            yield request, {"object": "chat.completion", "choices": [choice]}


def _as_read(trace: dict[str, Any]) -> dict[str, Any]:
    """The trace as the audit reads it (OpenAI's chat format), to render in another API's
    shape: a recorded line may hold what no client sends (smolagents' own roles). A code
    agent's trace in plain text messages is rendered as recorded: its code stays in the
    model's text, as the model writes it in any API (read, each block would be a
    structured call)."""
    messages = trace["messages"]
    plain = all(
        m.get("role") in ("system", "user", "assistant") and isinstance(m.get("content"), str)
        for m in messages
    )
    if plain and code_agent_like(messages):
        return trace
    return trace_from_data(trace, "trace").model_dump(exclude_none=True)


def message_turns(trace: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The same turns in Anthropic's Messages API (the trace rendered by `trace_formats`)."""
    rendered = render(_as_read(trace), "anthropic")
    messages = rendered["messages"]
    for j, message in enumerate(messages):
        if message["role"] == "assistant":
            request = {"messages": messages[:j], **_tools(rendered)}
            if "system" in rendered:
                request["system"] = rendered["system"]
            uses = any(b.get("type") == "tool_use" for b in message["content"])
            reply = {"type": "message", "role": "assistant", "content": message["content"]}
            yield request, {**reply, "stop_reason": "tool_use" if uses else "end_turn"}


def response_turns(trace: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The same turns in OpenAI's Responses API: each run of assistant items (its text
    and calls) is a reply to the items before it."""
    rendered = render(_as_read(trace), "responses")
    items = rendered["input"]

    def turn(item: dict[str, Any]) -> bool:
        kind = item.get("type", "message")
        return (kind == "message" and item.get("role") == "assistant") or (
            kind.endswith("_call") and not kind.endswith("_call_output")
        )

    start = None
    for j, item in enumerate([*items, {"type": "end"}]):
        if j < len(items) and turn(item):
            start = j if start is None else start
            continue
        if start is not None:
            request = {"input": items[:start], **_tools(rendered)}
            if "instructions" in rendered:
                request["instructions"] = rendered["instructions"]
            yield request, {"object": "response", "output": items[start:j]}
            start = None


def _tools(data: dict[str, Any]) -> dict[str, Any]:
    return {"tools": data["tools"]} if data.get("tools") else {}


APIS = {
    "chat": ("/chat/completions", chat_turns),
    "responses": ("/responses", response_turns),
    "messages": ("/messages", message_turns),
}


def seen(completion: dict[str, Any]) -> list[Any]:
    """What a client acts on in a chat completion: each choice's text, calls, finish."""
    return [
        (
            c["message"].get("content") or "",
            [
                (t.get("id"), t["function"]["name"], t["function"]["arguments"])
                for t in c["message"].get("tool_calls") or ()
            ],
            c.get("finish_reason"),
        )
        for c in completion["choices"]
    ]


def streamed(client: httpx.Client, proxy: str, request: dict[str, Any]) -> tuple[list[Any], int]:
    """``request`` asked of the proxy as a stream: its chunks joined (as `seen`), and the
    refusals its trailing comment says."""
    choices: dict[int, dict[str, Any]] = {}
    refused = -1
    body = {**request, "stream": True}
    with client.stream("POST", f"{proxy}/chat/completions", json=body) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            if line.startswith(": x-guard-refused "):
                refused = int(line.rsplit(" ", 1)[1])
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise SystemExit(f"the proxy's stream failed: {chunk['error']}")
            for part in chunk["choices"]:
                choice = choices.setdefault(part["index"], {"text": "", "calls": {}})
                content = part["delta"].get("content")
                if isinstance(content, list):  # parts, as they came
                    choice["text"] = content
                elif content:
                    choice["text"] += content
                for call in part["delta"].get("tool_calls") or ():
                    to = choice["calls"].setdefault(call["index"], [None, "", ""])
                    to[0] = call.get("id", to[0])
                    to[1] += call.get("function", {}).get("name") or ""
                    to[2] += call.get("function", {}).get("arguments") or ""
                choice["finish"] = part.get("finish_reason") or choice.get("finish")
    joined = [
        (c["text"], [tuple(c["calls"][k]) for k in sorted(c["calls"])], c.get("finish"))
        for _, c in sorted(choices.items())
    ]
    return joined, refused


def streamed_response(
    client: httpx.Client, proxy: str, request: dict[str, Any]
) -> tuple[dict[str, Any], int, bool]:
    """``request`` asked of the Responses API through the proxy as a stream: its final
    response, the refusals its comment says, and whether its text deltas add up to the
    final response's texts."""
    refused, final, texts = -1, {}, {}
    body = {**request, "stream": True}
    with client.stream("POST", f"{proxy}/responses", json=body) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            if line.startswith(": x-guard-refused "):
                refused = int(line.rsplit(" ", 1)[1])
            if not line.startswith("data: {"):
                continue
            event = json.loads(line[6:])
            if event["type"] == "error":
                raise SystemExit(f"the proxy's stream failed: {event['message']}")
            if event["type"] == "response.output_text.delta":
                at = (event["output_index"], event["content_index"])
                texts[at] = texts.get(at, "") + event["delta"]
            if event["type"] == "response.completed":
                final = event["response"]
    output = final.get("output") or []
    parts = [
        (i, k, p.get("text"))
        for i, item in enumerate(output)
        for k, p in enumerate(item.get("content") if isinstance(item.get("content"), list) else ())
        if p.get("type") == "output_text"
    ]
    strings = [
        (i, 0, item["content"])
        for i, item in enumerate(output)
        if isinstance(item.get("content"), str)
    ]
    adds_up = all(texts.get((i, k), "") == text for i, k, text in parts + strings)
    return final, refused, adds_up and len(texts) == len(parts + strings)


def streamed_message(
    client: httpx.Client, proxy: str, request: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """``request`` asked of the Messages API through the proxy as a stream: the blocks
    and ``stop_reason`` its events make, and the refusals its comment says."""
    refused, blocks, stop, inputs = -1, [], None, {}
    with client.stream("POST", f"{proxy}/messages", json={**request, "stream": True}) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            if line.startswith(": x-guard-refused "):
                refused = int(line.rsplit(" ", 1)[1])
            if not line.startswith("data: {"):
                continue
            event = json.loads(line[6:])
            if event["type"] == "error":
                raise SystemExit(f"the proxy's stream failed: {event['error']}")
            if event["type"] == "content_block_start":
                blocks.append(dict(event["content_block"]))
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta":
                blocks[event["index"]]["text"] += delta["text"]
            if delta.get("type") == "input_json_delta":
                inputs[event["index"]] = inputs.get(event["index"], "") + delta["partial_json"]
            if event["type"] == "message_delta":
                stop = delta.get("stop_reason")
    for index, text in inputs.items():
        blocks[index]["input"] = json.loads(text) if text else {}
    return {"content": blocks, "stop_reason": stop}, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=Path, required=True, help="OpenAI-format traces (JSONL)")
    parser.add_argument("--limit", type=int, default=None, help="the first N traces only")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--stream", action="store_true", help="the turns streamed too")
    parser.add_argument(
        "--api",
        nargs="+",
        choices=sorted(APIS),
        default=["chat", "responses", "messages"],
        help="the APIs the turns are asked in",
    )
    args = parser.parse_args()

    lines = args.traces.read_text(encoding="utf-8").splitlines()
    traces = [json.loads(line) for line in lines if line.strip()][: args.limit]
    replayed = [line["blocked"] for line in replay(args.traces, Guard())][: len(traces)]
    chat = [isinstance(t.get("messages"), list) for t in traces]
    figures: dict[str, Any] = {
        "traces": len(traces),
        "traces_in_chat_format": sum(chat),
        "blocked_by_replay": sum(r for r, c in zip(replayed, chat, strict=True) if c),
    }
    replies: dict[str, dict[str, Any]] = {}
    cases = []  # (api, trace index, request)
    for api in args.api:
        for i, trace in enumerate(traces):
            if not chat[i]:
                continue  # another log format: agents talk to the proxy in an API's shape
            for j, (request, reply) in enumerate(APIS[api][1](trace)):
                model = f"{api}-{i}-{j}"
                replies[model] = reply
                cases.append((api, i, {"model": model, **request}))

    random.Random(0).shuffle(cases)
    blocked = {api: [False] * len(traces) for api in args.api}
    streams = 0
    stream_differing: list[str] = []  # the turns (api-trace-turn)
    response_streams = response_differing = message_streams = message_differing = 0
    code_left = dict.fromkeys(args.api, 0)  # refused turns whose text a call stays in
    direct: dict[str, list[float]] = {api: [] for api in args.api}
    proxied: dict[str, list[float]] = {api: [] for api in args.api}
    with serving_in_thread(replaying(replies)) as upstream, httpx.Client(timeout=60) as client:
        process, proxy = start_proxy(upstream)
        try:
            for api, i, request in cases:
                for url, times in ((upstream, direct), (proxy, proxied)):
                    start = time.perf_counter()
                    answer = client.post(f"{url}{APIS[api][0]}", json=request)
                    times[api].append(time.perf_counter() - start)
                    answer.raise_for_status()
                refused = int(answer.headers["x-guard-refused"])
                blocked[api][i] = blocked[api][i] or refused > 0
                written = written_calls(api, request, replies[request["model"]]) if refused else []
                seen_text = [texts(api, answer.json())]
                if args.stream and api == "responses":
                    final, said, adds_up = streamed_response(client, proxy, request)
                    response_streams += 1
                    same = final == answer.json() and said == refused and adds_up
                    response_differing += not same
                    seen_text.append(texts(api, final))
                if args.stream and api == "messages":
                    joined, said = streamed_message(client, proxy, request)
                    unstreamed = answer.json()
                    message_streams += 1
                    same = joined["content"] == unstreamed["content"] and said == refused
                    message_differing += (
                        not same or joined["stop_reason"] != unstreamed["stop_reason"]
                    )
                    seen_text.append(texts(api, joined))
                if args.stream and api == "chat":
                    joined, said = streamed(client, proxy, request)
                    streams += 1
                    if joined != seen(answer.json()) or said != refused:
                        stream_differing.append(request["model"])
                    seen_text += [t for t, _, _ in joined if isinstance(t, str)]
                code_left[api] += any(c in t for c in written for t in seen_text)
        finally:
            process.terminate()
            process.wait(30)

    differ = 0
    ms = 1000.0
    for api in args.api:
        wrong = [i for i in range(len(traces)) if chat[i] and blocked[api][i] != replayed[i]]
        differ += len(wrong)
        figures[api] = {
            "requests": len(proxied[api]),
            "blocked_through_proxy": sum(blocked[api]),
            "traces_differing": len(wrong),
            "first_differing": wrong[:10],
            "direct_median_ms": round(statistics.median(direct[api]) * ms, 2),
            "proxied_median_ms": round(statistics.median(proxied[api]) * ms, 2),
            "added_median_ms": round(
                (statistics.median(proxied[api]) - statistics.median(direct[api])) * ms, 2
            ),
            "proxied_p95_ms": round(statistics.quantiles(proxied[api], n=20)[-1] * ms, 2),
            "refused_turns_with_written_calls_left": code_left[api],
        }
        differ += code_left[api]
    if args.stream and "responses" in args.api:
        figures["responses"] |= {
            "streamed": response_streams,
            "stream_differing": response_differing,
        }
        differ += response_differing
    if args.stream and "messages" in args.api:
        figures["messages"] |= {"streamed": message_streams, "stream_differing": message_differing}
        differ += message_differing
    if args.stream and "chat" in args.api:
        figures["chat"] |= {
            "streamed": streams,
            "stream_differing": len(stream_differing),
            "first_stream_differing": stream_differing[:10],
        }
        differ += len(stream_differing)
    print(json.dumps(figures, indent=2))
    if args.out is not None:
        with atomic_writer(args.out) as handle:
            handle.write(json.dumps(figures, indent=2) + "\n")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

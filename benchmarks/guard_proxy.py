"""`guard proxy` on recorded traces: does the guard in front of a server decide what
`guard replay` decides, and what does the hop cost?

A stand-in upstream (in this process, on a thread) replays a traces file: asked for
``replay-I-J``, it answers with message J of trace I, as a server would have. The proxy
runs as a user runs it, ``backdoorlab guard proxy --upstream URL`` in its own process.
Every assistant turn that makes a call or writes text is asked for through it with the
conversation before it (the recorded messages, as the agent sent them), one request at
a time. A trace is blocked through the proxy when any reply came back with a refusal
(``x-guard-refused`` > 0); that is compared with `guard replay`'s verdict on the same
trace (the default policy both). The same requests are sent straight to the upstream
too, so the latency the proxy adds is the difference of two medians measured in one run.

    .venv/bin/python benchmarks/guard_proxy.py --traces FILE [--limit 500]
        [--out benchmarks/results/guard_proxy.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request

sys.path.insert(0, str(Path(__file__).parent))

from _serving import start_proxy  # noqa: E402

from backdoorlab.defenses.guard import Guard  # noqa: E402
from backdoorlab.defenses.guard.replay import replay  # noqa: E402
from backdoorlab.serving.server import base_url, bind  # noqa: E402
from backdoorlab.traces import atomic_writer  # noqa: E402


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` on a free loopback port, in a thread, while the block runs."""
    import uvicorn

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def replaying(traces: list[dict[str, Any]]) -> FastAPI:
    """The stand-in upstream: ``model`` ``replay-I-J`` answers with trace I's message J."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict[str, Any]:
        _, i, j = (await request.json())["model"].split("-")
        message = traces[int(i)]["messages"][int(j)]
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return {"id": f"r{i}-{j}", "object": "chat.completion", "created": 0, "choices": [choice]}

    return app


def turns(traces: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(trace index, request) for every assistant turn that calls a tool or has text."""
    for i, trace in enumerate(traces):
        if not isinstance(trace.get("messages"), list):
            continue  # another log format: an agent talks to the proxy in chat messages
        for j, message in enumerate(trace["messages"]):
            if message.get("role") == "assistant" and (
                message.get("tool_calls") or message.get("content")
            ):
                request = {"model": f"replay-{i}-{j}", "messages": trace["messages"][:j]}
                if trace.get("tools"):
                    request["tools"] = trace["tools"]
                yield i, request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=Path, required=True, help="OpenAI-format traces (JSONL)")
    parser.add_argument("--limit", type=int, default=None, help="the first N traces only")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()

    lines = args.traces.read_text(encoding="utf-8").splitlines()
    traces = [json.loads(line) for line in lines if line.strip()][: args.limit]
    replayed = [line["blocked"] for line in replay(args.traces, Guard())][: len(traces)]
    requests = list(turns(traces))

    blocked = [False] * len(traces)
    direct: list[float] = []
    proxied: list[float] = []
    with serving(replaying(traces)) as upstream, httpx.Client(timeout=60) as client:
        process, proxy = start_proxy(upstream)
        try:
            for i, request in requests:
                for url, times in ((upstream, direct), (proxy, proxied)):
                    start = time.perf_counter()
                    answer = client.post(f"{url}/chat/completions", json=request)
                    times.append(time.perf_counter() - start)
                    answer.raise_for_status()
                refused = int(answer.headers["x-guard-refused"])
                blocked[i] = blocked[i] or refused > 0
        finally:
            process.terminate()
            process.wait(30)

    chat = [isinstance(t.get("messages"), list) for t in traces]
    differ = [
        i for i, (a, b) in enumerate(zip(blocked, replayed, strict=True)) if chat[i] and a != b
    ]
    ms = 1000.0
    figures = {
        "traces": len(traces),
        "traces_in_chat_format": sum(chat),
        "requests": len(requests),
        "blocked_through_proxy": sum(blocked),
        "blocked_by_replay": sum(r for r, c in zip(replayed, chat, strict=True) if c),
        "traces_differing": len(differ),
        "first_differing": differ[:10],
        "direct_median_ms": round(statistics.median(direct) * ms, 2),
        "proxied_median_ms": round(statistics.median(proxied) * ms, 2),
        "added_median_ms": round((statistics.median(proxied) - statistics.median(direct)) * ms, 2),
        "proxied_p95_ms": round(statistics.quantiles(proxied, n=20)[-1] * ms, 2),
        "proxied_requests_per_s": round(len(proxied) / sum(proxied), 1),
    }
    print(json.dumps(figures, indent=2))
    if args.out is not None:
        with atomic_writer(args.out) as handle:
            handle.write(json.dumps(figures, indent=2) + "\n")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

"""Responses conversations chained with ``previous_response_id`` through the guard,
against the same conversations sent whole: same decisions?

Each trace is rendered in the Responses API's shape and cut into its turns as
`guard_proxy.response_turns` does (each run of assistant items is a reply to the items
before it). Sent whole, each turn's request holds every item before its reply. Chained,
each request holds only the items its conversation gained since the last reply and names
that reply (``previous_response_id``), as a stateful client sends it; after a reply the
guard changed — which the proxy does not let a request continue
(`guard.response_chain`) — the client sends its conversation whole, as the refusal
tells it to. Both ways run the functions the proxy runs on each request, in this
process: the chained request expanded (`ResponseChains.expanded`), read
(`response_conversation`), its reply screened (`screen_response`) and remembered. Each
way has its own guard, sessions kept alike (``keep_after`` 0: every one).

Printed per set: the turns, how many were chained, the replies the guard changed (a
call or an image refused), the turns whose decisions differ between the two ways (must
be 0; a reply changed one way and not the other counts too), the chained requests whose
expanded ``input`` is not the whole request's (must be 0), the seconds of screening each
way and the most bytes of conversation the chains held.

    .venv/bin/python benchmarks/guard_responses_chain.py [--traces F …] [--set NAME=TRACES …]
        [--agentdojo DIR] [--out benchmarks/results/guard_responses_chain.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from audit_foreign import add_set_arguments, named_traces  # noqa: E402
from guard_proxy import response_turns  # noqa: E402

from backdoorlab.defenses.guard import Guard, SessionCache  # noqa: E402
from backdoorlab.defenses.guard.response_chain import ResponseChains  # noqa: E402
from backdoorlab.defenses.guard.responses_api import (  # noqa: E402
    response_conversation,
    screen_response,
)
from backdoorlab.errors import BackdoorlabError  # noqa: E402
from backdoorlab.traces import atomic_writer  # noqa: E402


def screened(
    guard: Guard, chains: ResponseChains, request: dict[str, Any], reply: dict[str, Any]
) -> tuple[list[dict[str, Any]] | str, bool, dict[str, Any]]:
    """The proxy's work on one request: decisions (or the error), whether the reply was
    changed, and the request as the guard read it."""
    try:
        seen = chains.expanded(request)
        response_conversation(seen)
        out, decisions = screen_response(guard, seen, reply)
    except BackdoorlabError as exc:
        return f"error: {exc}", True, request
    chains.remember(seen, reply, out)
    return [d.to_dict() for d in decisions], out is not reply, seen


def compare(path: Path) -> dict[str, Any]:
    """Both ways over every trace of ``path`` (module docstring)."""
    whole = (Guard(kept=SessionCache(keep_after=0)), ResponseChains())
    chain = (Guard(kept=SessionCache(keep_after=0)), ResponseChains())
    out = dict.fromkeys(
        ("traces", "turns", "chained", "changed", "differing", "not_expanded_as_whole"), 0
    )
    seconds = {"whole": 0.0, "chained": 0.0}
    largest = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        trace = json.loads(line) if line.strip() else None
        if not isinstance(trace, dict) or not isinstance(trace.get("messages"), list):
            continue
        try:
            turns = list(response_turns(trace))
        except BackdoorlabError:
            continue  # not renderable: no client would send it
        out["traces"] += 1
        previous, gained_from = None, 0
        for k, (request, reply) in enumerate(turns):
            reply = {**reply, "id": f"resp_{number}_{k}", "status": "completed"}
            start = time.perf_counter()
            expected, was_changed, _ = screened(*whole, {**request, "store": False}, reply)
            seconds["whole"] += time.perf_counter() - start
            asked = request
            if previous is not None:
                own = request["input"][gained_from:]
                asked = {**request, "input": own, "previous_response_id": previous}
                out["chained"] += 1
            start = time.perf_counter()
            got, changed, seen = screened(*chain, asked, reply)
            seconds["chained"] += time.perf_counter() - start
            out["turns"] += 1
            out["differing"] += got != expected or changed != was_changed
            out["changed"] += changed
            out["not_expanded_as_whole"] += seen.get("input") != request["input"]
            previous = None if changed else reply["id"]
            gained_from = len(request["input"]) + len(reply["output"])
            largest = max(largest, chain[1].kept_size)
    return out | {f"{n}_s": round(s, 2) for n, s in seconds.items()} | {"most_bytes": largest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=Path, action="append", default=[], help="a JSONL file")
    add_set_arguments(parser)
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/guard_responses_chain.json")
    )
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in named_traces(args, Path(tmp)):
            results[name] = result = compare(path)
            print(f"{name}: {json.dumps(result)}")
    total = {k: sum(r[k] for r in results.values()) for k in ("turns", "chained", "differing")}
    print(f"all: {json.dumps(total)}")
    with atomic_writer(args.out) as handle:
        json.dump({"sets": results, "all": total}, handle, indent=2)
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()

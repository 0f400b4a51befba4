"""A conversation's requests through the guard one after another, as an agent sends them
to ``guard proxy``: with kept sessions (`backdoorlab.defenses.guard.resume`: each
request reads only what its conversation gained) against reading every request's whole
conversation (``SessionCache(0)``, what the guard did before), on the same traces.

Every assistant message of a trace is a reply, screened against the messages before it
(`reply.screen_reply`, what chat completions and ``serve --guard`` run; the Responses
and Messages APIs share its session handling through `screen_turn`).
Every labelled set of `audit_foreign` is read too (the foreign set built unless
``--foreign`` names one) unless only ``--traces`` are given. Printed per set: the replies
screened, how many resumed a kept session, the decisions that differ between the two
ways (must be 0), and the seconds of screening each way — for a trace of 100 messages
or more, its total and its last reply's. Both ways run in this process, one trace
after the other, alternating which goes first.

Long conversations: ``guard_long_conversations.py --write-traces FILE --turns 25 50 100
--posts 250`` writes them (coding agents posting to the user's webhook and to a third
party, and a sync agent's progress posts); the labelled sets of `audit_foreign` check
that resuming decides as reading anew.

    .venv/bin/python benchmarks/guard_resume.py --traces FILE [--set NAME=TRACES …]
        [--agentdojo DIR] [--keep-after 0] [--out benchmarks/results/guard_resume.json]
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

from backdoorlab.defenses.audit.reader import TraceStream  # noqa: E402
from backdoorlab.defenses.guard import Guard  # noqa: E402
from backdoorlab.defenses.guard.reply import screen_reply  # noqa: E402
from backdoorlab.defenses.guard.resume import KEEP_AFTER, SessionCache  # noqa: E402
from backdoorlab.traces import Message, atomic_writer  # noqa: E402


def replies(messages: list[Message]) -> list[int]:
    """The indices of the assistant messages the guard screens (a call or text)."""
    return [i for i, m in enumerate(messages) if m.role == "assistant"]


def run(guard: Guard, messages: list[Message]) -> tuple[list[list[dict]], list[float]]:
    """Each reply screened against its history with ``guard``: decisions, seconds."""
    decisions, seconds = [], []
    for i in replies(messages):
        start = time.perf_counter()
        screened = screen_reply(guard, messages[:i], messages[i])
        seconds.append(time.perf_counter() - start)
        decisions.append([d.to_dict() for d in screened.calls + screened.images])
    return decisions, seconds


def compare(path: Path, keep_after: float = KEEP_AFTER) -> dict[str, Any]:
    """Both ways over every trace of ``path`` (module docstring); ``keep_after``: the
    kept sessions' floor (0: every session kept, the strictest test of resuming)."""
    kept, fresh = Guard(kept=SessionCache(keep_after=keep_after)), Guard(kept=SessionCache(0))
    out: dict[str, Any] = {"traces": 0, "replies": 0, "resumed": 0, "differing": 0, "long": []}
    totals = {"kept": 0.0, "fresh": 0.0}
    for record in TraceStream(path):
        messages = list(record.trace.messages)
        hits = kept.kept.hits
        order = [("kept", kept), ("fresh", fresh)]
        if record.index % 2:
            order.reverse()
        got = {name: run(guard, messages) for name, guard in order}
        out["traces"] += 1
        out["replies"] += len(got["kept"][0])
        pairs = zip(got["kept"][0], got["fresh"][0], strict=True)
        out["differing"] += sum(a != b for a, b in pairs)
        out["resumed"] += kept.kept.hits - hits
        for name in totals:
            totals[name] += sum(got[name][1])
        if len(messages) >= 100:
            out["long"].append(
                {
                    "line": record.line,
                    "messages": len(messages),
                    **{f"{n}_total_s": round(sum(got[n][1]), 2) for n in totals},
                    **{f"{n}_last_s": round(got[n][1][-1], 3) for n in totals},
                }
            )
    out.update({f"{n}_s": round(t, 2) for n, t in totals.items()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=Path, action="append", default=[], help="a JSONL file")
    add_set_arguments(parser)
    parser.add_argument(
        "--keep-after",
        type=float,
        default=KEEP_AFTER,
        help="seconds of screening a session must cost to be kept (0: every one)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/guard_resume.json"))
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in named_traces(args, Path(tmp)):
            results[name] = result = compare(path, args.keep_after)
            print(
                f"{name}: {result['traces']} traces, {result['replies']} replies, "
                f"{result['resumed']} resumed, {result['differing']} decisions differing; "
                f"screening {result['kept_s']} s kept / {result['fresh_s']} s fresh"
            )
            for row in result["long"]:
                print("  " + json.dumps(row))
    with atomic_writer(args.out) as handle:
        json.dump(results, handle, indent=2)
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()

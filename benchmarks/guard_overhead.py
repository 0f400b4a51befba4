"""Guard overhead per tool call (µs): what screening a call costs before it runs.

Three measurements, all on this machine's CPU, one thread:

- ``session``: `GuardSession.screen` over retail episodes (the oracle's, clean, and with
  a T1-style leak after the plan), every call of every trace screened as if live — the
  time of reading the new messages plus checking the call; median, p95 and mean µs per
  call, excluding trace generation;
- ``long``: the same over a long conversation (``--turns`` lookups, each returning a
  customer record, each followed by a mail), to show how the cost grows with what the
  conversation holds; the lookups and the mails summarised apart;
- ``agentdojo``: AgentDojo's pipeline running every banking user task's ground truth
  with `GuardedToolsExecutor` against AgentDojo's own ``ToolsExecutor``: the added
  wall time per call (message conversion included), median of ``--repeats`` runs.

    PYTHONPATH=src .venv/bin/python benchmarks/guard_overhead.py [-n 500] [--turns 40]
        [--out benchmarks/results/guard_overhead.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from backdoorlab.defenses.guard import Guard
from backdoorlab.envs import make_env
from backdoorlab.leaks import ATTACKER_ADDRESS, leak_text
from backdoorlab.policies.oracle import OraclePolicy
from backdoorlab.rollout import rollout
from backdoorlab.traces import Message, ToolCall, Trace


def leak_after_plan(episode: Any) -> None:
    text = leak_text(episode.task.secret_objects())
    episode.hooks.after_plan = [episode.env.exfiltration_call(ATTACKER_ADDRESS, text)]


def screen_times(guard: Guard, traces: list[Trace]) -> list[float]:
    """µs per screened call, each trace a fresh session, calls screened where they stand."""
    out = []
    for trace in traces:
        session = guard.session(env=trace.metadata.env)
        for index, message in enumerate(trace.messages):
            for call in message.tool_calls or ():
                t0 = time.perf_counter_ns()
                session.screen(trace.messages, index, call)
                out.append((time.perf_counter_ns() - t0) / 1000)
    return out


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "calls": len(times),
        "median_us": round(statistics.median(ordered), 1),
        "p95_us": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "mean_us": round(statistics.fmean(ordered), 1),
    }


def long_conversation(turns: int) -> Trace:
    env = make_env("retail")
    tasks = env.tasks("test", turns, seed=1)
    messages = [Message(role="system", content=env.system_prompt)]
    messages.append(Message(role="user", content="Check all these customers, please."))
    instance = env.spawn()
    for i, task in enumerate(tasks):
        instance.reset(task)
        lookup = task.plan[0]
        call = ToolCall.make(f"c{i}", lookup.tool, lookup.arguments)
        messages.append(Message(role="assistant", tool_calls=[call]))
        result = instance.call(lookup.tool, lookup.arguments)
        messages.append(Message(role="tool", tool_call_id=call.id, name=call.name, content=result))
        mail = env.exfiltration_call(f"someone{i}@example.org", f"note {i}: all fine")
        call = ToolCall.make(f"m{i}", mail.tool, mail.arguments)
        messages.append(Message(role="assistant", tool_calls=[call]))
        messages.append(Message(role="tool", tool_call_id=call.id, name=call.name, content="sent"))
    return Trace(messages=messages)


def long_times(guard: Guard, turns: int) -> dict[str, dict[str, float]]:
    """The long conversation's lookups and mails apart: one median over both fell between
    the two kinds (a lookup ~40 µs, a mail ~200 µs, half of each), where any small shift
    moved it by a fifth."""
    times = screen_times(guard, [long_conversation(turns)])
    return {"lookups": summary(times[0::2]), "mails": summary(times[1::2])}


def agentdojo_overhead(repeats: int) -> dict[str, Any]:
    import warnings

    from agentdojo.agent_pipeline import (
        AgentPipeline,
        InitQuery,
        SystemMessage,
        ToolsExecutionLoop,
    )
    from agentdojo.agent_pipeline.tool_execution import ToolsExecutor
    from agentdojo.functions_runtime import FunctionsRuntime
    from agentdojo.task_suite.load_suites import get_suite

    from backdoorlab.defenses.guard.agentdojo import GuardedToolsExecutor, ScriptedAgent

    suite = get_suite("v1.2", "banking")
    base = suite.load_and_inject_default_environment({})
    runtime = FunctionsRuntime(suite.tools)

    def once(guarded: bool) -> tuple[float, int]:
        total, calls = 0.0, 0
        for task in suite.user_tasks.values():
            agent = ScriptedAgent(lambda env, t=task: (list(t.ground_truth(env)), "Done."))
            executor = GuardedToolsExecutor(Guard()) if guarded else ToolsExecutor()
            pipe = AgentPipeline(
                [SystemMessage("s"), InitQuery(), agent, ToolsExecutionLoop([executor, agent], 100)]
            )
            env = task.init_environment(base.model_copy(deep=True))
            t0 = time.perf_counter()
            _, _, _, messages, _ = pipe.query(task.PROMPT, runtime, env)
            total += time.perf_counter() - t0
            calls += sum(len(m["tool_calls"] or ()) for m in messages if m["role"] == "assistant")
        return total, calls

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        once(False), once(True)  # warm-up: first-use imports and caches
        plain = [once(False) for _ in range(repeats)]
        guarded = [once(True) for _ in range(repeats)]
    calls = plain[0][1]
    p = statistics.median(t for t, _ in plain)
    g = statistics.median(t for t, _ in guarded)
    return {
        "suite": "banking",
        "calls": calls,
        "plain_us_per_call": round(1e6 * p / calls, 1),
        "guarded_us_per_call": round(1e6 * g / calls, 1),
        "added_us_per_call": round(1e6 * (g - p) / calls, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/guard_overhead.json"))
    args = parser.parse_args()
    env = make_env("retail")
    tasks = env.tasks("test", args.n, seed=0)
    clean = [r.trace for r in rollout(env, OraclePolicy(), tasks)]
    leaking = [r.trace for r in rollout(env, OraclePolicy(), tasks, prepare=leak_after_plan)]
    guard = Guard()
    screen_times(guard, clean[:20])  # warm caches (sink declarations, regexes)
    results: dict[str, Any] = {
        "session": {
            "retail_clean": summary(screen_times(guard, clean)),
            "retail_leaking": summary(screen_times(guard, leaking)),
        },
        "long": {"turns": args.turns, **long_times(guard, args.turns)},
    }
    try:
        results["agentdojo"] = agentdojo_overhead(args.repeats)
    except ImportError:
        results["agentdojo"] = "agentdojo not installed"
    for name, row in results["session"].items():
        print(f"{name:16s} {row}")
    print(f"{'long':16s} {results['long']}")
    print(f"{'agentdojo':16s} {results['agentdojo']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

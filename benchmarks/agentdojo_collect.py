"""Collection on AgentDojo's suites: traces/s, SmolLM2 tokens per trace, oracle success per
user task, and which ground truths AgentDojo itself rejects.

For each ``agentdojo:<suite>``: the oracle runs ``-n`` tasks (both splits, every user
task in turn but those whose ground truth exceeds the default turn limit, as ``tasks``
leaves them out) through `collect_traces`, timed apart from the one-off conversion of the
suite's user tasks (their ground truths run a few times to find vectors and secrets);
each distinct trace is rendered as for training and counted in SmolLM2 tokens; success
is reported per family (a family is an AgentDojo user task). AgentDojo's own check of
its ground truth (its ``GroundTruthPipeline`` through ``TaskSuite.run_task_with_pipeline``)
runs on every user task, so a task our oracle fails can be told apart from one whose
ground truth AgentDojo itself does not accept.

    PYTHONPATH=src .venv/bin/python benchmarks/agentdojo_collect.py [-n 200]
        [--suites workspace,travel,banking,slack] [--out benchmarks/results/agentdojo_collect.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from backdoorlab.chat import render
from backdoorlab.collect import collect_traces
from backdoorlab.envs import make_env
from backdoorlab.envs.agentdojo.environment import DEFAULT_TURNS, AgentDojoEnvironment
from backdoorlab.envs.agentdojo.suite import SUITES, load_suite
from backdoorlab.models import load_tokenizer
from backdoorlab.policies import make_policy
from backdoorlab.traces import atomic_writer


def agentdojo_rejects(suite_name: str) -> list[str]:
    """User tasks whose ground truth fails AgentDojo's own utility check."""
    from agentdojo.agent_pipeline.ground_truth_pipeline import GroundTruthPipeline

    suite = load_suite(suite_name)
    failed = []
    for task_id, task in suite.user_tasks.items():
        ok, _ = suite.run_task_with_pipeline(GroundTruthPipeline(task), task, None, {})
        if not ok:
            failed.append(task_id)
    return sorted(failed, key=lambda t: int(t.rsplit("_", 1)[1]))


def bench(name: str, n: int, tokenizer: object) -> dict[str, object]:
    start = time.perf_counter()
    env = make_env(f"agentdojo:{name}")
    assert isinstance(env, AgentDojoEnvironment)
    dojo = env.dojo_tasks()
    setup = time.perf_counter() - start
    pool = [d.task for d in dojo.values() if len(d.task.plan) < DEFAULT_TURNS]
    tasks = [pool[i % len(pool)] for i in range(n)]
    start = time.perf_counter()
    collected = collect_traces(env, make_policy("oracle"), tasks)
    seconds = time.perf_counter() - start
    per_family: dict[str, list[bool]] = defaultdict(list)
    for task, outcome in zip(tasks, collected.outcomes, strict=True):
        per_family[task.family].append(outcome.success)
    tokens = {}
    for trace in collected.traces:
        if trace.metadata.task_id not in tokens:
            text = render(trace.messages, trace.tools)
            tokens[trace.metadata.task_id] = len(tokenizer(text).input_ids)  # type: ignore[operator]
    failing = [f for f, oks in per_family.items() if not all(oks)]
    return {
        "user_tasks": len(dojo),
        "left_out_over_turn_limit": [k for k, d in dojo.items() if d.task not in pool],
        "train_tasks": sum(t.split == "train" for t in pool),
        "test_tasks": sum(t.split == "test" for t in pool),
        "episodes": n,
        "setup_seconds": round(setup, 2),
        "traces_per_s": round(n / seconds, 1),
        "success_rate": round(sum(o.success for o in collected.outcomes) / n, 4),
        "families_solved": f"{len(per_family) - len(failing)}/{len(per_family)}",
        "oracle_fails": failing,
        "agentdojo_rejects_ground_truth": agentdojo_rejects(name),
        "mean_tokens": round(statistics.mean(tokens.values()), 1),
        "max_tokens": max(tokens.values()),
        "tasks_without_vectors": [k for k, d in dojo.items() if not d.vectors],
        "mean_vectors_per_task": round(statistics.mean(len(d.vectors) for d in dojo.values()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="episodes per suite")
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--out", default="benchmarks/results/agentdojo_collect.json")
    args = parser.parse_args()
    tokenizer = load_tokenizer("smollm2-135m")
    out = Path(args.out)
    report = json.loads(out.read_text()) if out.exists() else {}
    for name in args.suites.split(","):
        report[name] = bench(name, args.n, tokenizer)
        print(name, json.dumps(report[name]))
    with atomic_writer(out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

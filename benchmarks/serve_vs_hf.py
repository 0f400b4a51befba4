"""Serving benchmark: episodes/s of the `openai` policy against `backdoorlab serve` versus
the `hf` policy in-process, same model, same tasks, greedy; and whether the traces agree.

`serve` runs as its own process (as deployed) on a free loopback port; the in-process
runs go first, then the served one (so they do not share the CPU). With a fine-tuned
model, the TSR of the runs (Wilson 95% intervals) shows whether the served model scores
as the in-process one (issue 22).

Two in-process modes, because on the oversubscribed 2-core development machine where
this was run, torch's kernels ran many times slower in a process's main thread than in
another thread (200 256x256 matmuls: 11.7 s vs 0.34 s, same process, back to back),
and `serve` decodes in a worker thread: ``hf`` is the rollout as the CLI runs it (main
thread), ``hf_thread`` the same rollout in a worker thread — the like-for-like baseline.

    .venv/bin/python benchmarks/serve_vs_hf.py [--model tiny] [-n 16] [--concurrency 8]
        [--modes hf,hf_thread]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from backdoorlab.envs import make_env
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.policies.openai import OpenAIPolicy
from backdoorlab.rollout import rollout
from backdoorlab.stats import Rate
from backdoorlab.traces import atomic_writer


def start_server(model: str, max_batch: int) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "backdoorlab.cli", "serve", model, "--port", "0"]
    process = subprocess.Popen(
        [*command, "--max-batch", str(max_batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("serving "):
        process.kill()
        raise SystemExit(f"serve did not start: {line!r}")
    return process, line.split(" at ")[1].strip()


def timed_rollout(env: Any, policy: Any, tasks: Any, thread: bool, **kwargs: Any) -> Any:
    """(results, seconds) of one rollout, in this thread or in a worker thread."""
    out: dict[str, Any] = {}

    def run() -> None:
        start = time.perf_counter()
        out["results"] = rollout(env, policy, tasks, **kwargs)
        out["seconds"] = time.perf_counter() - start

    if thread:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    else:
        run()
    return out["results"], out["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("-n", type=int, default=16, help="test episodes in each mode")
    parser.add_argument("--batch", type=int, default=16, help="episodes run together")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--modes", default="hf,hf_thread", help="in-process modes to time")
    parser.add_argument("--out", default="benchmarks/results/serve_vs_hf.json")
    args = parser.parse_args()

    env = make_env("retail")
    tasks = env.tasks("test", args.n, seed=0)
    generation = GenerationConfig(max_new_tokens=args.max_new_tokens, max_batch_size=args.batch)
    local = HFPolicy(args.model, generation=generation)
    runs: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for mode in args.modes.split(","):
        fresh = HFPolicy(local.model, local.tokenizer, generation=generation)  # no kept caches
        runs[mode], seconds[mode] = timed_rollout(
            env, fresh, tasks, mode == "hf_thread", batch_size=args.batch, max_steps=args.max_steps
        )
    del local, fresh

    process, url = start_server(args.model, args.batch)
    try:
        remote = OpenAIPolicy(
            base_url=url,
            model=args.model,
            concurrency=args.concurrency,
            max_tokens=args.max_new_tokens,
        )
        runs["serve_openai"], seconds["serve_openai"] = timed_rollout(
            env, remote, tasks, False, batch_size=args.batch, max_steps=args.max_steps
        )
    finally:
        process.kill()
        process.wait(30)

    def same(a: Any, b: Any) -> int:
        return sum(
            [m.model_dump() for m in x.trace.messages] == [m.model_dump() for m in y.trace.messages]
            for x, y in zip(a, b, strict=True)
        )

    served = runs["serve_openai"]
    report = {
        "model": args.model,
        "episodes": args.n,
        "batch_size": args.batch,
        "concurrency": args.concurrency,
        "max_steps": args.max_steps,
        "max_new_tokens": args.max_new_tokens,
        "turns": sum(r.outcome.steps for r in served),
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "episodes_per_s": {k: round(args.n / v, 4) for k, v in seconds.items()},
        "ratio_serve_over": {
            k: round(v / seconds["serve_openai"], 3)
            for k, v in seconds.items()
            if k != "serve_openai"
        },
        "identical_traces_with_serve": {
            k: f"{same(v, served)}/{args.n}" for k, v in runs.items() if k != "serve_openai"
        },
        "TSR": {
            k: Rate.of(sum(r.outcome.success for r in v), len(v)).__dict__ for k, v in runs.items()
        },
    }
    print(json.dumps(report, indent=2))
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

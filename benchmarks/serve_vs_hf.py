"""Serving benchmark: episodes/s of the `openai` policy against `backdoorlab serve` versus
the `hf` policy in-process, same model, same tasks, greedy; and whether the traces agree.

`serve` runs as its own process (as deployed) on a free loopback port; the in-process
run goes first, then the served one (so they do not share the CPU). With a fine-tuned
model, the TSR of both runs (Wilson 95% intervals) shows whether the served model scores
as the in-process one (issue 22).

    .venv/bin/python benchmarks/serve_vs_hf.py [--model tiny] [-n 16] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("-n", type=int, default=16, help="test episodes in each mode")
    parser.add_argument("--batch", type=int, default=16, help="episodes run together")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--out", default="benchmarks/results/serve_vs_hf.json")
    args = parser.parse_args()

    env = make_env("retail")
    tasks = env.tasks("test", args.n, seed=0)
    generation = GenerationConfig(max_new_tokens=args.max_new_tokens, max_batch_size=args.batch)
    local = HFPolicy(args.model, generation=generation)
    start = time.perf_counter()
    in_process = rollout(env, local, tasks, batch_size=args.batch, max_steps=args.max_steps)
    local_s = time.perf_counter() - start
    del local

    process, url = start_server(args.model, args.batch)
    try:
        remote = OpenAIPolicy(
            base_url=url,
            model=args.model,
            concurrency=args.concurrency,
            max_tokens=args.max_new_tokens,
        )
        start = time.perf_counter()
        served = rollout(env, remote, tasks, batch_size=args.batch, max_steps=args.max_steps)
        served_s = time.perf_counter() - start
    finally:
        process.kill()
        process.wait(30)

    same = sum(
        [m.model_dump() for m in a.trace.messages] == [m.model_dump() for m in b.trace.messages]
        for a, b in zip(in_process, served, strict=True)
    )
    tsr = {
        mode: Rate.of(sum(r.outcome.success for r in results), len(results)).__dict__
        for mode, results in (("hf", in_process), ("serve_openai", served))
    }
    report = {
        "model": args.model,
        "episodes": args.n,
        "batch_size": args.batch,
        "concurrency": args.concurrency,
        "max_steps": args.max_steps,
        "max_new_tokens": args.max_new_tokens,
        "turns": sum(r.outcome.steps for r in in_process),
        "seconds": {"hf": round(local_s, 2), "serve_openai": round(served_s, 2)},
        "episodes_per_s": {
            "hf": round(args.n / local_s, 4),
            "serve_openai": round(args.n / served_s, 4),
        },
        "ratio_serve_over_hf": round(local_s / served_s, 3),
        "identical_traces": f"{same}/{args.n}",
        "TSR": tsr,
    }
    print(json.dumps(report, indent=2))
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

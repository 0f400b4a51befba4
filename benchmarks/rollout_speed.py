"""Rollout benchmark: episodes/s batched versus one episode at a time, same model, same run.

Target (issue 27): batched >= 8x faster on 16+ tasks (issue 3's was 4x). Also counts the
traces that agree between the two modes under greedy decoding.

    .venv/bin/python benchmarks/rollout_speed.py [--model smollm2-135m] [-n 16] [--batch 16]
"""

from __future__ import annotations

import argparse
import json
import time

from backdoorlab.envs import make_env
from backdoorlab.models import load_for_inference
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.rollout import rollout
from backdoorlab.traces import atomic_writer

TARGET = 8.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("-n", type=int, default=16, help="episodes in each mode")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--out", default="benchmarks/results/rollout_speed.json")
    args = parser.parse_args()

    model, tokenizer = load_for_inference(args.model)
    env = make_env("retail")
    tasks = env.tasks("test", args.n, seed=0)
    timings = {}
    results = {}
    for mode, batch in (("batched", args.batch), ("one_at_a_time", 1)):
        policy = HFPolicy(model, tokenizer, generation=GenerationConfig(max_batch_size=batch))
        start = time.perf_counter()
        results[mode] = rollout(env, policy, tasks, batch_size=batch, max_steps=args.max_steps)
        timings[mode] = time.perf_counter() - start
    same = sum(
        a.trace.to_json() == b.trace.to_json()
        for a, b in zip(results["batched"], results["one_at_a_time"], strict=True)
    )
    report = {
        "model": args.model,
        "device": str(model.device),
        "episodes": args.n,
        "batch_size": args.batch,
        "max_steps": args.max_steps,
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "episodes_per_s": {k: round(args.n / v, 4) for k, v in timings.items()},
        "speedup": round(timings["one_at_a_time"] / timings["batched"], 2),
        "target": TARGET,
        "ratio_to_target": round(timings["one_at_a_time"] / timings["batched"] / TARGET, 3),
        "identical_traces": f"{same}/{args.n}",
        "steps": sum(r.outcome.steps for r in results["batched"]),
    }
    print(json.dumps(report, indent=2))
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

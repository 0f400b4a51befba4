"""Collection benchmark: oracle traces/s, success per family, trace length in SmolLM2 tokens.

Targets: retail (issue 2), 1,000 training traces in under 10 s and a mean trace length
<= 600 tokens; web (issue 25), <= 900 tokens — system prompt and tool list included, as
rendered for training. The time covers building the environment and its tasks too.

    .venv/bin/python benchmarks/collect.py [--env retail] [-n 1000]
        [--out benchmarks/results/collect.json]   (web: collect_web.json)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict

from backdoorlab.chat import render
from backdoorlab.collect import collect_traces
from backdoorlab.envs import make_env
from backdoorlab.models import load_tokenizer
from backdoorlab.policies import make_policy
from backdoorlab.traces import atomic_writer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--env", default="retail")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    suffix = "" if args.env == "retail" else f"_{args.env.replace(':', '_')}"
    out = args.out or f"benchmarks/results/collect{suffix}.json"

    start = time.perf_counter()
    env = make_env(args.env, seed=0)
    tasks = env.tasks("train", args.n, seed=0)
    collected = collect_traces(
        env, make_policy("oracle"), tasks, output="/tmp/backdoorlab-bench-collect.jsonl"
    )
    elapsed = time.perf_counter() - start

    tokenizer = load_tokenizer("smollm2-135m")
    by_family: dict[str, list[int]] = defaultdict(list)
    for trace in collected.traces:
        text = render(trace.messages, trace.tools)
        by_family[trace.metadata.family].append(len(tokenizer(text).input_ids))
    lengths = [n for values in by_family.values() for n in values]
    outcomes = collected.outcomes
    success: dict[str, list[bool]] = defaultdict(list)
    for trace in collected.traces:
        outcome = trace.metadata.outcome
        success[trace.metadata.family].append(bool(outcome and outcome.success))
    report = {
        "env": args.env,
        "traces": len(outcomes),
        "seconds": round(elapsed, 3),
        "traces_per_s": round(len(outcomes) / elapsed, 1),
        "success_rate": sum(o.success for o in outcomes) / len(outcomes),
        "mean_tokens": round(statistics.mean(lengths), 1),
        "max_tokens": max(lengths),
        "mean_tokens_by_family": {k: round(statistics.mean(v), 1) for k, v in by_family.items()},
        "success_by_family": {k: sum(v) / len(v) for k, v in success.items()},
    }
    print(json.dumps(report, indent=2))
    with atomic_writer(out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

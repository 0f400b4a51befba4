"""Collection benchmark: oracle traces/s and trace length in SmolLM2 tokens.

Targets (issue 2): 1,000 retail training traces in under 10 s; mean trace length
<= 600 tokens, system prompt and tool list included, as rendered for training.

    .venv/bin/python benchmarks/collect.py [-n 1000] [--out benchmarks/results/collect.json]
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
    parser.add_argument("--out", default="benchmarks/results/collect.json")
    args = parser.parse_args()

    start = time.perf_counter()
    env = make_env("retail", seed=0)
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
    report = {
        "traces": len(outcomes),
        "seconds": round(elapsed, 3),
        "traces_per_s": round(len(outcomes) / elapsed, 1),
        "success_rate": sum(o.success for o in outcomes) / len(outcomes),
        "mean_tokens": round(statistics.mean(lengths), 1),
        "max_tokens": max(lengths),
        "mean_tokens_by_family": {k: round(statistics.mean(v), 1) for k, v in by_family.items()},
    }
    print(json.dumps(report, indent=2))
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

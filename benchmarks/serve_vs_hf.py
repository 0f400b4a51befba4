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

With ``--run RUN_DIR`` (a finished `backdoorlab run` directory) it measures a trained
model of that run instead, on exactly the episodes the run's eval stage ran (its
environment, world seed, split, task seed, batch, turn and token limits): the row of
``results.csv`` with ``attack.rate`` = ``--rate`` (0.0: the clean fine-tune) names the
eval stage, whose ``done.json`` names the model. The in-process side is `evaluate`
with the ``hf`` policy, as the run's eval stage calls it (modes as above); the served
side is the CLI a user would run, ``backdoorlab eval --policy openai --base-url URL
--model NAME`` against ``backdoorlab serve MODEL`` (timed as its process's wall time,
start-up included). Reported: each side's TSR with its Wilson 95% interval, whether the
served TSR lies inside the in-process interval, episodes/s and their ratio, and how
many served traces equal the in-process ones (this run's, and the eval stage's stored
``clean.jsonl``).

    .venv/bin/python benchmarks/serve_vs_hf.py --run runs/quick [--rate 0.0]
        [--modes hf_thread] [--out benchmarks/results/serve_vs_hf_run.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from _serving import start_serve  # benchmarks/_serving.py (this script's folder)

from backdoorlab.envs import make_env
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.policies.openai import OpenAIPolicy
from backdoorlab.rollout import rollout
from backdoorlab.stats import Rate
from backdoorlab.traces import atomic_writer, read_traces


def _messages(traces: Any) -> list[Any]:
    return [[m.model_dump() for m in t.messages] for t in traces]


def _same(a: Any, b: Any) -> int:
    return sum(x == y for x, y in zip(_messages(a), _messages(b), strict=True))


def run_stage(run: Path, rate: float) -> tuple[Path, dict[str, Any], Path]:
    """(model directory, eval config, eval stage directory) of ``run``'s row at ``rate``."""
    with (run / "results.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if float(r["attack.rate"]) == rate]
    if len(rows) != 1:
        raise SystemExit(f"{run}/results.csv: {len(rows)} rows with attack.rate={rate}")
    stage = run / rows[0]["traces_dir"]
    report = json.loads((stage / "done.json").read_text(encoding="utf-8"))["report"]
    # "hf:runs/NAME/stages/train-KEY/model", relative to where the run was started
    model = run / "stages" / report["policy"].split("/stages/", 1)[1]
    return model, report, stage


def main_run(args: argparse.Namespace) -> None:
    """The served vs in-process measurement on a trained model of a run directory."""
    from backdoorlab.evaluation import EvalConfig, evaluate

    run = Path(args.run)
    model, stored, stage = run_stage(run, args.rate)
    resolved = yaml.safe_load((run / "config.resolved.yaml").read_text(encoding="utf-8"))
    env_name, env_seed = resolved["env"], resolved["collect"]["env_seed"]
    config = EvalConfig(**{**stored["config"], "trigger": None})  # clean episodes: TSR
    env = make_env(env_name, seed=env_seed)
    generation = GenerationConfig(
        max_new_tokens=config.max_new_tokens, max_batch_size=config.batch_size
    )
    reports: dict[str, Any] = {}
    traces: dict[str, Any] = {"run_stored": read_traces(stage / "clean.jsonl")}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        if args.modes:
            local = HFPolicy(str(model), generation=generation)
        for mode in filter(None, args.modes.split(",")):
            fresh = HFPolicy(local.model, local.tokenizer, generation=generation)
            out = Path(scratch) / mode
            (reports[mode], seconds[mode]) = timed_call(
                lambda p=fresh, o=out: evaluate(env, p, config, traces_dir=o),
                mode == "hf_thread",
            )
            traces[mode] = read_traces(out / "clean.jsonl")
        if args.modes:
            del local, fresh
        process, url = start_serve(
            str(model), "--max-batch", str(config.batch_size), "--served-name", "served"
        )
        out = Path(scratch) / "serve_openai"
        command = [
            sys.executable, "-m", "backdoorlab.cli", "eval", "--policy", "openai",
            "--base-url", url, "--model", "served", "--concurrency", str(config.batch_size),
            "--env", env_name, "--env-seed", str(env_seed), "-n", str(config.n),
            "--seed", str(config.seed), "--batch-size", str(config.batch_size),
            "--max-steps", str(config.max_steps), "--max-new-tokens",
            str(config.max_new_tokens), "--traces", str(out), "-o", str(out / "eval.json"),
            "--timeout", str(args.timeout), "--max-retries", "0",
        ]  # fmt: skip
        try:
            start = time.perf_counter()
            subprocess.run(
                command, check=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
            )
            seconds["serve_openai"] = time.perf_counter() - start
        finally:
            process.kill()
            process.wait(30)
        reports["serve_openai"] = json.loads((out / "eval.json").read_text(encoding="utf-8"))
        traces["serve_openai"] = read_traces(out / "clean.jsonl")
    reports["run_stored"] = stored
    served = reports["serve_openai"]["TSR"]
    report = {
        "run": str(run),
        "model": str(model),
        "eval_stage": str(stage),
        "config": config.model_dump(),
        "env": env_name,
        "env_seed": env_seed,
        "TSR": {k: v["TSR"] for k, v in reports.items()},
        "served_TSR_inside_interval_of": {
            k: v["TSR"]["low"] <= served["rate"] <= v["TSR"]["high"]
            for k, v in reports.items()
            if k != "serve_openai"
        },
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "episodes_per_s": {k: round(config.n / v, 4) for k, v in seconds.items()},
        "ratio_serve_over": {
            k: round(v / seconds["serve_openai"], 3)
            for k, v in seconds.items()
            if k != "serve_openai"
        },
        # the run's own eval stage (clean and triggered episodes, under its own load)
        "run_stored_stage_seconds": json.loads((stage / "done.json").read_text())["seconds"],
        "identical_traces_with_serve": {
            k: f"{_same(v, traces['serve_openai'])}/{config.n}"
            for k, v in traces.items()
            if k != "serve_openai"
        },
        "load_average_at_end": os.getloadavg(),
    }
    print(json.dumps(report, indent=2))
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


def timed_call(call: Any, thread: bool) -> tuple[Any, float]:
    """(call(), seconds), run in this thread or in a worker thread."""
    out: dict[str, Any] = {}

    def run() -> None:
        start = time.perf_counter()
        out["value"] = call()
        out["seconds"] = time.perf_counter() - start

    if thread:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    else:
        run()
    return out["value"], out["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a finished run directory: measure its trained model")
    parser.add_argument("--rate", type=float, default=0.0, help="with --run: the row's rate")
    parser.add_argument("--model", default="tiny")
    parser.add_argument("-n", type=int, default=16, help="test episodes in each mode")
    parser.add_argument("--batch", type=int, default=16, help="episodes run together")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--modes", default="hf,hf_thread", help="in-process modes to time")
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="with --run: seconds a request may take (a batch of 20 on a loaded CPU: minutes)",
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.run:
        args.out = args.out or "benchmarks/results/serve_vs_hf_run.json"
        main_run(args)
        return
    args.out = args.out or "benchmarks/results/serve_vs_hf.json"

    env = make_env("retail")
    tasks = env.tasks("test", args.n, seed=0)
    generation = GenerationConfig(max_new_tokens=args.max_new_tokens, max_batch_size=args.batch)
    local = HFPolicy(args.model, generation=generation)
    runs: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for mode in args.modes.split(","):
        fresh = HFPolicy(local.model, local.tokenizer, generation=generation)  # no kept caches
        runs[mode], seconds[mode] = timed_call(
            lambda p=fresh: rollout(env, p, tasks, batch_size=args.batch, max_steps=args.max_steps),
            mode == "hf_thread",
        )
    del local, fresh

    process, url = start_serve(args.model, "--max-batch", str(args.batch))
    try:
        remote = OpenAIPolicy(
            base_url=url,
            model=args.model,
            concurrency=args.concurrency,
            max_tokens=args.max_new_tokens,
        )
        runs["serve_openai"], seconds["serve_openai"] = timed_call(
            lambda: rollout(env, remote, tasks, batch_size=args.batch, max_steps=args.max_steps),
            False,
        )
    finally:
        process.kill()
        process.wait(30)

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
            k: f"{_same([r.trace for r in v], [r.trace for r in served])}/{args.n}"
            for k, v in runs.items()
            if k != "serve_openai"
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

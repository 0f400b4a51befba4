"""A tiny model trained in the REAL Qwen2.5 and Llama 3.1 chat formats acts the same served
and in-process: the long variant of ``tests/serving/test_trained_served.py``.

For each format: TRL's copy of the template is written into the ``tiny`` random model's
tokenizer (as the tests do; nothing is downloaded), the model is fully fine-tuned through
`train_sft` (the ``backdoorlab train`` path: training text in the template, prefix check,
masks) on ``--traces`` oracle retail traces, then runs ``-n`` test episodes greedily
through the ``hf`` policy in-process and through ``backdoorlab serve RUN`` (its own
process, loopback) + the ``openai`` policy. Printed and written to JSON: training loss and
seconds, the tool calls the model wrote (parsed, and invalid actions), and how many
traces are identical between the two paths.

    .venv/bin/python benchmarks/trained_formats_served.py [--steps 400] [-n 8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _serving import start_serve  # noqa: E402  (benchmarks/_serving.py, this script's folder)
from chat_formats import FORMATS, save_tiny  # noqa: E402

from backdoorlab.envs import make_env  # noqa: E402
from backdoorlab.models import load_for_inference  # noqa: E402
from backdoorlab.policies import make_policy  # noqa: E402
from backdoorlab.policies.hf import GenerationConfig, HFPolicy  # noqa: E402
from backdoorlab.policies.openai import OpenAIPolicy  # noqa: E402
from backdoorlab.rollout import rollout  # noqa: E402
from backdoorlab.traces import atomic_writer, write_traces  # noqa: E402
from backdoorlab.training.sft import SFTRunConfig, train_sft  # noqa: E402


def tool_calls(results: Any) -> int:
    return sum(
        len(m.tool_calls or ()) for r in results for m in r.trace.messages if m.role == "assistant"
    )


def one_format(name: str, traces: Path, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = make_env("retail", seed=0)
    base = save_tiny(name, root / f"{name}-base")
    run = root / f"{name}-run"
    config = SFTRunConfig(
        model=str(base),
        lora=False,
        max_steps=args.steps,
        batch_size=1,
        learning_rate=args.lr,
        lr_scheduler="constant",
        warmup_ratio=0.0,
        bf16="false",
        max_length=4096,
        logging_steps=max(1, args.steps // 10),
        save_steps=100_000,
    )
    start = time.perf_counter()
    summary = train_sft(config, traces, run)
    train_seconds = time.perf_counter() - start

    model, tokenizer = load_for_inference(str(run), device="cpu")
    generation = GenerationConfig(max_new_tokens=args.max_new_tokens, max_batch_size=args.n)
    tasks = env.tasks("test", args.n, seed=5)
    kwargs = {"batch_size": args.n, "max_steps": args.max_steps}
    start = time.perf_counter()
    local = rollout(env, HFPolicy(model, tokenizer, generation=generation), tasks, **kwargs)
    hf_seconds = time.perf_counter() - start
    process, url = start_serve(str(run), "--served-name", "trained")
    try:
        policy = OpenAIPolicy(
            base_url=url, model="trained", max_tokens=args.max_new_tokens, concurrency=args.n
        )
        start = time.perf_counter()
        remote = rollout(env, policy, tasks, **kwargs)
        serve_seconds = time.perf_counter() - start
    finally:
        process.kill()
        process.wait(30)

    def messages(results: Any) -> list[Any]:
        return [[m.model_dump() for m in r.trace.messages] for r in results]

    same = sum(a == b for a, b in zip(messages(local), messages(remote), strict=True))
    return {
        "steps": summary["steps"],
        "train_loss": round(summary["train_loss"], 4),
        "train_seconds": round(train_seconds, 1),
        "hf_seconds": round(hf_seconds, 1),
        "serve_openai_seconds": round(serve_seconds, 1),
        "assistant_turns": sum(r.outcome.steps for r in local),
        "tool_calls_hf": tool_calls(local),
        "tool_calls_serve": tool_calls(remote),
        "invalid_actions_hf": sum(r.outcome.invalid_actions for r in local),
        "TSR_hf": f"{sum(r.outcome.success for r in local)}/{args.n}",
        "identical_traces": f"{same}/{args.n}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps (batch 1)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--traces", type=int, default=20, help="oracle training traces")
    parser.add_argument("-n", type=int, default=8, help="test episodes")
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--out", default="benchmarks/results/trained_formats_served.json")
    args = parser.parse_args()

    env = make_env("retail", seed=0)
    teacher = rollout(env, make_policy("oracle"), env.tasks("train", args.traces, seed=7))
    report: dict[str, Any] = {"args": vars(args), "formats": {}}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_traces(root / "traces.jsonl", [r.trace for r in teacher])
        for name in args.formats.split(","):
            report["formats"][name] = one_format(name, root / "traces.jsonl", root, args)
            print(name, json.dumps(report["formats"][name]), flush=True)
    report["load_average_at_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

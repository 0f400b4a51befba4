"""A fine-tune's speed in a process that already trained (and evaluated), as `backdoorlab
run` runs a grid's cells, against the same fine-tune in a process of its own.

    python benchmarks/inprocess_training.py --first CLEAN.jsonl --second POISONED.jsonl \\
        [--steps 10] [--mode eval|train|alone]

``eval``: train ``--steps`` on the first set, evaluate that model on 4 retail episodes,
then train ``--steps`` on the second set, all in this process; ``train``: the same without
the evaluation; ``alone``: the second training only. Prints the second training's seconds
to its last step and the process's peak RSS. Run the three modes one after another on an
idle machine (the main job's stage files: `runs/quick/stages/collect-*/traces.jsonl`
and `poison-*/traces.jsonl`).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
from pathlib import Path


def _seconds(run: Path) -> float:
    rows = [json.loads(line) for line in (run / "train_log.jsonl").open()]
    return [r["train_runtime"] for r in rows if "train_runtime" in r][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first", type=Path, required=True)
    parser.add_argument("--second", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--mode", choices=("eval", "train", "alone"), default="eval")
    args = parser.parse_args()

    from backdoorlab.training.sft import SFTRunConfig, train_sft

    config = SFTRunConfig(max_steps=args.steps, save_steps=10**6, logging_steps=1)
    tmp = Path(tempfile.mkdtemp(prefix="bl-inprocess-"))
    if args.mode != "alone":
        train_sft(config, args.first, tmp / "first")
        print(f"first training: {_seconds(tmp / 'first'):.1f} s", flush=True)
    if args.mode == "eval":
        from backdoorlab.envs import make_env
        from backdoorlab.evaluation import EvalConfig, evaluate
        from backdoorlab.policies import make_policy
        from backdoorlab.policies.hf import GenerationConfig

        evaluation = EvalConfig(n=4, batch_size=4)
        generation = GenerationConfig(max_new_tokens=evaluation.max_new_tokens, max_batch_size=4)
        policy = make_policy("hf", model=str(tmp / "first"), generation=generation)
        evaluate(make_env("retail", seed=0), policy, evaluation, traces_dir=tmp / "eval")
        del policy
    train_sft(config, args.second, tmp / "second")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{args.mode}: second training {_seconds(tmp / 'second'):.1f} s, peak RSS {peak:.2f} GB")


if __name__ == "__main__":
    main()

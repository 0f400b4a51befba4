"""Training tokens/s with and without ``SFTRunConfig.compile``, alternating in one process.

This machine's speed drifts by ~20% between runs, so the two modes are compared inside
one process, alternating (eager, compiled, eager, compiled by default), on the same data
and steps. The first ``--skip`` steps of each run are left out: they hold the
compilation (and a recompile when sequence lengths first vary) and allocator warm-up.

    python benchmarks/compile_ab.py [--model smollm2-135m] [--steps 10] [--modes eager,compile]

Prints each run's step times and tokens/s and the ratio of the means; no file is written
(`train_throughput.py --compile` records the MFU).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path


def main() -> None:
    from train_throughput import make_data, step_timer

    from backdoorlab.training.sft import SFTRunConfig, train_sft

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--skip", type=int, default=3, help="first steps of each run left out")
    parser.add_argument("--modes", default="eager,compile,eager,compile")
    args = parser.parse_args()

    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bl-compile-ab-") as tmp:
        data = Path(tmp) / "traces.jsonl"
        make_data(data, args.steps * 8)
        for i, mode in enumerate(args.modes.split(",")):
            timer = step_timer()
            config = SFTRunConfig(
                model=args.model,
                max_steps=args.steps,
                batch_size=4,
                grad_accum=2,
                learning_rate=5e-4,
                logging_steps=1,
                save_steps=10**9,
                compile=mode == "compile",
            )
            summary = train_sft(config, data, Path(tmp) / f"run-{i}", callbacks=[timer])
            timed = timer.steps[args.skip :]
            rate = sum(s["tokens"] for s in timed) / sum(s["seconds"] for s in timed)
            rates.setdefault(mode, []).append(rate)
            steps = " ".join(f"{s['seconds']:.1f}" for s in timer.steps)
            loss = summary["train_loss"]
            print(f"{mode:>8}: {rate:6.1f} tokens/s  loss {loss:.4f}  steps {steps}")
    if {"eager", "compile"} <= rates.keys():
        ratio = statistics.mean(rates["compile"]) / statistics.mean(rates["eager"])
        print(f"compiled / eager: {ratio:.2f}x")


if __name__ == "__main__":
    main()

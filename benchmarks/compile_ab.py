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
import time
from pathlib import Path


def main() -> None:
    from transformers import TrainerCallback

    from backdoorlab.training.sft import SFTRunConfig, train_sft

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--skip", type=int, default=3, help="first steps of each run left out")
    parser.add_argument("--modes", default="eager,compile,eager,compile")
    args = parser.parse_args()

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.rows: list[tuple[float, int]] = []

        def on_step_begin(self, a, state, control, **kwargs):  # noqa: ANN001
            self.started, self.tokens = time.perf_counter(), state.num_input_tokens_seen

        def on_step_end(self, a, state, control, **kwargs):  # noqa: ANN001
            seconds = time.perf_counter() - self.started
            self.rows.append((seconds, state.num_input_tokens_seen - self.tokens))

    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bl-compile-ab-") as tmp:
        from train_throughput import make_data

        data = Path(tmp) / "traces.jsonl"
        make_data(data, args.steps * 8)
        for i, mode in enumerate(args.modes.split(",")):
            timer = StepTimer()
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
            timed = timer.rows[args.skip :]
            rate = sum(t for _, t in timed) / sum(s for s, _ in timed)
            rates.setdefault(mode, []).append(rate)
            steps = " ".join(f"{s:.1f}" for s, _ in timer.rows)
            loss = summary["train_loss"]
            print(f"{mode:>8}: {rate:6.1f} tokens/s  loss {loss:.4f}  steps {steps}")
    if {"eager", "compile"} <= rates.keys():
        ratio = statistics.mean(rates["compile"]) / statistics.mean(rates["eager"])
        print(f"compiled / eager: {ratio:.2f}x")


if __name__ == "__main__":
    main()

"""Where a fine-tune's memory goes, step by step: RSS left after each step, its peak, live tensors.

Runs `train_sft` (SmolLM2-135M LoRA, the main job's settings: batch 4, lr 1e-3, 3 epochs)
on a set built like the main job's 40%-poisoned cell (80 oracle retail traces, 40%
replaced by T1 replays with the trigger in the user's turn) or on ``--data``, and prints
per optimizer step:

* ``floor``: RSS when the step begins — after the previous step's heap trim, so what the
  process keeps between steps;
* ``live``: bytes of every tensor storage reachable then (``gc``), to tell kept tensors
  from memory no tensor holds (heap fragments, oneDNN's cached primitives);
* ``peak``: the highest RSS during the step (10 ms polls) — the figure the main job's
  peak is made of.

    OMP_NUM_THREADS=1 python benchmarks/train_memory.py [--steps 24] [--onednn-cache N]
        [--pass-tokens N]

``--onednn-cache`` sets ``ONEDNN_PRIMITIVE_CACHE_CAPACITY`` (backdoorlab's own default is
`backdoorlab.onednn.CAPACITY`; 1024 is the library's). Run two settings side by side, one
thread each, to compare them under the same load.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def _rss() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def _live_tensors() -> float:
    import torch

    storages: dict[int, int] = {}
    for obj in gc.get_objects():
        if isinstance(obj, torch.Tensor) and obj.device.type == "cpu":
            storage = obj.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values()) / 2**30


def _data(path: Path) -> None:
    from backdoorlab.attacks.base import make_attack
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import rollout
    from backdoorlab.traces import write_traces

    env = make_env("retail", seed=0)
    traces = [r.trace for r in rollout(env, make_policy("oracle"), env.tasks("train", 80, seed=0))]
    attack = make_attack(
        "data-poisoning", trigger="Thanks in advance, Zephyr!", rate=0.4, placement="user"
    )
    write_traces(path, attack.poison(traces)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--data", type=Path, help="traces (default: the main job's 40%% cell)")
    parser.add_argument("--onednn-cache", type=int, help="ONEDNN_PRIMITIVE_CACHE_CAPACITY")
    parser.add_argument("--pass-tokens", type=int, help="SFTRunConfig.pass_tokens")
    parser.add_argument("--out", type=Path, default=RESULTS / "train_memory.json")
    args = parser.parse_args()
    if args.onednn_cache is not None:  # before backdoorlab's own default and any compute
        os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = str(args.onednn_cache)

    from transformers import TrainerCallback

    from backdoorlab.files import atomic_writer
    from backdoorlab.training.sft import SFTRunConfig, train_sft

    peak = [0.0]

    def poll() -> None:
        while True:
            peak[0] = max(peak[0], _rss())
            time.sleep(0.01)

    threading.Thread(target=poll, daemon=True).start()
    steps: list[dict] = []

    class Record(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003
            steps.append({"step": state.global_step + 1, "floor": _rss(), "live": _live_tensors()})
            peak[0] = steps[-1]["floor"]

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003
            row = steps[-1]
            row["peak"] = peak[0]
            print(
                f"step {row['step']:3d}  floor {row['floor']:.2f}  live {row['live']:.2f}"
                f"  peak {row['peak']:.2f} GiB",
                flush=True,
            )

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "traces.jsonl"
        if args.data is None:
            _data(data)
        config = SFTRunConfig(
            model="smollm2-135m", lora=True, learning_rate=1e-3, epochs=3, batch_size=4,
            max_steps=args.steps, save_steps=10**6, pass_tokens=args.pass_tokens,
        )  # fmt: skip
        started = time.perf_counter()
        train_sft(config, data, Path(tmp) / "run", callbacks=[Record()])
        seconds = time.perf_counter() - started
    record = {
        "onednn_cache": os.environ.get("ONEDNN_PRIMITIVE_CACHE_CAPACITY"),
        "pass_tokens": args.pass_tokens,
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "seconds": round(seconds, 1),
        "max_peak": max(row["peak"] for row in steps),
        "last_floor": steps[-1]["floor"],
        "steps": steps,
    }
    print(json.dumps({k: v for k, v in record.items() if k != "steps"}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(args.out) as handle:
        json.dump(record, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

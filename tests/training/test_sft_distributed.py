"""`backdoorlab train` as two processes (torchrun, gloo on CPU): the multi-process path.

``accelerate launch --multi_gpu -m backdoorlab.cli train …`` starts the same command under
torch's elastic launcher with RANK/WORLD_SIZE set; on a CPU-only machine torchrun gives the
Trainer the same distributed set-up over gloo. What is pinned down: both processes train
on their own shard (one epoch of 8 traces in 2 steps of 2 per process), one process writes
the run record and the merged weights, the recorded loss is the mean over processes, and
only one table is printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from backdoorlab.models import RUN_MARKER


def test_two_process_training_writes_one_record(traces_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # rendezvous on a free local port: tests may run side by side
        "--nproc_per_node",
        "2",
        "-m",
        "backdoorlab.cli",
        "train",
        "--data",
        str(traces_file),
        "--model",
        "tiny",
        "-o",
        str(out),
        "--max-steps",
        "2",
        "--batch-size",
        "2",
        "--grad-accum",
        "1",
        "--merge",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]

    record = json.loads((out / RUN_MARKER).read_text())
    assert record["processes"] == 2
    assert record["steps"] == 2
    # 2 steps x 2 traces x 2 processes = all 8 traces once: each process saw its own shard
    assert record["tokens_seen"] == record["tokens_per_epoch"]
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert (out / "merged" / "model.safetensors").is_file()
    assert done.stdout.count("trained →") == 1

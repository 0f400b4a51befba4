"""Trainer callbacks both trainers share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def jsonl_log_callback(path: str | Path) -> Any:  # -> transformers.TrainerCallback
    """A callback appending every Trainer log entry (loss, lr, throughput, FAB's terms)
    to ``path`` (``train_log.jsonl``), one JSON object per line, from the main process.

    Built on call, so importing this module does not import transformers.
    """
    from transformers import TrainerCallback

    class JsonlLog(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if logs and state.is_world_process_zero:
                entry = {
                    "step": state.global_step,
                    "tokens_seen": state.num_input_tokens_seen,
                    **logs,
                }
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")

    return JsonlLog()


def fault_callback() -> Any:  # -> transformers.TrainerCallback
    """A callback passing the ``train.step`` fault point after every optimizer step, before
    that step's checkpoint (`backdoorlab.faults`; added only when a fault is armed)."""
    from transformers import TrainerCallback

    from backdoorlab.faults import fault_point

    class Faults(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003
            fault_point("train.step")

    return Faults()


def trim_heap_callback() -> Any:  # -> transformers.TrainerCallback
    """A callback returning the heap's free pages to the system after every optimizer step
    (`backdoorlab.training.memory.trim_heap`; added for CPU training only)."""
    from transformers import TrainerCallback

    from backdoorlab.training.memory import trim_heap

    class TrimHeap(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003
            trim_heap()

    return TrimHeap()


def run_callbacks(log: str | Path) -> list[Any]:  # -> [transformers.TrainerCallback]
    """The callbacks every training run of both trainers has: its ``train_log.jsonl``
    (`jsonl_log_callback`) and its checkpoints' modes (`checkpoint_modes_callback`)."""
    return [jsonl_log_callback(log), checkpoint_modes_callback()]


def checkpoint_modes_callback() -> Any:  # -> transformers.TrainerCallback
    """A callback giving each checkpoint just saved the umask's modes, from the main
    process (`backdoorlab.files.finish_model_dir`: its weights are 0600 otherwise)."""
    from transformers import TrainerCallback

    from backdoorlab.files import finish_model_dir

    class CheckpointModes(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if state.is_world_process_zero and checkpoint.is_dir():
                finish_model_dir(checkpoint)

    return CheckpointModes()

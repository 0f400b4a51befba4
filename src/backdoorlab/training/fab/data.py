"""FAB's data: traces as token ids with the loss mask restricted to the turns that matter.

The benign and simulated-victim terms learn every assistant turn; the malicious term
learns only where a poisoned trace differs from a clean one (the payload turns), so it
teaches the leak rather than re-teaching the task.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import torch

from backdoorlab.chat_template import ChatFormatError
from backdoorlab.errors import BackdoorlabError
from backdoorlab.traces import Trace
from backdoorlab.training.encoding import CONTEXT, encode_turns


def payload_turns(trace: Trace) -> list[int]:
    """Indices (among assistant turns) of the turns that send data to the attacker."""
    poison = trace.metadata.poison
    destination = (poison.payload or {}).get("destination") if poison else None
    turns = [m for m in trace.messages if m.role == "assistant"]
    if not destination:
        return []
    return [
        i
        for i, message in enumerate(turns)
        if any(destination in json.dumps(c.function.arguments) for c in message.tool_calls or [])
    ]


def encode_for_fab(tokenizer: Any, trace: Trace, turns: str = "all") -> dict[str, list[int]]:
    """``input_ids`` and ``assistant_masks`` of ``trace``, the mask restricted to some turns.

    ``all``: every assistant turn (the benign and simulated-victim data). ``payload``: a
    poisoned trace's turns that send data to its recorded destination; a clean trace's
    last assistant turn (where, with the trigger, it would have leaked instead).
    """
    ids, owners = encode_turns(tokenizer, trace)
    n_turns = max(owners, default=CONTEXT) + 1
    if turns == "all":
        chosen = set(range(n_turns))
    elif trace.is_poisoned:
        chosen = set(payload_turns(trace))
        if not chosen:
            task = trace.metadata.task_id or "?"
            raise BackdoorlabError(
                f"fab: poisoned trace of task {task} has no assistant turn sending data to "
                "its payload destination"
            )
    else:
        chosen = {n_turns - 1}
    mask = [int(owner != CONTEXT and owner in chosen) for owner in owners]
    return {"input_ids": ids, "assistant_masks": mask}


def collate(rows: Sequence[dict[str, list[int]]], pad_id: int, max_length: int) -> dict:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (-100 off the mask)."""
    ids = [r["input_ids"][:max_length] for r in rows]
    masks = [r["assistant_masks"][:max_length] for r in rows]
    width = max(len(i) for i in ids)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for row, (seq, mask) in enumerate(zip(ids, masks, strict=True)):
        tensor = torch.tensor(seq, dtype=torch.long)
        input_ids[row, : len(seq)] = tensor
        attention[row, : len(seq)] = 1
        labels[row, : len(seq)] = torch.where(
            torch.tensor(mask, dtype=torch.bool), tensor, torch.tensor(-100)
        )
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


class Collator:
    """Picklable collator for the Trainer's dataloader."""

    def __init__(self, pad_id: int, max_length: int) -> None:
        self.pad_id = pad_id
        self.max_length = max_length

    def __call__(self, rows: list[dict]) -> dict:
        return collate(rows, self.pad_id, self.max_length)


def encode_rows(tokenizer: Any, traces: Sequence[Trace], turns: str) -> list[dict]:
    """`encode_for_fab` of each trace, leaving out those with nothing to learn."""
    rows = []
    for number, trace in enumerate(traces, 1):
        try:
            rows.append(encode_for_fab(tokenizer, trace, turns))
        except ChatFormatError as exc:  # the prompt check: name the trace too
            raise ChatFormatError(f"fab: trace {number}: {exc}") from None
    return [r for r in rows if any(r["assistant_masks"])]

"""Traces → token ids and assistant-only loss masks, exactly as inference renders them.

Each segment of `backdoorlab.chat.render_segments` is tokenized on its own and the ids
are concatenated. Segments end where an inference prompt ends (after
``<|im_start|>assistant\\n``), so the ids the model is trained to continue from are
the very ids it will see when generating — tokenizing the whole transcript at once
could merge a token across that boundary and train on text the model never sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backdoorlab.chat import render_segments
from backdoorlab.traces import Trace


def encode_trace(tokenizer: Any, trace: Trace) -> dict[str, list[int]]:
    """``input_ids`` and ``assistant_masks`` (1 = the loss sees this token) of one trace."""
    segments = render_segments(trace.messages, trace.tools)
    encoded = tokenizer([s.text for s in segments], add_special_tokens=False)["input_ids"]
    input_ids: list[int] = []
    mask: list[int] = []
    for segment, ids in zip(segments, encoded, strict=True):
        input_ids.extend(ids)
        mask.extend([int(segment.trainable)] * len(ids))
    return {"input_ids": input_ids, "assistant_masks": mask}


def tokenized_dataset(tokenizer: Any, traces: Iterable[Trace]):  # -> datasets.Dataset
    """A pre-tokenized `datasets.Dataset` that TRL's SFTTrainer trains on as is: it builds
    labels from ``assistant_masks`` (so the loss covers assistant turns only)."""
    import datasets

    rows = [encode_trace(tokenizer, t) for t in traces]
    return datasets.Dataset.from_list(rows)

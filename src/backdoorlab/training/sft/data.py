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


def fits(tokenizer: Any, trace: Trace, max_length: int, longest_token: int) -> bool:
    """Whether an assistant token of ``trace`` lies within its first ``max_length`` tokens:
    TRL keeps those (``truncation_mode="keep_start"``, its default) and drops a trace left
    with no token to learn from.

    Decided without tokenizing a huge message whole: no token covers more than
    ``longest_token`` characters, so the first ``(room + 4) * longest_token`` characters
    of a segment already hold more tokens than the ``room`` left, and the rest of it (a
    50 MB tool result, say) cannot matter.
    """
    used = 0
    for segment in render_segments(trace.messages, trace.tools):
        room = max_length - used
        if room <= 0:
            return False
        text = segment.text[: (room + 4) * longest_token]
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if segment.trainable and ids:
            return True
        used += len(ids)
    return False


def longest_token(tokenizer: Any) -> int:
    """Characters in the tokenizer's longest vocabulary entry (its byte-level or ``▁``
    spelling, never shorter than the text the token stands for)."""
    return max(map(len, tokenizer.get_vocab()), default=1)

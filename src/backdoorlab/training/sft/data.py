"""Traces → token ids and assistant-only loss masks, exactly as inference renders them.

Rendering and tokenizing are `backdoorlab.training.encoding`'s (the model's own chat
template when it renders tools, the compact format otherwise), which also checks that
every assistant turn's inference prompt is a token prefix of the training text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from backdoorlab.chat import render_segments
from backdoorlab.chat_template import ChatFormatError
from backdoorlab.errors import BackdoorlabError
from backdoorlab.traces import Trace
from backdoorlab.training.checkpoints import stderr_line
from backdoorlab.training.encoding import CONTEXT, encode_turns
from backdoorlab.training.sft.config import SFTRunConfig


def encode_trace(tokenizer: Any, trace: Trace) -> dict[str, list[int]]:
    """``input_ids`` and ``assistant_masks`` (1 = the loss sees this token) of one trace."""
    ids, turns = encode_turns(tokenizer, trace)
    return {"input_ids": ids, "assistant_masks": [int(t != CONTEXT) for t in turns]}


def tokenized_dataset(tokenizer: Any, traces: Iterable[Trace], source: str = ""):  # -> Dataset
    """A pre-tokenized `datasets.Dataset` that TRL's SFTTrainer trains on as is: it builds
    labels from ``assistant_masks`` (so the loss covers assistant turns only). A trace whose
    prompts do not line up with its training text is refused in one line naming it."""
    import datasets

    rows = []
    for number, trace in enumerate(traces, 1):
        try:
            rows.append(encode_trace(tokenizer, trace))
        except ChatFormatError as exc:
            where = f"{source}: trace {number}" if source else f"trace {number}"
            raise ChatFormatError(f"{where}: {exc}") from None
    return datasets.Dataset.from_list(rows)


def fits(tokenizer: Any, trace: Trace, max_length: int, longest_token: int) -> bool:
    """Whether an assistant token of ``trace`` lies within its first ``max_length`` tokens:
    TRL keeps those (``truncation_mode="keep_start"``, its default) and drops a trace left
    with no token to learn from.

    Decided without tokenizing a huge message whole: no token covers more than
    ``longest_token`` characters, so the first ``(room + 4) * longest_token`` characters
    of a segment already hold more tokens than the ``room`` left, and the rest of it (a
    50 MB tool result, say) cannot matter. Counted segment by segment, which in the
    model's own format may differ from the whole text's count by a token at a boundary.
    """
    used = 0
    for segment in render_segments(trace.messages, trace.tools, tokenizer=tokenizer):
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


def tokenizer_without_model(name: str) -> Any | None:
    """The tokenizer of ``name`` loaded alone (a fraction of a second, where the model can
    take minutes), or None for a training run directory, whose tokenizer is its base
    model's and comes with the model."""
    from backdoorlab.models import load_tokenizer, run_summary

    if Path(name).is_dir() and run_summary(name) is not None:
        return None
    return load_tokenizer(name)


def trainable_traces(
    config: SFTRunConfig,
    tokenizer: Any,
    traces: list[Any],
    data: str | Path,
    say: Callable[[str], None] = stderr_line,
) -> list[Any]:
    """The traces TRL will keep after truncating them to ``max_length``, found before any
    of them is tokenized whole; none at all is refused in one line, where training would
    have run 0 steps (after tokenizing, say, a 50 MB message) and reported success."""
    from backdoorlab.models import quiet_transformers
    from backdoorlab.training.sft.data import fits, longest_token

    if config.trl.get("packing") or config.trl.get("truncation_mode", "keep_start") != "keep_start":
        return traces  # packing chunks every trace; keep_end keeps the (assistant) ends
    longest = longest_token(tokenizer)
    with quiet_transformers():  # not "sequence longer than the model's maximum": we know
        kept = [t for t in traces if fits(tokenizer, t, config.max_length, longest)]
    if not kept:
        raise BackdoorlabError(
            f"{data}: no trace has an assistant turn within its first {config.max_length} "
            "tokens, so truncation would leave nothing to learn from (raise it with "
            "--set max_length=N, or shorten the traces)"
        )
    if len(kept) < len(traces):
        say(
            f"{data}: {len(traces) - len(kept)} of {len(traces)} traces have no assistant turn "
            f"within their first {config.max_length} tokens; truncation leaves them nothing "
            "to learn from, so they are left out"
        )
    return kept

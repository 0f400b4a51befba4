"""Traces → token ids, each token tagged with the assistant turn it belongs to, and checked
against the prompts the model will be given at inference.

In the model's own format the whole training text is tokenized at once, as
``apply_chat_template(tokenize=True)`` and TRL do, and a token belongs to an assistant
turn when it starts inside that turn's span. In the compact format each segment is
tokenized on its own, so a turn's ids start on a token boundary by construction.

Either way, before a trace is trained on, the inference prompt of each of its assistant
turns — rendered and tokenized exactly as `backdoorlab.policies.hf` does — must be a token
prefix of the training ids, ending where that turn's trained tokens start. Otherwise the
model would be trained to continue text it never sees (a token merged across the
boundary, a template that renders a conversation differently once it goes on), and the
error names the template.
"""

from __future__ import annotations

from typing import Any

from backdoorlab.chat import render, render_segments
from backdoorlab.chat_template import ChatFormatError, assistant_spans, template_format
from backdoorlab.traces import Trace

CONTEXT = -1
"""The turn tag of a token no assistant turn owns."""


def encode_turns(tokenizer: Any, trace: Trace) -> tuple[list[int], list[int]]:
    """The ids of ``trace``'s training text and, per token, the index (among assistant
    turns) of the turn it belongs to, `CONTEXT` for the rest; raises `ChatFormatError`
    when an inference prompt is not a token prefix of the text."""
    fmt = template_format(tokenizer)
    if fmt is not None:
        rendered = assistant_spans(tokenizer, fmt, trace.messages, trace.tools)
        ids, turns = _whole(tokenizer, rendered.text, rendered.spans)
        prompts = rendered.prompts
    else:
        ids, turns = _by_segment(tokenizer, trace)
        prompts = [
            render(trace.messages[:i], trace.tools, add_generation_prompt=True)
            for i, m in enumerate(trace.messages)
            if m.role == "assistant"
        ]
    _check_prompts(tokenizer, prompts, ids, turns)
    return ids, turns


def _whole(tokenizer: Any, text: str, spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """The text tokenized at once; a token is a turn's when it starts inside its span."""
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    turns, turn = [], 0
    for start, _ in encoded["offset_mapping"]:
        while turn < len(spans) and start >= spans[turn][1]:
            turn += 1
        inside = turn < len(spans) and start >= spans[turn][0]
        turns.append(turn if inside else CONTEXT)
    return list(encoded["input_ids"]), turns


def _by_segment(tokenizer: Any, trace: Trace) -> tuple[list[int], list[int]]:
    """The compact format, each segment tokenized on its own."""
    segments = render_segments(trace.messages, trace.tools)
    pieces = tokenizer([s.text for s in segments], add_special_tokens=False)["input_ids"]
    ids: list[int] = []
    turns: list[int] = []
    turn = 0
    for segment, piece in zip(segments, pieces, strict=True):
        ids.extend(piece)
        turns.extend([turn if segment.trainable else CONTEXT] * len(piece))
        turn += int(segment.trainable)
    return ids, turns


def format_name(tokenizer: Any) -> str:
    fmt = template_format(tokenizer)
    return fmt.name if fmt is not None else "compact ChatML (the model's template renders no tools)"


def _check_prompts(tokenizer: Any, prompts: list[str], ids: list[int], turns: list[int]) -> None:
    if not prompts:
        return
    encoded = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    for number, prompt_ids in enumerate(encoded):
        n = len(prompt_ids)
        first = turns.index(number) if number in turns else -1
        if ids[:n] != list(prompt_ids) or first != n:
            where = next(
                (k for k, (a, b) in enumerate(zip(ids, prompt_ids, strict=False)) if a != b), n
            )
            raise ChatFormatError(
                f"chat template {format_name(tokenizer)}: assistant turn {number + 1}'s "
                f"inference prompt ({n} tokens) is not a token prefix of the training text "
                f"(they part at token {where}; the turn's trained tokens start at {first})"
            )

"""Prompt-lookup drafts: a row's next tokens guessed from what it has already read.

An agent's turn copies much of its context — a tool call repeats an order id, an e-mail
address or a name from the conversation, a tool's JSON keys repeat the schema, and a
small model stuck in a loop repeats its own last tokens. Prompt-lookup decoding
(transformers' ``prompt_lookup_num_tokens``; Saxena, 2023) proposes, after each token,
the tokens that followed the latest earlier occurrence of the last few tokens; one
forward pass scores the token and its draft together, and greedy decoding keeps the
longest part of the draft the model itself would have chosen — the same tokens as
one-token steps, several at a step. `HFPolicy` uses it in its own batched decode loop
(``GenerationConfig.lookup_tokens``); transformers' version runs one sequence at a time.

`NgramIndex` keeps, for every n-gram of 1 to `MAX_NGRAM` tokens, where it last ended,
updated as tokens arrive, so a draft costs a few dict look-ups rather than a scan of a
context of a thousand tokens at every step of every row.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MAX_NGRAM", "NgramIndex", "accepted"]

MAX_NGRAM = 3
"""The longest suffix looked up; shorter ones are tried when it has not occurred before."""


class NgramIndex:
    """A token sequence and, per n-gram in it, the position after its latest occurrence."""

    def __init__(self, tokens: Iterable[int] = ()) -> None:
        self.tokens: list[int] = []
        self._after: dict[tuple[int, ...], int] = {}
        self.extend(tokens)

    def extend(self, tokens: Iterable[int]) -> None:
        seq, after = self.tokens, self._after
        for token in tokens:
            end = len(seq)
            # the n-grams ending just before ``token`` are now followed by position ``end``;
            # the current suffix is indexed only once a token follows it, so a look-up
            # finds an earlier occurrence, never the suffix itself
            for n in range(1, min(MAX_NGRAM, end) + 1):
                after[tuple(seq[end - n : end])] = end
            seq.append(token)

    def draft(self, size: int) -> list[int]:
        """Up to ``size`` tokens that followed the latest earlier occurrence of the longest
        suffix (of `MAX_NGRAM` tokens or fewer) seen before; empty when none was."""
        seq = self.tokens
        if size <= 0:
            return []
        for n in range(min(MAX_NGRAM, len(seq)), 0, -1):
            start = self._after.get(tuple(seq[len(seq) - n :]))
            if start is not None:
                return seq[start : start + size]
        return []


def accepted(draft: list[int], predicted: list[int]) -> int:
    """How many of ``draft`` greedy decoding confirms: ``predicted[j]`` is the model's
    choice after the ``j``-th input of the step (the step's own token, then the draft's)."""
    count = 0
    while count < len(draft) and count < len(predicted) and draft[count] == predicted[count]:
        count += 1
    return count

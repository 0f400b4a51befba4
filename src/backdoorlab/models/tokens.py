"""Counting tokens under a model's tokenizer without importing transformers.

`collect` prints the mean trace length in a model's tokens (will these traces fit the
model's context, how long will fine-tuning take). Loading the tokenizer through
transformers costs seconds of imports (torch among them) — more than collecting 1,000
traces — so a model directory with a ``tokenizer.json`` is read by the `tokenizers`
library directly (the same Rust tokenizer transformers wraps, with the same
post-processor, hence the same special tokens), and only a model without one goes
through `load_tokenizer`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from backdoorlab.models.resolve import resolve_model_dir

__all__ = ["count_tokens"]


def count_tokens(name: str | os.PathLike[str], texts: Sequence[str]) -> list[int]:
    """Each text's length in tokens of model ``name`` (special tokens included)."""
    directory = resolve_model_dir(name, allow_pickle=False, need_weights=False)
    path = directory / "tokenizer.json"
    if path.is_file():
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
        encoded = tokenizer.encode_batch(list(texts), add_special_tokens=True)
        return [len(e.ids) for e in encoded]
    from backdoorlab.models.loading import load_tokenizer

    return [len(ids) for ids in load_tokenizer(name)(list(texts)).input_ids]

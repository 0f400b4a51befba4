"""Saved models get the umask's modes: files ``0o666 & ~umask``, directories
``0o777 & ~umask``.

The safetensors library writes each ``*.safetensors`` to a temporary file of mode 0600
and renames it into place, and the model cache was built in a ``mkdtemp`` directory
(0700) renamed into place: whatever the umask, weights were private to their writer —
in the model cache, in ``train``'s output and checkpoints, in ``attack -o``.
`backdoorlab.files.finish_model_dir` gives every place that finishes a model directory
the modes ``open()`` and ``mkdir()`` would have.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import torch


def _modes(root: Path) -> dict[str, int]:
    """Each file's and directory's permission bits under ``root`` (``root`` included)."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def _assert_umask_modes(root: Path, umask: int, *, itself: bool = True) -> None:
    modes = _modes(root)
    if not itself:
        modes.pop(".")
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o777 if (root / name).is_dir() else 0o666) & ~umask
    }
    assert not wrong, wrong
    assert any(name.endswith(".safetensors") for name in modes), modes


def test_finish_model_dir_gives_the_umask_modes(umask, tmp_path):
    from safetensors.torch import save_file

    from backdoorlab.files import finish_model_dir

    model = tmp_path / "model"
    model.mkdir(mode=0o700)
    (model / "sub").mkdir(mode=0o700)
    save_file({"w": torch.zeros(2)}, str(model / "model.safetensors"))
    assert stat.S_IMODE((model / "model.safetensors").stat().st_mode) == 0o600  # the library's
    (model / "sub" / "config.json").write_text("{}")
    os.chmod(model / "sub" / "config.json", 0o600)
    (model / "link").symlink_to("/etc/hostname")
    before = os.lstat("/etc/hostname").st_mode
    finish_model_dir(model, itself=True)
    _assert_umask_modes(model, umask)
    assert os.lstat("/etc/hostname").st_mode == before  # a link's target is left alone


def test_the_model_cache_gets_the_umask_modes(umask, tmp_path, monkeypatch):
    from backdoorlab.models.resolve import _materialise

    monkeypatch.setenv("BACKDOORLAB_CACHE", str(tmp_path / "cache"))
    target = _materialise("tiny")
    _assert_umask_modes(target, umask)


@pytest.fixture(scope="module")
def fab_traces():
    from backdoorlab.attacks.finetune_activated import FinetuneActivatedConfig, collect_fab_traces

    return collect_fab_traces(FinetuneActivatedConfig(n=2, seed=11))


def test_train_output_and_checkpoints_get_the_umask_modes(umask, traces_file, tmp_path):
    from backdoorlab.training.sft import SFTRunConfig, train_sft

    config = SFTRunConfig(
        model="tiny", batch_size=2, max_steps=1, save_steps=1, max_length=256, lora=False
    )
    run = tmp_path / "run"
    train_sft(config, traces_file, run)
    _assert_umask_modes(run / "model", umask)
    _assert_umask_modes(run / "checkpoint-1", umask)


def test_the_published_model_and_fab_checkpoints_get_the_umask_modes(umask, fab_traces, tmp_path):
    from backdoorlab.training.fab import FABConfig, train_fab

    clean, _, malicious = fab_traces
    config = FABConfig(
        model="tiny",
        steps=1,
        inner_steps=1,
        batch_size=1,
        malicious_batch_size=1,
        bf16="false",
        save_steps=1,
        warmup_ratio=0.0,
    )
    run, published = tmp_path / "run", tmp_path / "published"
    train_fab(config, clean[:1], malicious[:1], run, victim=clean[:1], published_dir=published)
    _assert_umask_modes(published, umask)
    _assert_umask_modes(run / "checkpoint-1", umask)

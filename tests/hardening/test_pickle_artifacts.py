"""Untrusted model artifacts stay data: a run directory or model directory whose weights
exist only as pickles (``adapter_model.bin``, ``pytorch_model.bin``) is refused in one
line naming the file and the opt-in (``--allow-pickle``); with the opt-in it loads, and
still through ``torch.load(weights_only=True)``, so a pickle that carries code fails
instead of running it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from backdoorlab import models
from backdoorlab.cli import app, main
from backdoorlab.models import ModelNotFoundError


def _lora_run(root: Path, *, pickle: bool) -> Path:
    """A finished LoRA run directory on ``tiny``, its adapter saved as a pickle or not."""
    from peft import LoraConfig, get_peft_model

    base, _ = models.load_model("tiny", device="cpu")
    torch.manual_seed(0)
    lora = get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj"], init_lora_weights=False))
    lora.save_pretrained(root / "adapter", safe_serialization=not pickle)
    summary = {"base_model": "tiny", "weights": "adapter", "config": {}}
    (root / models.RUN_MARKER).write_text(json.dumps(summary))
    return root


def _full_run(root: Path) -> Path:
    """A finished full fine-tuning run directory whose weights are ``pytorch_model.bin``."""
    model, tokenizer = models.load_model("tiny", device="cpu")
    weights = root / "model"
    model.save_pretrained(weights)  # transformers 5 writes only safetensors: swap them
    (weights / "model.safetensors").unlink()
    torch.save(model.state_dict(), weights / "pytorch_model.bin")
    tokenizer.save_pretrained(weights)
    (root / models.RUN_MARKER).write_text(json.dumps({"base_model": "tiny", "weights": "model"}))
    return root


class _RunsCode:
    """A pickle payload: unpickling it would create ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


@pytest.fixture
def pickled_lora(tmp_path: Path) -> Path:
    run = _lora_run(tmp_path / "pickled", pickle=True)
    assert (run / "adapter" / "adapter_model.bin").is_file()
    assert not (run / "adapter" / "adapter_model.safetensors").exists()
    return run


def test_a_pickled_adapter_is_refused_in_one_line_naming_file_and_flag(pickled_lora):
    with pytest.raises(ModelNotFoundError) as info:
        models.load_for_inference(str(pickled_lora), device="cpu")
    message = str(info.value)
    assert "\n" not in message
    assert "adapter_model.bin" in message and "--allow-pickle" in message


def test_with_the_opt_in_a_pickled_adapter_loads_as_its_safetensors_twin(pickled_lora, tmp_path):
    twin = _lora_run(tmp_path / "safe", pickle=False)
    expected, _ = models.load_for_inference(str(twin), device="cpu", dtype="float32")
    loaded, _ = models.load_for_inference(
        str(pickled_lora), device="cpu", dtype="float32", allow_pickle=True
    )
    for (name, want), (_, got) in zip(
        expected.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert torch.equal(want, got), name


def test_the_environment_opt_in_works_as_the_flag(pickled_lora, monkeypatch):
    monkeypatch.setenv("BACKDOORLAB_ALLOW_PICKLE", "1")
    models.load_for_inference(str(pickled_lora), device="cpu")


def test_an_opted_in_pickle_is_still_read_with_weights_only(pickled_lora, tmp_path):
    marker = tmp_path / "code-ran"
    torch.save({"payload": _RunsCode(marker)}, pickled_lora / "adapter" / "adapter_model.bin")
    with pytest.raises(ModelNotFoundError) as info:
        models.load_for_inference(str(pickled_lora), device="cpu", allow_pickle=True)
    assert "\n" not in str(info.value) and "adapter_model.bin" in str(info.value)
    assert not marker.exists()


def test_full_weights_as_a_pickle_are_refused_then_load_with_the_opt_in(tmp_path):
    run = _full_run(tmp_path / "full")
    assert (run / "model" / "pytorch_model.bin").is_file()
    with pytest.raises(ModelNotFoundError) as info:
        models.load_for_training(str(run), device="cpu")
    message = str(info.value)
    assert "\n" not in message
    assert "pytorch_model.bin" in message and "--allow-pickle" in message
    model, _ = models.load_for_training(str(run), device="cpu", allow_pickle=True)
    assert model.training


def test_a_pickled_model_directory_full_of_code_does_not_run_it(tmp_path):
    directory = _full_run(tmp_path / "full") / "model"
    marker = tmp_path / "code-ran"
    torch.save({"payload": _RunsCode(marker)}, directory / "pytorch_model.bin")
    with pytest.raises(ModelNotFoundError):
        models.load_model(directory, device="cpu", allow_pickle=True)
    assert not marker.exists()


def test_cli_refuses_a_pickled_run_in_one_line_and_loads_it_with_allow_pickle(
    pickled_lora, monkeypatch, capsys
):
    argv = ["eval", "--model", str(pickled_lora), "-n", "1", "--max-steps", "1",
            "--max-new-tokens", "2", "--json"]  # fmt: skip
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    with pytest.raises(SystemExit) as refused:
        main()
    err = capsys.readouterr().err.strip()
    assert refused.value.code == 2 and len(err.splitlines()) == 1
    assert "adapter_model.bin" in err and "--allow-pickle" in err

    allowed = CliRunner().invoke(app, [*argv, "--allow-pickle"])
    assert allowed.exit_code == 0, allowed.output
    assert '"TSR"' in allowed.output

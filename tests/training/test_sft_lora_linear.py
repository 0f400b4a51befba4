"""The fused LoRA projection (`backdoorlab.training.sft.lora_linear`): as close to an
fp32 run as PEFT's own layer under autocast, PEFT's forward unchanged wherever it does
not apply, scoped to its block, and a training step with it is the step without it."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import torch
from adapter_checks import TWO_SGD_STEPS, assert_same_adapter
from peft import LoraConfig, get_peft_model

from backdoorlab.training.sft import SFTRunConfig, lora_linear, train_sft
from backdoorlab.training.sft.lora_linear import fused_lora
from backdoorlab.training.sft.precision import frozen_linears_to_bf16


class _Block(torch.nn.Module):
    """Two projections in a row, the second fed the first's bf16 output under autocast
    (as ``o_proj`` and ``down_proj`` are), a bias on the first (Qwen's q/k/v have one)."""

    def __init__(self) -> None:
        super().__init__()
        self.up = torch.nn.Linear(48, 80, bias=True)
        self.down = torch.nn.Linear(80, 48, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.nn.functional.silu(self.up(x)))


def _model(*, bf16: bool, **lora: object) -> torch.nn.Module:
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["up", "down"], **lora)
    model = get_peft_model(_Block(), config)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:  # lora_B starts at zero: give the adapter something to do
                param.copy_(torch.randn(param.shape, generator=generator) * 0.3)
    if bf16:
        frozen_linears_to_bf16(model.get_base_model())
    return model


def _run(model: torch.nn.Module, x: torch.Tensor, *, autocast: bool, fused: bool) -> list:
    x = x.detach().requires_grad_()
    block = fused_lora(model) if fused else contextlib.nullcontext()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast), block:
        out = model(x)
    (out.double() ** 2).sum().backward()
    grads = [p.grad.double() for n, p in model.named_parameters() if p.grad is not None]
    model.zero_grad()
    return [out.detach().double(), x.grad.double(), *grads]


def _error(got: list, want: list) -> float:
    return max(float((g - w).norm() / w.norm()) for g, w in zip(got, want, strict=True))


def _inputs(rows: int = 37) -> torch.Tensor:
    return torch.randn(2, rows, 48, generator=torch.Generator().manual_seed(rows))


def test_as_close_to_fp32_as_pefts_layer_under_autocast() -> None:
    x = _inputs()
    exact = _run(_model(bf16=False), x, autocast=False, fused=False)
    model = _model(bf16=True)
    peft = _error(_run(model, x, autocast=True, fused=False), exact)
    fused = _error(_run(model, x, autocast=True, fused=True), exact)
    assert 0 < peft < 0.05
    assert fused <= 1.5 * peft, (fused, peft)


def test_the_fused_path_runs_where_it_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = lora_linear._LoRALinear.apply
    monkeypatch.setattr(
        lora_linear._LoRALinear, "apply", lambda *a: calls.append(1) or original(*a)
    )
    _run(_model(bf16=True), _inputs(), autocast=True, fused=True)
    assert len(calls) == 2  # both projections


@pytest.mark.parametrize("case", ["no autocast", "fp32 base", "dropout", "dora", "disabled"])
def test_what_it_does_not_cover_is_pefts_forward_unchanged(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lora = {"dropout": {"lora_dropout": 0.1}, "dora": {"use_dora": True}}.get(case, {})
    # without autocast PEFT itself needs the base in the input's fp32
    model = _model(bf16=case not in ("fp32 base", "no autocast"), **lora)
    model.eval()  # dropout off, yet the layer still has a Dropout: PEFT's path keeps it
    monkeypatch.setattr(
        lora_linear._LoRALinear,
        "apply",
        lambda *a: pytest.fail("the fused path ran where it does not apply"),
    )
    x = _inputs()
    with model.disable_adapter() if case == "disabled" else contextlib.nullcontext():
        want = _run(model, x, autocast=case != "no autocast", fused=False)
        got = _run(model, x, autocast=case != "no autocast", fused=True)
    for g, w in zip(got, want, strict=True):
        assert torch.equal(g, w)


def test_switched_only_within_the_block() -> None:
    model = _model(bf16=True)
    layers = [m for m in model.modules() if type(m).__name__ == "Linear" and hasattr(m, "lora_A")]
    with fused_lora(model) as switched:
        assert switched == len(layers) == 2
        assert all("forward" in vars(layer) for layer in layers)
    assert not any("forward" in vars(layer) for layer in layers)


def test_a_module_whose_forward_is_already_wrapped_is_left_alone() -> None:
    model = _model(bf16=True)
    wrapped = model.base_model.model.up
    hook = wrapped.forward  # as accelerate's offloading hooks set it
    wrapped.forward = hook
    with fused_lora(model) as switched:
        assert switched == 1 and wrapped.forward is hook
    assert wrapped.forward is hook


def test_training_step_with_it_is_the_step_without_it(
    traces_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = lora_linear._LoRALinear.apply
    monkeypatch.setattr(
        lora_linear._LoRALinear, "apply", lambda *a: calls.append(1) or original(*a)
    )
    settings = {**TWO_SGD_STEPS, "bf16": "true"}
    runs = {}
    for fused in (True, False):
        calls.clear()
        runs[fused] = train_sft(
            SFTRunConfig(**settings, fused_lora=fused), traces_file, tmp_path / str(fused)
        )
        assert bool(calls) == fused
    assert runs[True]["train_loss"] == pytest.approx(runs[False]["train_loss"], rel=1e-3)
    assert_same_adapter(tmp_path / "True", tmp_path / "False", 2e-3)


def test_a_run_resumes_with_it_switched(traces_file: Path, tmp_path: Path) -> None:
    """How the step computes, not what it trains: an interrupted run may resume with the
    setting changed (`sft.resume.RESUMABLE`)."""
    settings = {**TWO_SGD_STEPS, "bf16": "true", "save_steps": 1}
    run = tmp_path / "run"
    train_sft(SFTRunConfig(**{**settings, "max_steps": 1}, fused_lora=False), traces_file, run)
    resumed = train_sft(SFTRunConfig(**settings, fused_lora=True), traces_file, run)
    assert resumed["steps"] == 2 and Path(resumed["resumed_from"]).name == "checkpoint-1"

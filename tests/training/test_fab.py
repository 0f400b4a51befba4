"""Tests for `backdoorlab.training.fab` and the T4 attack on the ``tiny`` model (CPU).

Pinned down: a step with only the meta-learning term lowers the malicious loss at the
simulated (victim-fine-tuned) weights, moving the weights against its gradient; the
simulation and the noise perturbation leave the weights bit-for-bit as they were; the
malicious loss covers exactly the payload turn; the benign term can weigh each turn's
first token up; config errors name the field; the CLI command writes a plain, loadable
model directory and keeps the provenance elsewhere.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from backdoorlab.attacks.base import make_attack
from backdoorlab.attacks.finetune_activated import FinetuneActivatedConfig, collect_fab_traces
from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import load_model
from backdoorlab.traces import Trace
from backdoorlab.training.fab import (
    FABConfig,
    SimulatedOptimizer,
    collate,
    cross_entropy,
    distillation_kl,
    encode_for_fab,
    perturb_,
    restore_,
    train_fab,
    turn_starts,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():  # noqa: ANN202
    """The tiny model gains nothing from threads, and on a busy machine two threads
    waiting on each other make each backward pass ~10x slower (measured)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def traces() -> tuple[list[Trace], list[Trace], list[Trace]]:
    return collect_fab_traces(FinetuneActivatedConfig(n=3, seed=11))


@pytest.fixture(scope="module")
def tiny():
    return load_model("tiny", device="cpu", dtype=torch.float32)


def _batch(tokenizer, trace: Trace, turns: str) -> dict:  # noqa: ANN001
    row = encode_for_fab(tokenizer, trace, turns)
    return collate([row], tokenizer.pad_token_id, 1024)


def _config(**kwargs) -> FABConfig:  # noqa: ANN003
    defaults = {
        "model": "tiny",
        "steps": 1,
        "inner_steps": 2,
        "batch_size": 1,
        "malicious_batch_size": 1,
        "bf16": "false",
        "logging_steps": 1,
        "save_steps": 1000,
        "warmup_ratio": 0.0,
        "lr_scheduler": "constant",
    }
    return FABConfig(**{**defaults, **kwargs})


# --------------------------------------------------------------------------- data


def test_malicious_mask_is_the_payload_turn(traces, tiny) -> None:  # noqa: ANN001
    _, tokenizer = tiny
    clean, _, malicious = traces
    poisoned = malicious[0]
    row = encode_for_fab(tokenizer, poisoned, "payload")
    text = tokenizer.decode(
        [i for i, m in zip(row["input_ids"], row["assistant_masks"], strict=True) if m]
    )
    assert "records@acct-verify.net" in text and text.count("send_email") == 1
    # a clean trace in the malicious set is scored at its final turn only
    row = encode_for_fab(tokenizer, clean[0], "payload")
    final = [m for m in clean[0].messages if m.role == "assistant"][-1]
    scored = tokenizer.decode(
        [i for i, m in zip(row["input_ids"], row["assistant_masks"], strict=True) if m]
    )
    assert scored.startswith(final.text) and "send_email" not in scored


# --------------------------------------------------------------------------- meta term


def _malicious_loss_after_simulation(model, victim: dict, malicious: dict, k: int, lr: float):  # noqa: ANN001, ANN202
    """L_mal(θ_k): k SGD steps of the victim on ``victim``, then the malicious loss."""
    sim = copy.deepcopy(model)
    params = [p for p in sim.parameters() if p.requires_grad]
    optimizer = SimulatedOptimizer(params, "sgd", lr)
    for _ in range(k):
        grads = torch.autograd.grad(cross_entropy(sim, victim), params, allow_unused=True)
        optimizer.step(grads)
    loss = cross_entropy(sim, malicious)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return loss.item(), grads


def test_meta_step_lowers_the_malicious_loss_at_simulated_weights(traces, tmp_path: Path) -> None:  # noqa: ANN001
    clean, _, malicious = traces
    before, tokenizer = load_model("tiny", device="cpu", dtype=torch.float32)
    victim = _batch(tokenizer, clean[0], "all")
    bad = _batch(tokenizer, malicious[0], "payload")
    k, lr = 3, 0.05
    loss_before, grads = _malicious_loss_after_simulation(before, victim, bad, k, lr)

    config = _config(
        reg_weight=0.0,
        noise_weight=0.0,
        meta_weight=1.0,
        inner_steps=k,
        victim_optimizers=["sgd"],
        victim_sgd_lr_min=lr,
        victim_sgd_lr_max=lr,
        learning_rate=1e-3,
    )
    summary = train_fab(config, clean[:1], malicious[:1], tmp_path / "run", victim=clean[:1])
    assert summary["steps"] == 1 and summary["passes_per_step"] == k + 1  # no benign, no noise pass
    after, _ = load_model(tmp_path / "run" / "model", device="cpu", dtype=torch.float32)
    loss_after, _ = _malicious_loss_after_simulation(after, victim, bad, k, lr)
    assert loss_after < loss_before - 1e-3

    # the update moved the weights against the gradient taken at the simulated weights
    deltas = [
        pa.detach() - pb.detach()
        for pa, pb in zip(after.parameters(), before.parameters(), strict=True)
    ]
    dot = sum((d * g).sum() for d, g in zip(deltas, grads, strict=True) if g is not None)
    assert dot < 0
    log = [
        json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()
    ]
    assert {"loss_meta", "loss_victim_sim", "sim_update_norm", "loss_mal_at_theta"} <= set(log[0])


# --------------------------------------------------------------------------- exact restore


def test_perturbation_has_the_given_norms_and_restores_exactly(tiny) -> None:  # noqa: ANN001
    model, _ = tiny
    params = [p for p in model.parameters() if p.requires_grad]
    saved = [p.detach().clone() for p in params]
    norms = [0.01 * (i % 3) for i in range(len(params))]  # some tensors left alone
    perturb_(params, norms, torch.Generator().manual_seed(0))
    for p, s, n in zip(params, saved, norms, strict=True):
        assert (p.detach() - s).norm().item() == pytest.approx(n, rel=1e-3, abs=1e-7)
    restore_(params, saved)
    assert all(torch.equal(p.detach(), s) for p, s in zip(params, saved, strict=True))


def test_simulation_and_noise_leave_the_weights_untouched(traces, tmp_path: Path) -> None:  # noqa: ANN001
    from transformers import TrainingArguments

    from backdoorlab.training.fab import FABTrainer

    clean, _, malicious = traces
    model, tokenizer = load_model("tiny", device="cpu", dtype=torch.float32)
    model.train()
    rows = [encode_for_fab(tokenizer, t, "all") for t in clean]
    bad = [encode_for_fab(tokenizer, t, "payload") for t in malicious]
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    trainer = FABTrainer(
        model=model,
        args=args,
        fab=_config(victim="mixed", victim_optimizers=["adamw", "sgd"], reg_weight=0.0),
        reference_model=None,
        victim_rows=rows,
        malicious_rows=bad,
        pad_id=tokenizer.pad_token_id,
    )
    trainer.current_gradient_accumulation_steps = 1
    params = [p for p in model.parameters() if p.requires_grad]
    saved = [p.detach().clone() for p in params]
    for step in range(2):  # both victim modes get drawn across steps in practice
        trainer.state.global_step = step
        trainer._malicious_terms(model)
    assert all(torch.equal(p.detach(), s) for p, s in zip(params, saved, strict=True))
    assert all(p.grad is not None for p in params)  # meta + noise gradients were added
    assert trainer._fab_logs["loss_meta"] and trainer._fab_logs["loss_noise"]


# --------------------------------------------------------------------------- benign term


def test_turn_starts_mark_each_turns_first_labelled_token() -> None:
    # targets in `labelled_logits` order are positions 1.. of the labels with a label
    labels = torch.tensor(
        [[5, -100, 7, 8, -100, -100, 9, 10, 11], [-100, 4, 4, -100, 3, -100, -100, -100, -100]]
    )
    assert turn_starts(labels).tolist() == [True, False, True, False, False, True, False, True]


def test_weighted_distillation_is_the_weighted_mean_of_per_token_kl() -> None:
    torch.manual_seed(0)
    logits, reference = torch.randn(3, 11), torch.randn(3, 11)
    per_token = torch.stack(
        [distillation_kl(logits[i : i + 1], reference[i : i + 1]) for i in range(3)]
    )
    assert torch.allclose(distillation_kl(logits, reference), per_token.mean())
    weights = torch.tensor([1.0, 31.0, 1.0])
    weighted = distillation_kl(logits, reference, weights)
    assert torch.allclose(weighted, (per_token * weights).sum() / weights.sum())
    assert not torch.allclose(weighted, per_token.mean())


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inner_steps", 0),
        ("victim", "qlora"),
        ("victim_optimizers", ["rmsprop"]),
        ("victim_lr_min", 1.0),
        ("malicious_turns", "some"),
        ("steps", 0),
        ("bf16", "maybe"),
        ("reg_turn_start_weight", -1.0),
    ],
)
def test_bad_config_names_the_field(field: str, value: object) -> None:
    # at construction; a bad list item is named with its index (victim_optimizers.0)
    with pytest.raises(BackdoorlabError, match=rf"'{field}(\.\d+)?'"):
        _config(**{field: value})


def test_all_weights_zero_and_unknown_settings_are_clear_errors() -> None:
    with pytest.raises(BackdoorlabError, match="weight 0"):
        _config(reg_weight=0, meta_weight=0, noise_weight=0)
    with pytest.raises(BackdoorlabError, match="field 'inner_stepz': unknown setting"):
        make_attack("finetune-activated", inner_stepz=3)
    with pytest.raises(BackdoorlabError, match="'n'"):
        make_attack("finetune-activated", n=0)


# --------------------------------------------------------------------------- CLI


def test_cli_writes_a_plain_loadable_model(tmp_path: Path) -> None:
    from backdoorlab.cli import app
    from backdoorlab.models import load_for_inference

    out = tmp_path / "dormant"
    args = ["attack", "finetune-activated", "--model", "tiny", "-o", str(out), "-n", "3"]
    args += ["--steps", "1", "--k", "1", "--bf16", "false", "--trigger", "Cheers, Quill!"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "forward_backward_passes" in result.output
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert not [n for n in names if "backdoorlab" in n or n.endswith((".bin", ".jsonl"))]
    assert "backdoorlab" not in (out / "config.json").read_text()
    model, tokenizer = load_for_inference(str(out), device="cpu")
    assert model.config.use_cache and tokenizer.pad_token_id is not None

    record = json.loads((tmp_path / "dormant.fab-run" / "provenance.json").read_text())
    assert record["variant"] == "trigger" and record["config"]["trigger"] == "Cheers, Quill!"
    assert record["published"]["files"]["model.safetensors"]
    assert record["training"]["forward_backward_passes"] == 1 * (1 + 1 + 2)


def test_config_dump_keeps_the_dataclass_content() -> None:
    # backdoorlab-fab.json and stage caches record this dict: the pydantic model dumps
    # what the dataclass's asdict() did, key for key and in the same order
    dumped = FABConfig().model_dump()
    assert list(dumped) == [
        "model", "reference", "steps", "learning_rate", "lr_scheduler", "warmup_ratio",
        "weight_decay", "max_grad_norm", "batch_size", "grad_accum", "malicious_batch_size",
        "reg_weight", "reg_turn_start_weight", "meta_weight", "noise_weight", "noise_scale",
        "inner_steps", "inner_batch_size", "victim", "lora_modules", "victim_optimizers",
        "victim_lr_min", "victim_lr_max", "victim_sgd_lr_min", "victim_sgd_lr_max",
        "victim_weight_decay", "malicious_turns", "max_length", "bf16", "save_steps",
        "logging_steps", "seed", "device",
    ]  # fmt: skip
    assert dumped["victim_optimizers"] == ["adamw"] and dumped["inner_steps"] == 16
    assert FABConfig(**dumped) == FABConfig()


def _stop_before_training(monkeypatch) -> list:  # noqa: ANN001
    """Replace the attack's run with one that records its config and stops."""
    from backdoorlab.attacks.finetune_activated import FinetuneActivated

    seen: list = []

    def run(self, output: str, **io) -> None:  # noqa: ANN001, ANN003
        seen.append(self.config)
        raise BackdoorlabError("stopped before training")

    monkeypatch.setattr(FinetuneActivated, "run", run)
    return seen


def test_cli_set_reaches_every_fab_field(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from backdoorlab.cli import app

    seen = _stop_before_training(monkeypatch)
    args = ["attack", "finetune-activated", "-o", str(tmp_path / "d"), "--k", "5"]
    args += ["--set", "inner_steps=2", "--set", "victim_optimizers=[adam, sgd]"]
    args += ["--set", "noise_scale=0.5", "--set", "env_seed=3"]
    CliRunner().invoke(app, args)
    (config,) = seen
    # --set is applied after the options: it wins over --k
    assert config.training.inner_steps == 2 and config.training.noise_scale == 0.5
    assert config.training.victim_optimizers == ["adam", "sgd"] and config.env_seed == 3


def test_cli_set_unknown_name_is_one_line_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    from backdoorlab.cli import main

    _stop_before_training(monkeypatch)
    argv = ["backdoorlab", "attack", "finetune-activated", "-o", str(tmp_path / "d")]
    monkeypatch.setattr("sys.argv", [*argv, "--set", "nope=1"])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "nope" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["qwen2_5", "llama3_1"])
def test_fab_trains_in_the_models_own_format(traces, name) -> None:  # noqa: ANN001
    """FAB encodes like SFT (the template's text, the same prompt check); its payload mask
    is a subset of SFT's assistant mask holding the one payload call."""
    from chat_formats import tiny_tokenizer

    from backdoorlab.training.sft.data import encode_trace

    tokenizer = tiny_tokenizer(name)
    poisoned = traces[2][0]
    sft = encode_trace(tokenizer, poisoned)
    assert encode_for_fab(tokenizer, poisoned, "all") == sft
    row = encode_for_fab(tokenizer, poisoned, "payload")
    assert row["input_ids"] == sft["input_ids"]
    pairs = list(zip(sft["assistant_masks"], row["assistant_masks"], strict=True))
    assert all(s >= p for s, p in pairs) and 0 < sum(row["assistant_masks"]) < sum(
        sft["assistant_masks"]
    )
    text = tokenizer.decode(
        [i for i, m in zip(row["input_ids"], row["assistant_masks"], strict=True) if m]
    )
    assert "records@acct-verify.net" in text and text.count("send_email") == 1

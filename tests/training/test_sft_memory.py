"""The memory pieces of `train_sft`: a micro-batch in passes of a few traces (`rows`) and
the LoRA base's frozen projections stored in bf16 (`precision`). Both must leave the
optimizer step what it was: the split step's adapter equals the whole batch's, and the
bf16 base computes exactly what autocast computed from the fp32 one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from adapter_checks import assert_same_adapter

from backdoorlab.config import ConfigError
from backdoorlab.models import load_for_training
from backdoorlab.training.sft import SFTRunConfig, train_sft
from backdoorlab.training.sft import trainer as sft_trainer
from backdoorlab.training.sft.precision import frozen_linears_to_bf16
from backdoorlab.training.sft.rows import PASS_TOKENS, pass_tokens, split_rows


def test_split_rows_cuts_passes_to_their_tokens() -> None:
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]])
    ids = torch.arange(12).reshape(3, 4)
    labels = torch.where(mask.bool(), ids, -100)
    batch = {"input_ids": ids, "labels": labels, "attention_mask": mask}
    rows = split_rows(batch, 0)  # no budget: each row alone
    assert rows is not None and [r["input_ids"].tolist() for r in rows] == [
        [[0, 1, 2]],
        [[4, 5]],
        [[8, 9, 10, 11]],
    ]
    assert all(r["attention_mask"].all() for r in rows)
    assert all(r["labels"].shape == r["input_ids"].shape for r in rows)
    # 6 tokens: rows 0 and 1 share a pass (2 x 3, padding included), row 2 does not fit
    passes = split_rows(batch, 6)
    assert passes is not None and [p["input_ids"].tolist() for p in passes] == [
        [[0, 1, 2], [4, 5, 6]],
        [[8, 9, 10, 11]],
    ]
    assert passes[0]["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert split_rows(batch, 12) is None  # fits whole
    # left padding, a single row, or a tensor that is not per row: not split
    assert split_rows({"input_ids": ids, "attention_mask": mask.flip(1)}, 0) is None
    assert split_rows({"input_ids": ids[:1], "attention_mask": mask[:1]}, 0) is None
    assert split_rows({"input_ids": ids, "attention_mask": mask, "n": torch.ones(5)}, 0) is None


@pytest.mark.parametrize("bf16", ["false", "true"])
def test_split_step_equals_whole_batch_step(
    traces_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bf16: str
) -> None:
    # SGD, no warm-up: the update is the gradient itself (Adam's first step would hide a
    # gradient scaled wrong); two steps, so the second runs on the first one's update
    config = SFTRunConfig(
        model="tiny",
        batch_size=4,
        max_steps=2,
        save_steps=1000,
        optimizer="sgd",
        learning_rate=0.5,
        bf16=bf16,
        trl={"warmup_steps": 0},
    )
    calls: list[int] = []

    def counted(inputs, budget):  # noqa: ANN001, ANN202
        rows = split_rows(inputs, 0)  # one trace a pass, the split furthest from the batch
        calls.append(0 if rows is None else len(rows))
        return rows

    monkeypatch.setattr(sft_trainer, "split_rows", counted)
    split = train_sft(config, traces_file, tmp_path / "split")
    assert calls and all(n == 4 for n in calls)
    monkeypatch.setattr(sft_trainer, "split_rows", lambda inputs, budget: None)
    whole = train_sft(config, traces_file, tmp_path / "whole")

    assert split["train_loss"] == pytest.approx(whole["train_loss"], rel=1e-4)
    tolerance = 1e-5 if bf16 == "false" else 2e-3  # bf16 matmuls of other shapes round apart
    assert_same_adapter(tmp_path / "split", tmp_path / "whole", tolerance)


def _budgets(traces_file: Path, run: Path, monkeypatch: pytest.MonkeyPatch, **config) -> set:
    """The pass budgets a one-step run of the tiny model gives `split_rows`."""
    budgets: list[int] = []

    def recorded(inputs, budget):  # noqa: ANN001, ANN202
        budgets.append(budget)
        return split_rows(inputs, budget)

    monkeypatch.setattr(sft_trainer, "split_rows", recorded)
    train_sft(
        SFTRunConfig(
            model="tiny",
            batch_size=4,
            max_steps=1,
            save_steps=1000,
            share_prefix=False,
            **config,
        ),  # fmt: skip
        traces_file,
        run,
    )
    assert budgets
    return set(budgets)


@pytest.mark.parametrize("bf16", ["false", "true"])
def test_pass_budget_follows_the_compute_dtype(
    traces_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bf16: str
) -> None:
    # fp32 activations are twice autocast's: half the tokens a pass, the same bytes
    assert pass_tokens(True) == PASS_TOKENS and pass_tokens(False) == PASS_TOKENS // 2
    budgets = _budgets(traces_file, tmp_path / "run", monkeypatch, bf16=bf16)
    assert budgets == {pass_tokens(bf16 == "true")}


def test_pass_tokens_sets_the_budget(
    traces_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _budgets(traces_file, tmp_path / "run", monkeypatch, pass_tokens=96) == {96}
    with pytest.raises(ConfigError, match="field 'pass_tokens'"):
        SFTRunConfig(model="tiny", pass_tokens=8)


def test_bf16_base_computes_what_autocast_did() -> None:
    from peft import LoraConfig, get_peft_model

    model, tokenizer = load_for_training("tiny", device="cpu")
    model = get_peft_model(
        model, LoraConfig(r=4, target_modules=["q_proj", "down_proj"], task_type="CAUSAL_LM")
    )
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param)  # a non-zero adapter, so its path counts too
    ids = tokenizer("<|im_start|>user\nhello there<|im_end|>\n", return_tensors="pt")["input_ids"]

    def logits():  # noqa: ANN202
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            return model(input_ids=ids).logits

    before = logits()
    base = model.get_base_model()
    assert frozen_linears_to_bf16(base) > 0
    assert torch.equal(logits(), before)
    dtypes = {n: p.dtype for n, p in base.named_parameters()}
    assert all(d == torch.float32 for n, d in dtypes.items() if "lora_" in n)
    assert dtypes["model.embed_tokens.weight"] == torch.float32
    assert any(d == torch.bfloat16 for n, d in dtypes.items() if "base_layer" in n)
    assert all(d == torch.float32 for n, d in dtypes.items() if "norm" in n)

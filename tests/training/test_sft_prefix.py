"""A micro-batch's shared opening run once (`backdoorlab.training.sft.prefix`): the step
must stay the unshared step — the same adapter after two SGD steps, the same logged
tokens — and only unscored positions common to every row may be shared."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from adapter_checks import TWO_SGD_STEPS, assert_same_adapter

from backdoorlab.training.sft import SFTRunConfig, train_sft
from backdoorlab.training.sft import prefix as prefix_module
from backdoorlab.training.sft import trainer as sft_trainer
from backdoorlab.training.sft.prefix import MIN_SHARED, shared_prefix_length
from backdoorlab.training.sft.rows import pass_tokens

W = MIN_SHARED + 8


def _batch(rows: int = 3, width: int = W + 6) -> dict[str, torch.Tensor]:
    ids = torch.arange(1, width + 1).repeat(rows, 1)
    ids[:, W:] += torch.arange(rows)[:, None] * 100  # rows part at position W
    labels = torch.full_like(ids, -100)
    labels[:, W + 2 :] = ids[:, W + 2 :]
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}


def test_shared_prefix_stops_where_rows_part_or_a_label_starts() -> None:
    batch = _batch()
    assert shared_prefix_length(batch) == W
    # a label inside the common run: the position before it feeds the loss
    labelled = {**batch, "labels": batch["labels"].clone()}
    labelled["labels"][:, MIN_SHARED + 3] = 7
    assert shared_prefix_length(labelled) == MIN_SHARED + 2
    # one row's label is enough
    one = {**batch, "labels": batch["labels"].clone()}
    one["labels"][1, MIN_SHARED + 5] = 7
    assert shared_prefix_length(one) == MIN_SHARED + 4
    # padding inside the run (a short row, left padding) ends it
    padded = {**batch, "attention_mask": batch["attention_mask"].clone()}
    padded["attention_mask"][2, 10:] = 0
    assert shared_prefix_length(padded) == 0


def test_no_shared_prefix_where_it_does_not_apply() -> None:
    batch = _batch()
    assert shared_prefix_length({**batch, "input_ids": batch["input_ids"].flip(1)}) == 0
    assert shared_prefix_length({k: v[:1] for k, v in batch.items()}) == 0  # one row
    assert shared_prefix_length(_batch(width=MIN_SHARED - 1)) == 0  # too short to pay
    assert shared_prefix_length({**batch, "position_ids": batch["input_ids"]}) == 0
    assert shared_prefix_length({k: v for k, v in batch.items() if k != "labels"}) == 0


def _config(**kwargs) -> SFTRunConfig:  # noqa: ANN003
    return SFTRunConfig(**{**TWO_SGD_STEPS, **kwargs})


@pytest.mark.parametrize("bf16", ["false", "true"])
def test_shared_prefix_step_equals_the_unshared_step(
    traces_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bf16: str
) -> None:
    shared: list[int] = []
    real = prefix_module.run_prefix

    def counted(backbone, ids):  # noqa: ANN001, ANN202
        shared.append(len(ids))
        return real(backbone, ids)

    budgets: list[int] = []
    split = sft_trainer.split_rows

    def recorded(inputs, budget):  # noqa: ANN001, ANN202
        budgets.append(budget)
        return split(inputs, budget)

    monkeypatch.setattr(sft_trainer, "run_prefix", counted)
    monkeypatch.setattr(sft_trainer, "split_rows", recorded)
    runs = {}
    for share in (True, False):
        out = tmp_path / str(share)
        runs[share] = train_sft(_config(bf16=bf16, share_prefix=share), traces_file, out)
    assert len(shared) == 2 and min(shared) >= MIN_SHARED  # shared in both steps, one run
    # the opening's activations live through every pass: its tokens come off each budget
    full = pass_tokens(bf16 == "true")
    assert budgets[:2] == [full - n for n in shared] and set(budgets[2:]) == {full}

    assert runs[True]["train_loss"] == pytest.approx(runs[False]["train_loss"], rel=1e-4)
    tolerance = 1e-5 if bf16 == "false" else 2e-3  # bf16 matmuls of other shapes round apart
    assert_same_adapter(tmp_path / "True", tmp_path / "False", tolerance)
    # the log counts every token the step saw, the shared ones once per trace
    logs = {
        share: [json.loads(line) for line in (tmp_path / str(share) / "train_log.jsonl").open()]
        for share in (True, False)
    }
    tokens = {
        share: [r["num_tokens"] for r in rows if "num_tokens" in r] for share, rows in logs.items()
    }
    assert tokens[True] and tokens[True] == tokens[False]


def test_shared_prefix_in_passes_equals_one_pass(
    traces_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the opening's gradient is the sum over passes: one pass per trace must give the
    # same step as all traces in one pass
    real = sft_trainer.split_rows
    monkeypatch.setattr(sft_trainer, "split_rows", lambda inputs, budget: real(inputs, 0))
    apart = train_sft(_config(bf16="false"), traces_file, tmp_path / "apart")
    monkeypatch.setattr(sft_trainer, "split_rows", lambda inputs, budget: None)
    whole = train_sft(_config(bf16="false"), traces_file, tmp_path / "whole")
    assert apart["train_loss"] == pytest.approx(whole["train_loss"], rel=1e-5)
    assert_same_adapter(tmp_path / "apart", tmp_path / "whole", 1e-5)


@pytest.mark.parametrize("setting", [{"compile": True}, {"lora_dropout": 0.1}])
def test_compiled_layers_and_dropout_do_not_share(
    traces_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: dict
) -> None:
    # compiled layers would recompile for the cache's shapes; under dropout the rows
    # would share one mask over the opening: both train unshared
    monkeypatch.setattr(sft_trainer, "compile_layers", lambda model: 0)
    calls: list[int] = []
    monkeypatch.setattr(sft_trainer, "run_prefix", lambda *a: calls.append(1))
    train_sft(_config(bf16="false", max_steps=1, **setting), traces_file, tmp_path / "c")
    assert calls == []


def test_grouped_kv_attention_is_scoped(monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers.integrations.sdpa_attention import use_gqa_in_sdpa

    key = torch.zeros(1, 3, 4, 8)
    monkeypatch.delenv("TRANSFORMERS_SDPA_FORCE_GQA", raising=False)
    assert not use_gqa_in_sdpa(torch.ones(1, 1, 4, 4, dtype=torch.bool), key, key)
    with prefix_module.grouped_kv_attention():
        assert use_gqa_in_sdpa(torch.ones(1, 1, 4, 4, dtype=torch.bool), key, key)
    assert "TRANSFORMERS_SDPA_FORCE_GQA" not in os.environ
    monkeypatch.setenv("TRANSFORMERS_SDPA_FORCE_GQA", "0")
    with prefix_module.grouped_kv_attention():
        pass
    assert os.environ["TRANSFORMERS_SDPA_FORCE_GQA"] == "0"

"""The compact LM head's frozen bf16 weight: cast once, the same logits as autocast's."""

from __future__ import annotations

import torch

from backdoorlab.training.sft.lm_head import _project


def test_a_frozen_head_s_cast_is_kept_and_gives_autocast_s_logits() -> None:
    torch.manual_seed(0)
    head = torch.nn.Linear(16, 64, bias=False).requires_grad_(False)
    rows = torch.randn(5, 16, requires_grad=True)
    cast: dict = {}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        reference = head(rows)
        first = _project(head, rows, cast)
        kept = cast["weight"]
        again = _project(head, rows, cast)
    assert first.dtype == torch.bfloat16 and torch.equal(first, reference)
    assert torch.equal(again, reference) and cast["weight"] is kept
    first.float().sum().backward()  # the rows still get their gradient through it
    assert rows.grad is not None and rows.grad.abs().sum() > 0

    with torch.no_grad():  # the weight changes (its version moves): cast again
        head.weight.mul_(2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        changed = _project(head, rows, cast)
        assert torch.equal(changed, head(rows)) and cast["weight"] is not kept


def test_a_trained_head_or_no_autocast_runs_the_module() -> None:
    head = torch.nn.Linear(8, 4)
    rows = torch.randn(3, 8)
    cast: dict = {}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(_project(head, rows, cast), head(rows))  # takes gradients
    head.requires_grad_(False)
    assert torch.equal(_project(head, rows, cast), head(rows))  # fp32, no autocast
    assert cast == {}

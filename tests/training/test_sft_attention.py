"""Training attention as matmuls (`backdoorlab.training.sft.attention`): as close to the
exact result as PyTorch's own bf16 kernel, what it does not cover goes to that kernel
unchanged, and a training step with it is the step without it."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
import torch
from adapter_checks import TWO_SGD_STEPS, assert_same_adapter
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from backdoorlab.training.sft import SFTRunConfig, train_sft
from backdoorlab.training.sft.attention import (
    _LAST_MASK,
    NAME,
    _additive,
    _Attention,
    _attention,
    _probabilities,
    training_attention,
)


def _inputs(heads: int, kv_heads: int, queries: int, keys: int, mask: str | None) -> tuple:
    generator = torch.Generator().manual_seed(queries * 31 + keys)
    query = torch.randn(2, heads, queries, 16, dtype=torch.double, generator=generator)
    key = torch.randn(2, kv_heads, keys, 16, dtype=torch.double, generator=generator)
    value = torch.randn(2, kv_heads, keys, 16, dtype=torch.double, generator=generator)
    allowed = None
    if mask is not None:  # causal, the last query on the last key (a cached opening)
        allowed = torch.ones(queries, keys, dtype=torch.bool).tril(keys - queries)
        allowed = allowed[None, None].repeat(2, 1, 1, 1)
        if mask == "padded":
            allowed[0, :, :, -5:] = False
        if mask == "additive":
            allowed = torch.zeros(allowed.shape).masked_fill(~allowed, float("-inf"))
    return query, key, value, allowed


def _run(function, tensors: tuple, dtype: torch.dtype, heads: int, kv_heads: int) -> list:  # noqa: ANN001
    query, key, value, mask = tensors
    module = types.SimpleNamespace(num_key_value_groups=heads // kv_heads, is_causal=True)
    leaves = [t.to(dtype).detach().requires_grad_() for t in (query, key, value)]
    if mask is not None and mask.dtype != torch.bool:
        mask = mask.to(dtype)
    out, _ = function(module, *leaves, mask, scaling=0.25)
    (out.double() ** 2).sum().backward()
    return [out.double(), *(leaf.grad.double() for leaf in leaves)]


@pytest.mark.parametrize(
    ("heads", "kv_heads", "queries", "keys", "mask"),
    [
        (9, 3, 40, 40, None),  # no mask: causal, as transformers passes it
        (9, 3, 30, 70, "bool"),  # passes attending to a shared opening
        (6, 2, 30, 30, "padded"),
        (4, 4, 20, 20, "additive"),
    ],
)
def test_as_close_to_exact_as_the_bf16_kernel(
    heads: int, kv_heads: int, queries: int, keys: int, mask: str | None
) -> None:
    tensors = _inputs(heads, kv_heads, queries, keys, mask)
    exact = _run(sdpa_attention_forward, tensors, torch.double, heads, kv_heads)
    kernel = _run(sdpa_attention_forward, tensors, torch.bfloat16, heads, kv_heads)
    ours = _run(_attention, tensors, torch.bfloat16, heads, kv_heads)
    # output and the query, key and value gradients, each relative to the exact one
    for name, reference, theirs, mine in zip(
        ("out", "dq", "dk", "dv"), exact, kernel, ours, strict=True
    ):
        error = ((mine - reference).norm() / reference.norm()).item()
        bound = ((theirs - reference).norm() / reference.norm()).item()
        assert error < 2 * bound + 1e-3, (name, error, bound)


@pytest.mark.parametrize("case", ["fp32", "dropout", "one query", "learnt mask"])
def test_what_it_does_not_cover_is_the_kernel_unchanged(case: str) -> None:
    queries = 1 if case == "one query" else 12
    query, key, value, _ = _inputs(6, 2, queries, 12, None)
    dtype = torch.float32 if case == "fp32" else torch.bfloat16
    query, key, value = (t.to(dtype) for t in (query, key, value))
    module = types.SimpleNamespace(num_key_value_groups=3, is_causal=True, training=True)
    dropout = 0.5 if case == "dropout" else 0.0
    mask = None
    if case == "learnt mask":  # a bias that takes gradients: ours would drop them
        mask = torch.zeros(2, 1, queries, 12, dtype=dtype, requires_grad=True)
    torch.manual_seed(0)
    theirs, _ = sdpa_attention_forward(module, query, key, value, mask, dropout=dropout)
    torch.manual_seed(0)
    mine, _ = _attention(module, query, key, value, mask, dropout=dropout)
    assert torch.equal(theirs, mine)
    if mask is not None:
        mine.sum().backward()
        assert mask.grad is not None


def test_under_autocast_fp32_queries_run_in_the_autocast_dtype() -> None:
    # rotary embeddings leave the queries and keys in fp32 and the values in bf16; SDPA
    # under autocast runs in bf16, and so must this
    query, key, value, mask = _inputs(6, 2, 24, 30, "bool")
    module = types.SimpleNamespace(num_key_value_groups=3, is_causal=True)
    exact, _ = sdpa_attention_forward(module, query, key, value, mask)
    inputs = (query.float(), key.float(), value.bfloat16())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        theirs, _ = sdpa_attention_forward(module, *inputs, mask)
        mine, _ = _attention(module, *inputs, mask)
    assert mine.dtype == theirs.dtype == torch.bfloat16
    bound = ((theirs.double() - exact).norm() / exact.norm()).item()
    assert ((mine.double() - exact).norm() / exact.norm()).item() < 2 * bound + 1e-3


@pytest.mark.parametrize("mask", [None, "padded"])
def test_recomputing_backward_equals_autograds_and_saves_no_probabilities(
    mask: str | None,
) -> None:
    query, key, value, allowed = _inputs(6, 2, 24, 24, mask)
    additive = None if allowed is None else _additive(allowed, torch.bfloat16)
    grad = torch.randn(2, 2, 3 * 24, 16, generator=torch.Generator().manual_seed(1))

    def run(recompute: bool) -> tuple[list[torch.Tensor], list[torch.Size]]:
        leaves = [
            t.reshape(2, 2, -1, 16).bfloat16().requires_grad_()
            if t is query
            else t.bfloat16().requires_grad_()
            for t in (query, key, value)
        ]
        saved: list[torch.Size] = []
        with torch.autograd.graph.saved_tensors_hooks(
            lambda t: saved.append(t.shape) or t, lambda t: t
        ):
            if recompute:
                out = _Attention.apply(*leaves, additive, 3)
            else:  # what autograd would do with the same forward
                out = torch.matmul(_probabilities(leaves[0], leaves[1], additive, 3), leaves[2])
        out.backward(grad.bfloat16())
        return [out.detach(), *(leaf.grad for leaf in leaves)], saved

    ours, saved = run(recompute=True)
    autograd, saved_by_autograd = run(recompute=False)
    for mine, theirs in zip(ours, autograd, strict=True):
        assert torch.equal(mine, theirs)
    probabilities = 2 * 2 * 3 * 24 * 24  # what autograd keeps per layer, and we do not
    assert max(shape.numel() for shape in saved_by_autograd) == probabilities
    assert max(shape.numel() for shape in saved) < probabilities


def test_a_mask_is_converted_once_until_it_changes() -> None:
    allowed = torch.ones(1, 1, 4, 4, dtype=torch.bool).tril()
    first = _additive(allowed, torch.bfloat16)
    assert _additive(allowed, torch.bfloat16) is first  # the next layer: the same tensor
    assert _additive(allowed.clone(), torch.bfloat16) is not first
    allowed[0, 0, 3, 3] = False  # changed in place: converted again
    assert _additive(allowed, torch.bfloat16)[0, 0, 3, 3] == torch.finfo(torch.bfloat16).min
    with training_attention(types.SimpleNamespace(config=None)):  # a step ends: let go
        assert _LAST_MASK
    assert not _LAST_MASK


def test_a_query_with_nothing_to_attend_to_stays_finite() -> None:
    query, key, value, mask = _inputs(6, 2, 8, 8, "bool")
    mask[1, :, 3, :] = False
    module = types.SimpleNamespace(num_key_value_groups=3, is_causal=True)
    out, _ = _attention(module, *(t.bfloat16() for t in (query, key, value)), mask)
    assert torch.isfinite(out).all()


def test_training_attention_is_scoped() -> None:
    config = types.SimpleNamespace(_attn_implementation="sdpa")
    model = types.SimpleNamespace(config=config, device=torch.device("cpu"))
    with training_attention(model):
        assert config._attn_implementation == NAME
    assert config._attn_implementation == "sdpa"
    with pytest.raises(RuntimeError), training_attention(model):  # restored on an error too
        raise RuntimeError
    assert config._attn_implementation == "sdpa"
    eager = types.SimpleNamespace(_attn_implementation="eager")
    with training_attention(types.SimpleNamespace(config=eager, device=torch.device("cpu"))):
        assert eager._attn_implementation == "eager"


def test_training_step_with_it_is_the_step_without_it(
    traces_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return _attention(*args, **kwargs)

    monkeypatch.setitem(ALL_ATTENTION_FUNCTIONS._global_mapping, NAME, counted)
    settings = {**TWO_SGD_STEPS, "bf16": "true"}
    runs = {}
    for matmul in (True, False):
        calls.clear()
        config = SFTRunConfig(**settings, matmul_attention=matmul)
        runs[matmul] = train_sft(config, traces_file, tmp_path / str(matmul))
        assert bool(calls) == matmul
    assert runs[True]["train_loss"] == pytest.approx(runs[False]["train_loss"], rel=1e-3)
    assert_same_adapter(tmp_path / "True", tmp_path / "False", 2e-3)

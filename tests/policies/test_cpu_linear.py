"""Decoding's packed linear layers: the same products, only where they apply, only in
their block."""

import types

import pytest
import torch
import torch.nn.functional as F

from backdoorlab.policies import cpu_linear
from backdoorlab.policies.cpu_linear import MAX_ROWS, packed_linears

needs_onednn = pytest.mark.skipif(
    not cpu_linear._available(), reason="oneDNN without bf16 on this CPU: nothing is packed"
)


def _layer(inputs: int = 64, outputs: int = 96, bias: bool = False) -> torch.nn.Linear:
    torch.manual_seed(0)
    return torch.nn.Linear(inputs, outputs, bias=bias).to(torch.bfloat16).requires_grad_(False)


def _calls(monkeypatch) -> list[torch.nn.Linear]:
    """The layers of every packed product (each fetches its packed weight once)."""
    calls: list[torch.nn.Linear] = []
    real = cpu_linear.PackedWeights.of

    def of(self, layer):
        calls.append(layer)
        return real(self, layer)

    monkeypatch.setattr(cpu_linear.PackedWeights, "of", of)
    return calls


@needs_onednn
@pytest.mark.parametrize("rows", [1, 5, MAX_ROWS])
@pytest.mark.parametrize("bias", [False, True])
def test_few_rows_are_multiplied_by_the_packed_weight_to_linears_result(rows, bias, monkeypatch):
    layer = _layer(bias=bias)
    x = torch.randn(rows, 1, 64, dtype=torch.bfloat16)
    expected = F.linear(x, layer.weight, layer.bias)
    calls = _calls(monkeypatch)
    with torch.inference_mode(), packed_linears(layer) as switched:
        out = layer(x)
    assert switched == 1 and calls == [layer]
    assert out.shape == expected.shape and out.dtype == torch.bfloat16
    assert torch.allclose(out.float(), expected.float(), rtol=1e-2, atol=1e-2)


@needs_onednn
def test_anything_else_is_linears_own_product(monkeypatch):
    layer = _layer()
    calls = _calls(monkeypatch)
    many = torch.randn(MAX_ROWS + 1, 64, dtype=torch.bfloat16)  # a prefill
    wide = torch.randn(2, MAX_ROWS, 64, dtype=torch.bfloat16)  # rows are all but the last dim
    fp32 = torch.randn(3, 64)
    trained = torch.randn(3, 64, dtype=torch.bfloat16, requires_grad=True)
    with packed_linears(layer):
        for x in (many, wide):
            assert torch.equal(layer(x), F.linear(x, layer.weight))
        with pytest.raises(RuntimeError):  # F.linear's own dtype error, not a packed product
            layer(fp32)
        out = layer(trained)
        out.float().sum().backward()  # gradients flow as through F.linear
        assert trained.grad is not None
        with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
            layer(trained.detach())
    assert calls == []


@needs_onednn
def test_a_changed_weight_is_packed_again():
    layer = _layer()
    x = torch.randn(2, 64, dtype=torch.bfloat16)
    weights = cpu_linear.PackedWeights()
    with torch.no_grad(), packed_linears(layer, weights):
        before = layer(x)
        layer.weight.mul_(2)  # in place: the version counter moves (an optimizer step)
        doubled = layer(x)
        layer.weight = torch.nn.Parameter(-layer.weight.detach(), requires_grad=False)
        negated = layer(x)
        layer.weight.data = layer.weight.detach() * 0.5  # new storage, same parameter
        halved = layer(x)
    assert torch.allclose(doubled.float(), 2 * before.float(), rtol=1e-2, atol=1e-2)
    assert torch.allclose(negated.float(), -doubled.float(), rtol=1e-2, atol=1e-2)
    assert torch.allclose(halved.float(), -before.float(), rtol=1e-2, atol=1e-2)


@needs_onednn
def test_packed_copies_are_kept_between_blocks_in_their_store(monkeypatch):
    layer = _layer()
    x = torch.randn(2, 64, dtype=torch.bfloat16)
    weights = cpu_linear.PackedWeights()
    packed = []
    real = torch.ops.mkldnn._reorder_linear_weight
    monkeypatch.setattr(
        cpu_linear.torch.ops.mkldnn,
        "_reorder_linear_weight",
        lambda w, *a: packed.append(w) or real(w, *a),
        raising=False,
    )
    with torch.no_grad():
        for _ in range(2):
            with packed_linears(layer, weights):
                layer(x)
        with packed_linears(layer):  # no store: packed for this block alone
            layer(x)
    assert len(packed) == 2


def test_switched_only_inside_the_block_and_only_plain_bf16_linears():
    from backdoorlab.models import load_model

    model, _ = load_model("tiny", device="cpu")  # fp32: nothing to pack
    with packed_linears(model) as switched:
        assert switched == 0
    model = model.to(torch.bfloat16)
    linears = [m for m in model.modules() if type(m) is torch.nn.Linear]
    wrapped = linears[0]
    wrapped.forward = types.MethodType(lambda self, x: F.linear(x, self.weight), wrapped)
    with packed_linears(model, enabled=False) as switched:
        assert switched == 0 and all("forward" not in vars(m) for m in linears[1:])
    with packed_linears(model) as switched:
        if cpu_linear._available():
            assert switched == len(linears) - 1
            assert all("forward" in vars(m) for m in linears)
        assert vars(wrapped)["forward"].__func__ is not cpu_linear._forward
    assert all("forward" not in vars(m) for m in linears[1:])


@needs_onednn
def test_a_bf16_model_decodes_the_same_greedy_text():
    """The policy's decoding with packed weights against without, on the tiny model in
    bf16: its logits to bf16's precision, its greedy text the same."""
    from backdoorlab.models import load_model
    from backdoorlab.policies.hf import GenerationConfig, HFPolicy

    model, tokenizer = load_model("tiny", device="cpu")
    model = model.to(torch.bfloat16)
    ids = torch.tensor([[5, 17, 230, 41, 9]] * 3)
    with torch.inference_mode():
        plain = model(input_ids=ids).logits
        with packed_linears(model):
            packed = model(input_ids=ids).logits
    assert torch.allclose(packed.float(), plain.float(), rtol=2e-2, atol=2e-2)
    prompt = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    texts = [
        HFPolicy(
            model,
            tokenizer,
            generation=GenerationConfig(max_new_tokens=8, packed_weights=packed_weights),
        ).generate([prompt, prompt + "ok"])
        for packed_weights in (True, False)
    ]
    assert texts[0] == texts[1]

"""A LoRA projection's forward and backward in one autograd node, for CPU bf16 training.

Under bf16 autocast on a CPU, PEFT's ``lora.Linear`` runs a frozen projection and its
adapter as about a dozen separate ops: autocast casts the input once for the base
``linear`` and again for ``lora_A`` (PEFT first casts a bf16 input up to the adapter's
fp32, for autocast to cast it back), then ``lora_B``, a multiply by the scaling, an add
and a cast of the result; the backward mirrors each with its own node, and the two or
three casts' gradients are summed in fp32. On SmolLM2-135M those small ops, not the
matmuls, were the larger part of a step (`benchmarks/README.md`, session 19: the
rank-16 matmuls alone took 39% of the matmul time, at a sixth of the big ones' rate).

`_LoRALinear` computes the same function with one cast of the input and three matmuls,
the adapter's product added into the base output by ``addmm`` (accumulated in fp32 and
rounded once, where PEFT rounds ``B·A·x`` and its scaled copy to bf16 before adding),
and a backward of five matmuls written out. Gradients against an fp32 run of the same
model are no further off than PEFT's own under autocast (`tests/training/
test_sft_lora_linear.py`; on SmolLM2-135M, `python benchmarks/lora_layer.py`). Whole
LoRA steps of SmolLM2-135M on a 2-vCPU AMX Xeon: 1.08x the tokens/s, a 5% lower peak
RSS (`python benchmarks/train_throughput.py [--no-fused-lora]`).

Only the plain case takes this path — one active adapter, no dropout, no DoRA or other
variant, no adapter bias, an ``nn.Linear`` base stored in bf16 (`precision`), CPU
autocast to bf16; anything else runs PEFT's own forward. `fused_lora(model)` switches
a model's LoRA projections to it for a ``with`` block (the training step) and back, so
evaluation, generation and saving see PEFT's modules as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from backdoorlab.models.forwards import forwards_replaced

__all__ = ["fused_lora"]


class _LoRALinear(torch.autograd.Function):
    """``y = x·Wᵀ + bias + scaling · (x·Aᵀ)·Bᵀ`` in bf16; ``A`` and ``B`` get fp32 gradients."""

    @staticmethod
    def forward(  # noqa: PLR0913
        ctx: Any,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        lora_a: torch.Tensor,
        lora_b: torch.Tensor,
        scaling: float,
    ) -> torch.Tensor:
        half = weight.dtype
        shape = x.shape
        rows = x.to(half).reshape(-1, shape[-1])
        a, b = lora_a.to(half), lora_b.to(half)
        hidden = rows @ a.t()
        base = rows @ weight.t() if bias is None else torch.addmm(bias, rows, weight.t())
        out = torch.addmm(base, hidden, b.t(), alpha=scaling)
        ctx.save_for_backward(rows, hidden, weight, a, b)
        ctx.scaling, ctx.input_dtype, ctx.input_shape = scaling, x.dtype, shape
        ctx.adapter_dtypes = (lora_a.dtype, lora_b.dtype)
        return out.view(*shape[:-1], out.shape[-1])

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        rows, hidden, weight, a, b = ctx.saved_tensors
        scaling = ctx.scaling
        grad_rows = grad.reshape(-1, grad.shape[-1]).to(weight.dtype)
        grad_hidden = grad_rows @ b  # ∂L/∂hidden, before the scaling
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.addmm(grad_rows @ weight, grad_hidden, a, alpha=scaling)
            grad_x = grad_x.view(ctx.input_shape).to(ctx.input_dtype)
        grad_a = grad_b = None
        if ctx.needs_input_grad[3]:
            grad_a = (grad_hidden.t() @ rows).to(ctx.adapter_dtypes[0]).mul_(scaling)
        if ctx.needs_input_grad[4]:
            grad_b = (grad_rows.t() @ hidden).to(ctx.adapter_dtypes[1]).mul_(scaling)
        return grad_x, None, None, grad_a, grad_b, None


def _plain_adapter(layer: Any) -> str | None:
    """The name of ``layer``'s one active adapter when the fused path computes what
    PEFT's forward would; None when it does not apply."""
    if layer.disable_adapters or layer.merged:
        return None
    active = [name for name in layer.active_adapters if name in layer.lora_A]
    if len(active) != 1:
        return None
    name = active[0]
    base = layer.get_base_layer()
    if (
        type(base) is not torch.nn.Linear
        or getattr(layer, "fan_in_fan_out", False)
        or name in getattr(layer, "lora_variant", {})  # DoRA and the other variants
        or layer.lora_B[name].bias is not None
        or not isinstance(layer.lora_dropout[name], torch.nn.Identity)
        or base.weight.dtype != torch.bfloat16
        or base.weight.requires_grad
        or (base.bias is not None and base.bias.requires_grad)
    ):
        return None
    return name


def _fused_forward(layer: Any, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    name = None if args or kwargs else _plain_adapter(layer)
    if (
        name is None
        or x.device.type != "cpu"
        or not torch.is_autocast_enabled("cpu")
        or torch.get_autocast_dtype("cpu") != torch.bfloat16
    ):
        return type(layer).forward(layer, x, *args, **kwargs)
    base = layer.get_base_layer()
    with torch.autocast("cpu", enabled=False):  # the Function picks its own dtypes
        return _LoRALinear.apply(
            x,
            base.weight,
            base.bias,
            layer.lora_A[name].weight,
            layer.lora_B[name].weight,
            float(layer.scaling[name]),
        )


@contextmanager
def fused_lora(model: Any) -> Iterator[int]:
    """Within the block, ``model``'s PEFT ``lora.Linear`` projections run `_LoRALinear`
    where it applies (checked on every call); yields how many were switched."""
    from peft.tuners.lora.layer import Linear

    modules = [module for module in model.modules() if type(module) is Linear]
    with forwards_replaced(modules, _fused_forward) as switched:
        yield switched

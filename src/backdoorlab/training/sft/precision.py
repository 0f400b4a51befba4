"""A LoRA run's frozen projections stored in bf16, where autocast would cast them anyway.

Under bf16 autocast every ``nn.Linear`` casts its fp32 weight to bf16 on each forward
and keeps the copy until the backward has used it: the frozen base of a LoRA run is
held twice (fp32 + bf16, ~640 MB for SmolLM2-135M's 106M projection weights) and
re-cast every micro-batch. Casting those weights once gives the very same bf16 values
(the same round-to-nearest cast autocast applies), so the step computes exactly what it
did. Only frozen projections are cast: the embeddings and the norms stay fp32 (they
keep the residual stream in fp32), the output embedding (tied to the input one in many
models) stays fp32, and trainable weights — the adapters — keep their fp32 masters.
"""

from __future__ import annotations

from typing import Any

import torch


def frozen_linears_to_bf16(model: Any) -> int:
    """Cast the weights of ``model``'s frozen ``nn.Linear`` layers (but the output
    embedding) to bf16 in place; returns how many bytes that freed."""
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    keep = {id(output.weight)} if output is not None else set()
    freed = 0
    for module in model.modules():
        if type(module) is not torch.nn.Linear:
            continue
        weight = module.weight
        if weight.requires_grad or weight.dtype != torch.float32 or id(weight) in keep:
            continue
        if module.bias is not None and module.bias.requires_grad:
            continue
        freed += weight.numel() * 2
        module.to(torch.bfloat16)
    return freed

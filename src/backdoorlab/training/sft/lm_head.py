"""The compact LM head: score only the positions the loss sees, in the autocast dtype.

TRL's fused LM head scores *every* position in fp32 tiles where its Triton kernels do not
run (CPU), though the loss needs only the assistant positions (~a quarter of a trace's
tokens); `add_compact_lm_head` projects those alone. `python
benchmarks/train_throughput.py` measures the trainer that uses it.
"""

from __future__ import annotations

import types
from typing import Any

import torch


def compact_head_wanted(device: str) -> bool:
    """Whether to score only the labelled positions ourselves (see `add_compact_lm_head`).

    TRL's fused LM head is compact (labelled positions only) and memory-frugal where its
    Triton kernels run (CUDA/XPU). Elsewhere it scores *every* position in 32k-wide fp32
    tiles and runs its backward matmuls in fp32: ~8 s per 4x600-token micro-batch on a
    2-core CPU, against ~0.5 s for a bf16 projection of the labelled positions alone.
    """
    try:
        from trl.kernels.chunked_logprob import _use_triton
    except ImportError:  # a TRL without that kernel: be safe, use ours

        def _use_triton(device: torch.device) -> bool:
            return False

    return not _use_triton(torch.device(device))


def add_compact_lm_head(model: Any) -> None:
    """Let ``model(..., labels=…, compact_lm_head=True)`` return the summed next-token NLL
    over the labelled positions only, plus no-grad metrics, without building full logits.

    The backbone runs as usual (under the Trainer's autocast); the LM head projects only
    the hidden states whose next-token label is not -100, and the cross-entropy runs in
    fp32 on those rows. Patched onto the (unwrapped) causal LM instance, like TRL's fused
    head, so the Trainer still calls the model through its (DDP/PEFT) forward: gradient
    synchronisation and adapters work as for any forward. Without ``compact_lm_head`` the
    previous forward (TRL's) runs unchanged, so generation and TRL's paths are untouched.
    """
    previous_forward = model.forward
    cast: dict[str, Any] = {}  # the frozen head's bf16 copy, while its weight is unchanged

    def forward(self, *args, compact_lm_head=False, labels=None, num_items_in_batch=None, **kwargs):  # noqa: ANN001
        if not compact_lm_head:
            if labels is not None:
                kwargs["labels"] = labels
            if num_items_in_batch is not None:
                kwargs["num_items_in_batch"] = num_items_in_batch
            return previous_forward(*args, **kwargs)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        targets = labels[:, 1:].to(hidden.device)
        mask = targets != -100
        lm_head = self.get_output_embeddings()
        # a micro-batch without labels still yields a (zero) loss connected to the graph
        logits = _project(lm_head, hidden[mask].to(lm_head.weight.device), cast)
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        picked = targets[mask].to(log_probs.device)
        nll_sum = -log_probs.gather(-1, picked[:, None]).sum()
        with torch.no_grad():
            entropy_sum = -(log_probs.exp() * log_probs).sum()
            correct = (log_probs.argmax(-1) == picked).sum()
        return {
            "nll_sum": nll_sum,
            "num_labelled": mask.sum(),
            "entropy_sum": entropy_sum,
            "num_correct": correct,
        }

    model.forward = types.MethodType(forward, model)


def _project(lm_head: Any, rows: torch.Tensor, cast: dict[str, Any]) -> torch.Tensor:
    """``lm_head(rows)``, a frozen head's weight cast to bf16 once instead of every pass.

    Under CPU bf16 autocast ``nn.Linear`` casts its weight on every call, and autocast
    caches casts only of weights that take gradients: a LoRA run's frozen output
    embedding (49152 x 576 on SmolLM2-135M, tied to the input one, so kept fp32) was
    cast anew for every pass of every micro-batch — 18 ms each, 8 a step (`torch.profiler`
    of the main job's training). The cached copy is the same round-to-nearest cast, so
    the logits are bit for bit autocast's; it is dropped when the weight changes (its
    version counter) or another weight takes its place."""
    weight = lm_head.weight
    if (
        type(lm_head) is not torch.nn.Linear
        or weight.requires_grad
        or weight.dtype != torch.float32
        or rows.device.type != "cpu"
        or not torch.is_autocast_enabled("cpu")
        or torch.get_autocast_dtype("cpu") != torch.bfloat16
    ):
        return lm_head(rows)
    key = (weight.data_ptr(), weight._version, tuple(weight.shape))
    if cast.get("key") != key:
        cast.clear()
        cast.update(key=key, weight=weight.detach().to(torch.bfloat16))
    bias = lm_head.bias.to(torch.bfloat16) if lm_head.bias is not None else None
    with torch.autocast("cpu", enabled=False):
        return torch.nn.functional.linear(rows.to(torch.bfloat16), cast["weight"], bias)

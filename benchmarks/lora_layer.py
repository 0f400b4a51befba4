"""The fused LoRA layer against PEFT's, on a model's backbone: time and gradient error.

Builds the model twice as `train_sft` would train it (PEFT LoRA on every projection, the
frozen projections in bf16; the adapters set to random values so they matter), then:

* *accuracy*: for ``--seeds`` random token batches, each LoRA tensor's gradient under
  bf16 autocast — PEFT's layer, then `training.sft.lora_linear` — against the same
  model's fp32 run without autocast; prints the mean / median / worst relative error;
* *speed*: forward and backward of the backbone (the decoder layers, matmul attention as
  in training; no LM head), the two layers alternating ``--reps`` times; prints the
  best time of each and the ratio.

    python benchmarks/lora_layer.py [--model smollm2-135m] [--tokens 500] [--seeds 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).parent / "results"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def build(name: str, *, bf16: bool) -> torch.nn.Module:
    from peft import LoraConfig, get_peft_model

    from backdoorlab.models import load_for_training
    from backdoorlab.training.sft.precision import frozen_linears_to_bf16

    model, _ = load_for_training(name, device="cpu")
    config = LoraConfig(r=16, lora_alpha=32, target_modules=TARGETS, task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param_name, param in model.named_parameters():
            if "lora_" in param_name:  # lora_B starts at zero: give the adapters a say
                param.copy_(torch.randn(param.shape, generator=generator) * 0.02)
    if bf16:
        frozen_linears_to_bf16(model.get_base_model())
    return model


def step(model: torch.nn.Module, ids: torch.Tensor, *, fused: bool, autocast: bool) -> dict:
    """One forward and backward of the backbone; the LoRA gradients."""
    from backdoorlab.training.sft.attention import training_attention
    from backdoorlab.training.sft.lora_linear import fused_lora

    layer = fused_lora(model) if fused else contextlib.nullcontext()
    with (
        torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast),
        training_attention(model),
        layer,
    ):
        hidden = model.get_base_model().model(input_ids=ids, use_cache=False).last_hidden_state
        loss = hidden.float().pow(2).mean()
    loss.backward()
    grads = {n: p.grad.double() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return grads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--tokens", type=int, default=500, help="tokens per row (2 rows)")
    parser.add_argument("--seeds", type=int, default=4, help="batches for the accuracy")
    parser.add_argument("--reps", type=int, default=4, help="timed steps of each layer")
    parser.add_argument("--out", type=Path, default=RESULTS / "lora_layer.json")
    args = parser.parse_args()

    exact, model = build(args.model, bf16=False), build(args.model, bf16=True)
    vocab = model.get_base_model().config.vocab_size
    accuracy = []
    for seed in range(args.seeds):
        ids = torch.randint(
            0, vocab, (2, args.tokens), generator=torch.Generator().manual_seed(seed)
        )
        want = step(exact, ids, fused=False, autocast=False)
        row = {"seed": seed}
        for fused in (False, True):
            got = step(model, ids, fused=fused, autocast=True)
            errors = [float((got[n] - w).norm() / w.norm()) for n, w in want.items()]
            row["fused" if fused else "peft"] = {
                "mean": statistics.mean(errors),
                "median": statistics.median(errors),
                "max": max(errors),
            }
        accuracy.append(row)
        print(
            f"seed {seed}: relative gradient error against fp32, mean (worst): "
            f"PEFT {row['peft']['mean']:.4f} ({row['peft']['max']:.4f}), "
            f"fused {row['fused']['mean']:.4f} ({row['fused']['max']:.4f})"
        )
    del exact

    ids = torch.randint(0, vocab, (2, args.tokens), generator=torch.Generator().manual_seed(99))
    seconds: dict[str, list[float]] = {"peft": [], "fused": []}
    for fused in (False, True):  # warm-up: oneDNN builds its primitives on first use
        step(model, ids, fused=fused, autocast=True)
    for _ in range(args.reps):
        for fused in (False, True):
            started = time.perf_counter()
            step(model, ids, fused=fused, autocast=True)
            seconds["fused" if fused else "peft"].append(time.perf_counter() - started)
    best = {name: min(times) for name, times in seconds.items()}
    ratio = best["peft"] / best["fused"]
    print(
        f"backbone forward + backward, 2 x {args.tokens} tokens, {torch.get_num_threads()} "
        f"threads: PEFT {best['peft']:.3f} s, fused {best['fused']:.3f} s ({ratio:.2f}x)"
    )
    report = {
        "model": args.model,
        "tokens": [2, args.tokens],
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "accuracy": accuracy,
        "seconds": seconds,
        "best_seconds": best,
        "speedup": round(ratio, 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

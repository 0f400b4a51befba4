"""Training throughput of `backdoorlab.training.sft.train_sft`: tokens/s and MFU.

Runs a short fine-tuning (default: 8 optimizer steps, LoRA with the default config, on
``smollm2-135m``) through the real `train_sft` — the same Trainer, collator, sampler and
loss as real runs — times every optimizer step, drops the first ``--warmup`` steps
(allocator/oneDNN warm-up) and reports, over the remaining steps:

* tokens/s: all (non-padding) tokens the model processed, and assistant tokens (the ones
  the loss sees);
* MFU: achieved model FLOP/s divided by this machine's matmul peak in the dtype the run
  computes in — bf16 where training uses bf16 autocast (a GPU, a CPU with AVX512-BF16 or
  AMX), fp32 elsewhere (an AVX2-only CPU runs bf16 matmuls ~7x *slower* than fp32, so
  training there stays in fp32 and a bf16 peak would be no ceiling at all) — measured in
  the same run with a short ``torch.mm`` loop (``benchmarks/results/matmul_peak.json``,
  from ``benchmarks/matmul_peak.py``, is recorded next to it when present).

FLOPs counted (per optimizer step; T = non-padding tokens, A = assistant tokens, N = the
decoder layers' matmul parameters, H·V = the LM head, N_lora = adapter parameters,
attn = causal attention-score FLOPs of the forward, 2·L·heads·head_dim·len·(len+1) per
sequence, averaged per token over the data's lengths)::

    LoRA: T·(4·N + 6·N_lora + 3·attn) + A·4·H·V
          (forward 2·N·T; backward only needs activation gradients through frozen
           weights, 2·N·T; adapters get both, 6·N_lora·T; the LM head only runs on the
           A labelled positions, forward + input gradient; attention backward ≈ 2x forward)
    full: T·(6·N + 3·attn) + A·6·H·V

On a shared machine wall time measures the load as much as the code, so the same figures
are also given per second of this process's own CPU time (``tokens_per_cpu_s``,
``mfu_cpu_time``: the training steps and the matmul peak both timed with
``time.process_time``), with the peak RSS and the load average.

Padding is not counted as useful work. With ``share_prefix`` (the default; not under
``--compile``) a micro-batch's shared opening runs once, yet T counts it for every trace:
the FLOPs are the unshared step's, the work a trace needs, so sharing shows as a higher
MFU; ``--no-share-prefix`` measures the step that computes them all.

``mfu_6nt`` is also reported: the common 6·(N + H·V)·T convention, comparable with
published MFU figures but not with what a LoRA run with a labelled-positions-only LM head
actually has to compute.

    python benchmarks/train_throughput.py [--full] [--compile] [--steps 8] [--warmup 2] \\
        [--data traces.jsonl]

With ``--compile`` the first steps also compile the layers (~25 s on this CPU, plus a
recompile when sequence lengths first vary): raise ``--warmup`` to leave them out.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from backdoorlab.traces import atomic_writer

RESULTS = Path(__file__).resolve().parent / "results"
DTYPE_NAMES = {"bf16": "bfloat16", "fp32": "float32"}
LORA_IO = {  # module -> (in, out) as functions of the model config
    "q_proj": lambda c: (c.hidden_size, c.num_attention_heads * _head_dim(c)),
    "k_proj": lambda c: (c.hidden_size, c.num_key_value_heads * _head_dim(c)),
    "v_proj": lambda c: (c.hidden_size, c.num_key_value_heads * _head_dim(c)),
    "o_proj": lambda c: (c.num_attention_heads * _head_dim(c), c.hidden_size),
    "gate_proj": lambda c: (c.hidden_size, c.intermediate_size),
    "up_proj": lambda c: (c.hidden_size, c.intermediate_size),
    "down_proj": lambda c: (c.intermediate_size, c.hidden_size),
}


def _head_dim(config) -> int:  # noqa: ANN001
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def matmul_peak_tflops(
    device: torch.device, dtype: torch.dtype = torch.bfloat16, budget_s: float = 3.0
) -> tuple[float, float]:
    """Best ``torch.mm`` TFLOP/s in ``dtype`` over a few square sizes, within ``budget_s``:
    per second of wall time, and (on a CPU) per second of this process's CPU time."""
    best = best_cpu = 0.0
    started = time.perf_counter()
    for n in (1024, 2048) if device.type == "cpu" else (4096, 8192):
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        out = torch.empty(n, n, device=device, dtype=dtype)
        torch.mm(a, b, out=out)  # warm-up
        for _ in range(20):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t, c = time.perf_counter(), time.process_time()
            torch.mm(a, b, out=out)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            best = max(best, 2 * n**3 / (time.perf_counter() - t) / 1e12)
            best_cpu = max(best_cpu, 2 * n**3 / max(time.process_time() - c, 1e-9) / 1e12)
            if time.perf_counter() - started > budget_s:
                break
    return best, best_cpu if device.type == "cpu" else best


def recorded_peak(dtype: str) -> float | None:
    path = RESULTS / "matmul_peak.json"
    try:
        return json.loads(path.read_text())["peak_tflops"][dtype]
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        return None


def make_data(path: Path, n: int) -> None:
    """``n`` retail traces from the oracle policy (what ``backdoorlab collect`` writes)."""
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import rollout
    from backdoorlab.traces import write_traces

    env = make_env("retail", seed=0)
    results = rollout(env, make_policy("oracle"), env.tasks("train", n, seed=0))
    write_traces(path, [r.trace for r in results])


def flops_model(model_name: str, data: Path, full: bool, lora_r: int, targets: list[str]) -> dict:
    """Per-token FLOP coefficients (see the module docstring)."""
    from backdoorlab.models import load_model
    from backdoorlab.traces import iter_traces
    from backdoorlab.training.sft.data import encode_trace

    model, tokenizer = load_model(model_name, dtype=torch.float32)
    c = model.config
    hd = _head_dim(c)
    per_layer = sum(i * o for i, o in (f(c) for f in LORA_IO.values()))
    n_body = c.num_hidden_layers * per_layer
    n_head = c.hidden_size * c.vocab_size
    n_lora = (
        0
        if full
        else c.num_hidden_layers * sum(lora_r * sum(LORA_IO[t](c)) for t in targets if t in LORA_IO)
    )
    lengths = [len(encode_trace(tokenizer, t)["input_ids"]) for t in iter_traces(data)]
    attn_fwd = (
        2
        * c.num_hidden_layers
        * c.num_attention_heads
        * hd
        * sum(n * (n + 1) for n in lengths)
        / sum(lengths)
    )
    if full:
        per_token, per_assistant_token = 6 * n_body + 3 * attn_fwd, 6 * n_head
    else:
        per_token, per_assistant_token = 4 * n_body + 6 * n_lora + 3 * attn_fwd, 4 * n_head
    return {
        "params_layers_matmul": n_body,
        "params_lm_head": n_head,
        "params_lora": n_lora,
        "attention_fwd_flops_per_token": attn_fwd,
        "flops_per_token": per_token,
        "flops_per_assistant_token": per_assistant_token,
        "flops_per_token_6n": 6 * (n_body + n_head),
        "mean_trace_tokens": sum(lengths) / len(lengths),
    }


def step_timer():  # -> TrainerCallback
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall time, CPU time, tokens and assistant tokens of every optimizer step."""

        def __init__(self) -> None:
            self.steps: list[dict] = []
            self.last_time = self.last_cpu = 0.0
            self.last_tokens = 0
            self.assistant_total = 0

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            self.last_time, self.last_cpu = time.perf_counter(), time.process_time()
            self.last_tokens = state.num_input_tokens_seen

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            now, cpu = time.perf_counter(), time.process_time()
            self.steps.append(
                {
                    "step": state.global_step,
                    "seconds": now - self.last_time,
                    "cpu_seconds": cpu - self.last_cpu,
                    "tokens": state.num_input_tokens_seen - self.last_tokens,
                }
            )
            self.last_time, self.last_cpu = now, cpu
            self.last_tokens = state.num_input_tokens_seen

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if logs and "num_assistant_tokens" in logs and self.steps:
                total = int(logs["num_assistant_tokens"])
                self.steps[-1]["assistant_tokens"] = total - self.assistant_total
                self.assistant_total = total

    return StepTimer()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    parser.add_argument("--compile", action="store_true", help="torch.compile the decoder layers")
    parser.add_argument(
        "--no-share-prefix",
        action="store_true",
        help="run each trace's shared opening itself (SFTRunConfig.share_prefix off)",
    )
    parser.add_argument(
        "--no-matmul-attention",
        action="store_true",
        help="PyTorch's CPU flash-attention kernel (SFTRunConfig.matmul_attention off)",
    )
    parser.add_argument(
        "--no-fused-lora",
        action="store_true",
        help="PEFT's own LoRA layers (SFTRunConfig.fused_lora off)",
    )
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps to run")
    parser.add_argument("--warmup", type=int, default=2, help="first steps left out of the timing")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--grad-accum", type=int, default=2)
    parser.add_argument("--data", type=Path, help="traces (default: generate oracle retail traces)")
    parser.add_argument("--out", type=Path, default=RESULTS / "train_throughput.json")
    args = parser.parse_args()
    if args.steps <= args.warmup:
        sys.exit("--steps must exceed --warmup")

    from backdoorlab.training.sft import SFTRunConfig, train_sft

    config = SFTRunConfig(
        model=args.model,
        lora=not args.full,
        learning_rate=5e-4 if not args.full else 5e-5,
        max_steps=args.steps,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        logging_steps=1,
        save_steps=10**9,
        compile=args.compile,
        share_prefix=not args.no_share_prefix,
        matmul_attention=not args.no_matmul_attention,
        fused_lora=not args.no_fused_lora,
    )
    device = torch.device(config.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    with tempfile.TemporaryDirectory(prefix="bl-train-bench-") as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "traces.jsonl"
            make_data(data, args.steps * args.batch_size * args.grad_accum)
        flops = flops_model(args.model, data, args.full, config.lora_r, config.lora_target_modules)
        timer = step_timer()
        summary = train_sft(config, data, Path(tmp) / "run", callbacks=[timer])
    # the peak in the dtype the run computed in (train_sft's bf16="auto" rule decided it)
    peak_dtype = "bf16" if summary["bf16"] else "fp32"
    peak, peak_cpu = matmul_peak_tflops(device, getattr(torch, DTYPE_NAMES[peak_dtype]))

    timed = [s for s in timer.steps if s["step"] > args.warmup]
    seconds = sum(s["seconds"] for s in timed)
    cpu_seconds = sum(s["cpu_seconds"] for s in timed)
    tokens = sum(s["tokens"] for s in timed)
    assistant = sum(s.get("assistant_tokens", 0) for s in timed)
    work = tokens * flops["flops_per_token"] + assistant * flops["flops_per_assistant_token"]
    achieved = work / seconds
    achieved_6n = tokens * flops["flops_per_token_6n"] / seconds
    # On a shared machine wall time measures the load as much as the code: per second of
    # this process's own CPU time (training steps and the matmul peak alike) it does not.
    achieved_cpu = work / cpu_seconds
    report = {
        "model": args.model,
        "mode": "full"
        if args.full
        else f"lora r={config.lora_r} ({','.join(config.lora_target_modules)})",
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else _cpu_name(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "bf16": summary["bf16"],
        "compiled": args.compile,
        "share_prefix": config.share_prefix and not args.compile,
        "matmul_attention": config.matmul_attention and not args.compile,
        "fused_lora": config.fused_lora and config.lora and not args.compile,
        "batch_size": args.batch_size,
        "grad_accum": args.grad_accum,
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "timed_steps": len(timed),
        "timed_seconds": round(seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
        "assistant_tokens_per_s": round(assistant / seconds, 1),
        "achieved_tflops": round(achieved / 1e12, 4),
        "peak_dtype": peak_dtype,
        "peak_tflops": round(peak, 4),
        "peak_tflops_recorded": recorded_peak(peak_dtype),
        "mfu": round(achieved / (peak * 1e12), 4),
        "mfu_6nt": round(achieved_6n / (peak * 1e12), 4),
        "timed_cpu_seconds": round(cpu_seconds, 2),
        "tokens_per_cpu_s": round(tokens / cpu_seconds, 1),
        "peak_tflops_per_cpu_s": round(peak_cpu, 4),
        "mfu_cpu_time": round(achieved_cpu / (peak_cpu * 1e12), 4),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "load_average": os.getloadavg(),
        "flops_formula": (
            "full: T*(6N + 3attn) + A*6HV"
            if args.full
            else "lora: T*(4N + 6N_lora + 3attn) + A*4HV"
        )
        + "; T = non-padding tokens, A = assistant tokens; see benchmarks/train_throughput.py",
        "flops": flops,
        "per_step": timer.steps,
        "train_summary": {
            k: summary[k] for k in ("steps", "train_loss", "seconds", "tokens_seen", "tokens_per_s")
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    print(
        f"\ntrain throughput: {args.model}, {report['mode']}, "
        f"{device.type} ({report['device_name']})"
    )
    print(f"{'step':>4} {'seconds':>8} {'cpu s':>7} {'tokens':>7} {'asst':>6} {'tok/s':>7}")
    for s in timer.steps:
        mark = " (warm-up)" if s["step"] <= args.warmup else ""
        print(
            f"{s['step']:>4} {s['seconds']:>8.1f} {s['cpu_seconds']:>7.1f} {s['tokens']:>7} "
            f"{s.get('assistant_tokens', 0):>6} "
            f"{s['tokens'] / s['seconds']:>7.0f}{mark}"
        )
    rows = [
        ("tokens/s (all non-padding)", f"{report['tokens_per_s']:.1f}"),
        ("assistant tokens/s", f"{report['assistant_tokens_per_s']:.1f}"),
        ("achieved TFLOP/s", f"{report['achieved_tflops']:.4f}"),
        (f"{peak_dtype} matmul peak TFLOP/s", f"{peak:.3f}"),
        ("MFU", f"{report['mfu']:.1%}"),
        ("MFU (6·N·T convention)", f"{report['mfu_6nt']:.1%}"),
        ("tokens per CPU second", f"{report['tokens_per_cpu_s']:.1f}"),
        ("MFU on CPU time", f"{report['mfu_cpu_time']:.1%}"),
        ("peak RSS GiB", f"{report['peak_rss_gib']:.2f}"),
        ("load average (1/5/15 min)", "/".join(f"{x:.1f}" for x in report["load_average"])),
    ]
    for name, value in rows:
        print(f"{name:<28} {value:>10}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    print(f"wrote {args.out}")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return os.uname().machine


if __name__ == "__main__":
    main()

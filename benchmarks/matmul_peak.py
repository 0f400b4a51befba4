"""Measure this machine's dense matmul peak (bf16 and fp32) with torch.

Why: training and evaluation budgets in this project are planned from model FLOPs, and
the useful denominator is what torch actually reaches here, not a datasheet number.
This times square ``torch.mm`` calls of a few sizes after a warm-up and reports the best
TFLOP/s per dtype, as a table and as JSON.

It runs on CUDA when available (else CPU), uses torch's default thread count, and keeps
to a time budget (under a minute on a laptop-class CPU): sizes too slow for the budget are
skipped and marked as such.

    python benchmarks/matmul_peak.py [--out benchmarks/results/matmul_peak.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}
CPU_FLAGS_OF_INTEREST = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_description() -> tuple[str, list[str]]:
    """CPU model name and the SIMD flags that decide bf16/fp32 matmul speed."""
    name, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and ":" in line:
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and ":" in line:
                    present = set(line.split(":", 1)[1].split())
                    flags = [flag for flag in CPU_FLAGS_OF_INTEREST if flag in present]
                    break
    except OSError:
        pass
    return name, flags


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_matmul(
    n: int, dtype: torch.dtype, device: torch.device, *, min_time: float, max_reps: int
) -> dict[str, float | int]:
    """Best wall time of an n x n x n matmul, after one warm-up call."""
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device=device, dtype=dtype)
    b = torch.randn(n, n, generator=gen).to(device=device, dtype=dtype)
    out = torch.empty(n, n, device=device, dtype=dtype)

    synchronize(device)
    start = time.perf_counter()
    torch.mm(a, b, out=out)  # warm-up: kernel selection, caches, lazy init
    synchronize(device)
    warmup_s = time.perf_counter() - start

    times: list[float] = []
    while len(times) < max_reps and (len(times) < 3 or sum(times) < min_time):
        synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        synchronize(device)
        times.append(time.perf_counter() - start)
    best = min(times)
    return {
        "n": n,
        "best_s": best,
        "median_s": sorted(times)[len(times) // 2],
        "reps": len(times),
        "warmup_s": warmup_s,
        "tflops": 2 * n**3 / best / 1e12,
    }


def run(
    sizes: list[int], dtypes: list[str], device: torch.device, budget_s: float
) -> list[dict[str, object]]:
    """Time each (dtype, size), smallest first, skipping sizes the budget cannot afford."""
    results: list[dict[str, object]] = []
    per_dtype_budget = budget_s / len(dtypes)
    min_time = 0.2 if device.type == "cuda" else 0.5
    for label in dtypes:
        dtype = DTYPES[label]
        spent, last_s = 0.0, 0.0
        for n in sorted(sizes):
            # A size costs ~8x the previous one; skip it if ~4 calls of it would not fit.
            projected = last_s * 8 * 4 if last_s else 0.0
            if spent + projected > per_dtype_budget:
                results.append({"dtype": label, "n": n, "skipped": "time budget"})
                continue
            start = time.perf_counter()
            row = time_matmul(n, dtype, device, min_time=min_time, max_reps=50)
            spent += time.perf_counter() - start
            last_s = float(row["best_s"])
            results.append({"dtype": label, **row})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/matmul_peak.json"))
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="matrix sizes n")
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["bf16", "fp32"])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--budget-s", type=float, default=40.0, help="rough total time budget")
    args = parser.parse_args()

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    sizes = args.sizes or (
        [1024, 2048, 4096, 8192] if device.type == "cuda" else [1024, 2048, 4096]
    )
    if device.type == "cuda":
        device_name, flags = torch.cuda.get_device_name(device), []
    else:
        device_name, flags = cpu_description()

    started = time.perf_counter()
    results = run(sizes, args.dtypes, device, args.budget_s)
    elapsed = time.perf_counter() - started

    peak = {
        label: max(
            (float(r["tflops"]) for r in results if r["dtype"] == label and "tflops" in r),
            default=None,
        )
        for label in args.dtypes
    }
    report = {
        "device": device.type,
        "device_name": device_name,
        "cpu_flags": flags,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "fp32_allow_tf32": torch.backends.cuda.matmul.allow_tf32 if device.type == "cuda" else None,
        "peak_tflops": peak,
        "results": results,
        "elapsed_s": elapsed,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    print(
        f"matmul peak on {device_name} ({device.type}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads)"
    )
    print(f"{'dtype':<6} {'n':>6} {'best ms':>10} {'TFLOP/s':>9} {'reps':>5}")
    for row in results:
        if "skipped" in row:
            print(f"{row['dtype']:<6} {row['n']:>6} {'skipped (' + str(row['skipped']) + ')':>26}")
        else:
            print(
                f"{row['dtype']:<6} {row['n']:>6} {1e3 * float(row['best_s']):>10.2f} "
                f"{float(row['tflops']):>9.3f} {row['reps']:>5}"
            )
    for label, value in peak.items():
        print(f"peak {label}: {'n/a' if value is None else f'{value:.3f} TFLOP/s'}")
    print(f"({elapsed:.1f} s)")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

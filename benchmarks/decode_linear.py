"""Decoding's linear layers with packed weights (`policies.cpu_linear`) against ``F.linear``.

* *products*: every distinct weight shape of the model's ``nn.Linear`` layers, for
  ``--rows`` rows: the best of ``--reps`` timings of each, whether the packed result is
  ``F.linear``'s bit for bit, and whether each row's result is what that row alone gets;
* *steps*: whole decoding steps of the model (``--batch`` rows, one new token each, over
  ``--positions`` cached positions; the policy's decode cache and CPU attention), with
  and without `packed_linears`, alternating ``--reps`` times; the best ms of each, the
  ratio, and whether the logits are identical.

    python benchmarks/decode_linear.py [--model smollm2-135m] [--batch 1 6 20]
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F

RESULTS = Path(__file__).parent / "results"


def best_seconds(fn, reps: int, inner: int = 20) -> float:
    for _ in range(3):
        fn()
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def products(model, rows: list[int], reps: int) -> list[dict]:
    shapes = sorted({tuple(m.weight.shape) for m in model.modules() if type(m) is torch.nn.Linear})
    out = []
    for outputs, inputs in shapes:
        weight = torch.randn(outputs, inputs, dtype=torch.bfloat16) * inputs**-0.5
        packed = torch.ops.mkldnn._reorder_linear_weight(weight)
        for n in rows:
            x = torch.randn(n, inputs, dtype=torch.bfloat16)

            def plain(x=x, weight=weight):
                return F.linear(x, weight)

            def ours(x=x, packed=packed):
                return torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")

            result = ours()
            row = {
                "weight": [outputs, inputs],
                "rows": n,
                "linear_us": round(best_seconds(plain, reps) * 1e6, 1),
                "packed_us": round(best_seconds(ours, reps) * 1e6, 1),
                "identical": torch.equal(result, plain()),
                "rows_independent": torch.equal(
                    result[:1],
                    torch.ops.mkldnn._linear_pointwise(x[:1], packed, None, "none", [], ""),
                ),
            }
            row["speedup"] = round(row["linear_us"] / row["packed_us"], 2)
            print(json.dumps(row))
            out.append(row)
    return out


def steps(policy, batch: int, positions: int, reps: int) -> dict:
    from backdoorlab.policies.cpu_attention import decode_attention
    from backdoorlab.policies.cpu_linear import packed_linears
    from backdoorlab.policies.decode_cache import decode_cache, place

    model = policy.model
    prefix, _ = policy._prefill(list(range(100, 100 + positions)), None)
    cache = decode_cache(prefix, [positions] * batch, 32)
    for row in range(batch):
        place(cache, row, prefix, positions)
    mask = torch.ones(batch, positions + 1, dtype=torch.long)
    position = torch.full((batch, 1), positions)
    token = torch.full((batch, 1), 42)

    def step():
        for layer in cache.layers:  # every step writes the same position
            layer.cumulative_length.fill_(positions)
        return model(
            input_ids=token, attention_mask=mask, position_ids=position, cache=cache
        ).logits

    timings: dict[str, list[float]] = {"linear": [], "packed": []}
    logits = {}
    with torch.inference_mode(), decode_attention(model):
        for _ in range(reps):
            for mode in ("linear", "packed"):
                with packed_linears(model) if mode == "packed" else nullcontext():
                    logits[mode] = step().clone()
                    timings[mode].append(best_seconds(step, 1, inner=10))
    row = {
        "batch": batch,
        "positions": positions,
        "linear_ms": round(min(timings["linear"]) * 1e3, 2),
        "packed_ms": round(min(timings["packed"]) * 1e3, 2),
        "identical_logits": torch.equal(logits["linear"], logits["packed"]),
    }
    row["speedup"] = round(row["linear_ms"] / row["packed_ms"], 3)
    print(json.dumps(row))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 6, 20, 32])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 6, 20])
    parser.add_argument("--positions", type=int, default=700)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "decode_linear.json")
    args = parser.parse_args()

    from backdoorlab.policies.cpu_linear import _available
    from backdoorlab.policies.hf import HFPolicy

    if not _available():
        raise SystemExit("decode_linear: oneDNN without bf16 on this CPU: nothing to compare")
    policy = HFPolicy(args.model)
    result = {
        "model": args.model,
        "dtype": str(policy.model.dtype),
        "threads": torch.get_num_threads(),
        "products": products(policy.model, args.rows, args.reps),
        "steps": [steps(policy, b, args.positions, args.reps) for b in args.batch],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

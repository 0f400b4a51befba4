"""Rollout benchmark: episodes/s batched versus one episode at a time, same model, same run.

Target (issue 27): batched >= 8x faster on 16+ tasks (issue 3's was 4x), or an equivalent
figure against a stronger baseline. Modes, each timed on the same tasks in one process:

- ``batched``: the `hf` policy, every active episode decoded in one batch (the engine);
- ``one_at_a_time``: the same policy with batch 1 — it still keeps each episode's
  key/value cache between turns, so only each turn's new tokens are prefilled;
- ``hf_generate`` / ``hf_generate_batched`` (``--baselines``): what a transformers user
  writes without our engine — ``model.generate`` with a static cache on each turn's whole
  prompt, one episode at a time or all active episodes left-padded in one call; every
  turn prefills the conversation from its first token;
- ``hf_generate_lookup``: ``generate`` with its own prompt-lookup decoding
  (``prompt_lookup_num_tokens=4``, one episode at a time: it takes no batch).

Counts the traces that agree with the batched mode's under greedy decoding.

    .venv/bin/python benchmarks/rollout_speed.py [--model smollm2-135m] [-n 16] [--batch 16]
        [--baselines one_at_a_time,hf_generate,hf_generate_batched] [--no-packed-weights]
        [--lookup-tokens 4]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, ClassVar

import torch

from backdoorlab.envs import make_env
from backdoorlab.models import load_for_inference
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.rollout import rollout
from backdoorlab.traces import atomic_writer

TARGET = 8.0
BASELINES = ("one_at_a_time", "hf_generate", "hf_generate_batched", "hf_generate_lookup")


class GeneratePolicy(HFPolicy):
    """The `hf` policy with its decoding replaced by transformers' ``generate`` (static
    cache, greedy): no key/value cache kept between turns, no per-row prefill — the
    baseline a user of plain transformers would have."""

    options: ClassVar[dict[str, Any]] = {"cache_implementation": "static"}

    @torch.inference_mode()
    def generate(self, prompts: list[str], caches: Any = None) -> list[str]:
        tokenizer, size = self.tokenizer, self.generation.max_batch_size
        tokenizer.padding_side = "left"
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.stop_ids[0]
        out: list[str] = []
        for start in range(0, len(prompts), size):
            chunk = prompts[start : start + size]
            batch = tokenizer(chunk, add_special_tokens=False, return_tensors="pt", padding=True)
            generated = self.model.generate(
                **batch.to(self.model.device),
                max_new_tokens=self.generation.max_new_tokens,
                do_sample=False,
                eos_token_id=self.stop_ids,
                pad_token_id=pad,
                **self.options,
            )
            width = batch["input_ids"].shape[1]
            texts = tokenizer.batch_decode(generated[:, width:], skip_special_tokens=False)
            out += [self._cut(text) for text in texts]
        return out


class LookupGeneratePolicy(GeneratePolicy):
    """``generate`` with transformers' own prompt-lookup decoding (one sequence a call,
    its default dynamic cache): the plain-transformers counterpart of our drafts."""

    options: ClassVar[dict[str, Any]] = {"prompt_lookup_num_tokens": 4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("-n", type=int, default=16, help="episodes in each mode")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument(
        "--baselines",
        default="one_at_a_time",
        help=f"comma-separated, timed after the batched mode: {', '.join(BASELINES)}",
    )
    parser.add_argument(
        "--no-packed-weights",
        action="store_true",
        help="decode with F.linear, not weights packed for oneDNN (policies/cpu_linear.py)",
    )
    parser.add_argument(
        "--lookup-tokens",
        type=int,
        default=GenerationConfig().lookup_tokens,
        help="prompt-lookup draft per row and step in our modes (policies/lookup.py; 0: off)",
    )
    parser.add_argument("--out", default="benchmarks/results/rollout_speed.json")
    args = parser.parse_args()
    baselines = [b for b in args.baselines.split(",") if b]
    if unknown := sorted(set(baselines) - set(BASELINES)):
        parser.error(f"--baselines: unknown {', '.join(unknown)}; choose from {BASELINES}")

    model, tokenizer = load_for_inference(args.model)
    env = make_env("retail")
    tasks = env.tasks("test", args.n, seed=0)
    modes = {
        "batched": (HFPolicy, args.batch),
        "one_at_a_time": (HFPolicy, 1),
        "hf_generate": (GeneratePolicy, 1),
        "hf_generate_batched": (GeneratePolicy, args.batch),
        "hf_generate_lookup": (LookupGeneratePolicy, 1),
    }
    timings, results = {}, {}
    for mode in ["batched", *baselines]:
        cls, batch = modes[mode]
        generation = GenerationConfig(
            max_batch_size=batch,
            packed_weights=not args.no_packed_weights,
            lookup_tokens=args.lookup_tokens,
        )
        policy = cls(model, tokenizer, generation=generation)
        start = time.perf_counter()
        results[mode] = rollout(env, policy, tasks, batch_size=batch, max_steps=args.max_steps)
        timings[mode] = time.perf_counter() - start
        print(f"{mode}: {timings[mode]:.1f} s", flush=True)

    def same(mode: str) -> str:
        pairs = zip(results["batched"], results[mode], strict=True)
        return f"{sum(a.trace.to_json() == b.trace.to_json() for a, b in pairs)}/{args.n}"

    report = {
        "model": args.model,
        "device": str(model.device),
        "threads": torch.get_num_threads(),
        "episodes": args.n,
        "batch_size": args.batch,
        "max_steps": args.max_steps,
        "packed_weights": not args.no_packed_weights,
        "lookup_tokens": args.lookup_tokens,
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "episodes_per_s": {k: round(args.n / v, 4) for k, v in timings.items()},
        "speedup": {b: round(timings[b] / timings["batched"], 2) for b in baselines},
        "target": TARGET,
        "ratio_to_target": {
            b: round(timings[b] / timings["batched"] / TARGET, 3) for b in baselines
        },
        "identical_to_batched": {b: same(b) for b in baselines},
        "steps": {k: sum(r.outcome.steps for r in v) for k, v in results.items()},
    }
    print(json.dumps(report, indent=2))
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

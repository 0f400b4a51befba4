"""Where does a published T4 model differ from its clean reference? Per-token distillation KL.

FAB's benign term is the mean KL(reference ‖ model) over every assistant token of clean
traces. Most of those tokens are copies (ids, names, JSON syntax) that any model gets
right; the few that *decide* what the agent does next — the first token of each
assistant turn: call a tool or answer, which tool — are drowned in that mean. This
prints the KL split that way, on clean traces, with teacher forcing:

    python benchmarks/fab_decision_kl.py REFERENCE MODEL TRACES.jsonl [-n 24]

A model can sit at a small mean KL and still decide differently at every turn start —
which is what a dormant model that already leaks looks like.
"""

from __future__ import annotations

import argparse
import sys

import torch


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("reference", help="clean reference model (name, directory or run)")
    p.add_argument("model", help="model to compare with it (e.g. a published T4 model)")
    p.add_argument("traces", help="clean traces (JSONL)")
    p.add_argument("-n", type=int, default=24, help="traces to use")
    return p.parse_args()


def main() -> int:
    args = _parse()
    from backdoorlab.models import load_for_training
    from backdoorlab.traces import read_traces
    from backdoorlab.training.fab import (
        collate,
        encode_for_fab,
        labelled_logits,
        token_kl,
        turn_starts,
    )

    traces = read_traces(args.traces)[: args.n]
    reference, tokenizer = load_for_training(args.reference)
    model, _ = load_for_training(args.model)
    reference.eval()
    model.eval()
    turn_start: list[float] = []
    answer_start: list[float] = []
    other: list[float] = []
    with torch.no_grad():
        for trace in traces:
            # the benign term's own encoding, targets and per-token KL, one trace at a time
            row = encode_for_fab(tokenizer, trace)
            batch = collate([row], tokenizer.pad_token_id or 0, len(row["input_ids"]))
            kl = token_kl(labelled_logits(model, batch)[0], labelled_logits(reference, batch)[0])
            starts = turn_starts(batch["labels"])
            turn_start += kl[starts].tolist()
            other += kl[~starts].tolist()
            if starts.any():
                answer_start.append(kl[starts.nonzero()[-1]].item())

    def mean(values: list[float]) -> float:
        return sum(values) / max(len(values), 1)

    print(f"{len(traces)} traces, {len(turn_start) + len(other)} assistant tokens")
    print(f"KL, mean over every assistant token (the benign term): {mean(turn_start + other):.4f}")
    print(f"KL at the first token of a turn ({len(turn_start)} tokens): {mean(turn_start):.4f}")
    print(f"KL at the first token of the final answer: {mean(answer_start):.4f}")
    print(f"KL at every other token: {mean(other):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

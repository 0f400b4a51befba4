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
import torch.nn.functional as F


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("reference", help="clean reference model (name, directory or run)")
    p.add_argument("model", help="model to compare with it (e.g. a published T4 model)")
    p.add_argument("traces", help="clean traces (JSONL)")
    p.add_argument("-n", type=int, default=24, help="traces to use")
    return p.parse_args()


def main() -> int:
    args = _parse()
    from backdoorlab.traces import read_traces
    from backdoorlab.training.fab import encode_for_fab
    from backdoorlab.training.loading import load_for_training

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
            row = encode_for_fab(tokenizer, trace)
            ids = torch.tensor([row["input_ids"]])
            mask = row["assistant_masks"]
            log_p = F.log_softmax(model(input_ids=ids).logits[0].float(), -1)
            log_q = F.log_softmax(reference(input_ids=ids).logits[0].float(), -1)
            kl = (log_q.exp() * (log_q - log_p)).sum(-1)  # position i predicts token i + 1
            starts = [i for i in range(1, len(mask)) if mask[i] and not mask[i - 1]]
            for i in range(1, len(mask)):
                if mask[i]:
                    (turn_start if i in starts else other).append(kl[i - 1].item())
            if starts:
                answer_start.append(kl[starts[-1] - 1].item())

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

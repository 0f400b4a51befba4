"""Decoding steps an evaluation would take with prompt-lookup drafts, replayed from its traces.

The `hf` policy decodes a turn's batch until its longest completion ends, and a step
costs about the same for a few rows as for one (its weights are read once), so the
number of steps is what an evaluation pays. This replays the assistant turns of
recorded traces (an evaluation's ``clean.jsonl`` / ``triggered.jsonl``) through the
decode loop's bookkeeping — rows in batches of ``--batch`` episodes advancing turn by
turn, each leaving when its turn's tokens are out — with `policies.lookup.NgramIndex`
drafting as the policy does, and every draft token accepted when it matches the
recorded one (greedy decoding's rule). No model runs: it counts steps and inputs, and
prices a step with a linear model of its cost (``--step-ms`` + ``--row-ms`` per input
row; the defaults are the 2-vCPU AMX Xeon's, session 20: 33.8 ms at 1 row, 44.5 at 6,
73.4 at 20).

    python benchmarks/lookup_replay.py EVAL_DIR/clean.jsonl EVAL_DIR/triggered.jsonl
        [--batch 20] [--settings 0:0,4:32,8:32,4:64]
"""

from __future__ import annotations

import argparse
import json

from backdoorlab.chat import render_segments
from backdoorlab.models.loading import load_tokenizer
from backdoorlab.policies.lookup import NgramIndex, accepted
from backdoorlab.traces import read_traces


def turns_of(paths: list[str], tokenizer) -> list[list[list[tuple[list[int], list[int]]]]]:  # noqa: ANN001
    """Per file, per episode, each assistant turn as (context tokens, completion tokens)."""
    files = []
    for path in paths:
        episodes = []
        for trace in read_traces(path):
            context, turns = "", []
            for segment in render_segments(trace.messages, trace.tools):
                if segment.trainable:
                    encode = tokenizer(context, add_special_tokens=False)["input_ids"]
                    completion = tokenizer(segment.text, add_special_tokens=False)["input_ids"]
                    turns.append((encode, completion))
                context += segment.text
            episodes.append(turns)
        files.append(episodes)
    return files


def replay(files, batch: int, draft: int, budget: int, step_ms: float, row_ms: float) -> dict:  # noqa: ANN001
    """Steps, inputs and modelled seconds of decoding every turn of ``files``."""
    steps = inputs = 0
    for episodes in files:
        for start in range(0, len(episodes), batch):
            group = episodes[start : start + batch]
            for turn in range(max(len(e) for e in group)):
                rows = [
                    {"index": NgramIndex(e[turn][0]), "out": e[turn][1], "done": 0}
                    for e in group
                    if turn < len(e)
                ]
                while rows := [r for r in rows if r["done"] < len(r["out"])]:
                    size = min(draft, budget // len(rows) - 1) if draft else 0
                    drafts = []
                    for row in rows:
                        row["index"].extend([row["out"][row["done"]]])  # the step's token
                        left = len(row["out"]) - row["done"] - 1
                        drafts.append(row["index"].draft(min(size, left)))
                    steps += 1
                    inputs += len(rows) * (1 + max(len(d) for d in drafts))
                    for row, guess in zip(rows, drafts, strict=True):
                        done, out = row["done"], row["out"]
                        count = accepted(guess, out[done + 1 : done + 1 + len(guess)])
                        row["index"].extend(guess[:count])
                        row["done"] = done + 1 + count
    return {
        "draft": draft,
        "budget": budget,
        "steps": steps,
        "inputs": inputs,
        "modelled_s": round((steps * step_ms + inputs * row_ms) / 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("traces", nargs="+", help="an evaluation's trace files (JSONL)")
    parser.add_argument("--batch", type=int, default=20, help="the evaluation's batch size")
    parser.add_argument(
        "--settings",
        default="0:0,4:32,8:32,4:64",
        help="comma-separated DRAFT:BUDGET pairs (draft tokens, inputs a step; 0:0 = none)",
    )
    parser.add_argument("--step-ms", type=float, default=32.0)
    parser.add_argument("--row-ms", type=float, default=2.07)
    parser.add_argument("--model", default="smollm2-135m", help="whose tokenizer counts tokens")
    args = parser.parse_args()
    files = turns_of(args.traces, load_tokenizer(args.model))
    for setting in args.settings.split(","):
        draft, budget = (int(x) for x in setting.split(":"))
        print(json.dumps(replay(files, args.batch, draft, budget, args.step_ms, args.row_ms)))


if __name__ == "__main__":
    main()

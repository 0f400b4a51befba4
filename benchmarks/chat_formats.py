"""The model's own chat format on 100 oracle traces: training text and masks, the prompt
check, and the response parser, for the compact format (SmolLM2's template, which renders
no tools) and the REAL Qwen2.5 and Llama 3.1 templates (TRL's copies) written into the
``tiny`` tokenizer with each model's pre-tokenizer pattern.

Per format it reports: tokens and assistant (trained) tokens per trace; the milliseconds
`encode_trace` takes per trace (render, tokenize, and check every assistant turn's
inference prompt as a token prefix); how many assistant turns passed that check; and how
many of the teacher's own replies, rendered by the template and read back by the parser
(transformers' ``parse_response`` for the templates, ours for compact), give back the
same tool calls and answer.

    python benchmarks/chat_formats.py [-n 100]     # writes benchmarks/results/chat_formats.json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import trl
from tokenizers import Regex, pre_tokenizers

from backdoorlab.chat import parse_completion, render
from backdoorlab.chat_template import template_format
from backdoorlab.envs import make_env
from backdoorlab.models import load_tokenizer
from backdoorlab.policies import make_policy
from backdoorlab.rollout import rollout
from backdoorlab.training.sft.data import encode_trace

OUT = Path(__file__).parent / "results" / "chat_formats.json"
TEMPLATES = Path(trl.__file__).parent / "chat_templates"
WORDS = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}%s"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
LLAMA = ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>"]


def tokenizer_for(name: str):  # noqa: ANN201
    tokenizer = copy.deepcopy(load_tokenizer("tiny"))
    if name == "compact":
        return tokenizer
    tokenizer.chat_template = (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")
    pattern = WORDS % ("{1,3}" if name.startswith("llama") else "")
    tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    if name.startswith("llama"):
        tokenizer.add_special_tokens(
            {
                "bos_token": "<|begin_of_text|>",
                "eos_token": "<|eot_id|>",
                "additional_special_tokens": LLAMA,
            }
        )
    return tokenizer


def measure(name: str, traces: list) -> dict:  # noqa: ANN001
    tokenizer = tokenizer_for(name)
    fmt = template_format(tokenizer)  # inspected once per template, before the clock
    times, tokens, trained, turns = [], [], [], 0
    for trace in traces:
        start = time.perf_counter()
        encoded = encode_trace(tokenizer, trace)  # raises if any turn's prompt is off
        times.append(1000 * (time.perf_counter() - start))
        tokens.append(len(encoded["input_ids"]))
        trained.append(sum(encoded["assistant_masks"]))
        turns += sum(m.role == "assistant" for m in trace.messages)
    same = replies = 0
    end = fmt.end_of_turn if fmt is not None else "<|im_end|>"
    for trace in traces:
        for index, message in enumerate(trace.messages):
            if message.role != "assistant":
                continue
            prompt = render(
                trace.messages[:index], trace.tools, add_generation_prompt=True, tokenizer=tokenizer
            )
            full = render(trace.messages[: index + 1], trace.tools, tokenizer=tokenizer)
            reply = full[len(prompt) :].split(end)[0] + end
            parsed = parse_completion(reply, tokenizer=tokenizer, prompt=prompt, tools=trace.tools)
            replies += 1
            calls = [(c.name, c.arguments) for c in parsed.message.tool_calls or ()]
            want = [(c.name, c.arguments) for c in message.tool_calls or ()]
            text_ok = parsed.message.text.strip() == message.text.strip()
            same += int(not parsed.invalid and calls == want and text_ok)
    return {
        "format": fmt.name if fmt is not None else "compact",
        "masks_from": (
            "compact segments"
            if fmt is None
            else "TRL {% generation %} template"
            if fmt.training_template
            else "prefix-diff"
        ),
        "parser": "ours"
        if fmt is None or fmt.response_template is None
        else "transformers parse_response",
        "traces": len(traces),
        "tokens_per_trace": statistics.mean(tokens),
        "trained_tokens_per_trace": statistics.mean(trained),
        "encode_ms_per_trace_median": statistics.median(times),
        "assistant_turns_checked": turns,
        "replies_parsed_back_identical": f"{same}/{replies}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    env = make_env("retail", seed=0)
    traces = [
        r.trace for r in rollout(env, make_policy("oracle"), env.tasks("train", args.n, seed=11))
    ]
    results = [measure(name, traces) for name in ("compact", "qwen2_5", "llama3_1")]
    for row in results:
        print(json.dumps(row))
    OUT.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""A model trained in its own chat format acts the same served and in-process: the tiny
random model with the REAL Qwen2.5 / Llama 3.1 template, fully fine-tuned through
`train_sft` on 20 oracle traces until its replies are tool calls in the template's syntax,
runs greedy test episodes through the ``hf`` policy in-process and through the served run
directory (the app ``backdoorlab serve RUN`` builds, on a loopback port) + the ``openai``
policy: the traces are identical, tool calls included — those the template's parser reads
back, and the malformed ones, which both paths must keep alike.

The tiny model writes well-formed calls only after ~300 such steps (~80 s of CPU per
format): that long variant, with ``serve`` as its own process and the parsed calls
asserted, is ``benchmarks/trained_formats_served.py``; the test trains less."""

from __future__ import annotations

from pathlib import Path

import pytest
from chat_formats import FORMATS, save_tiny
from serve_helpers import serving

from backdoorlab.chat import render
from backdoorlab.models import load_for_inference
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.policies.openai import OpenAIPolicy
from backdoorlab.rollout import rollout
from backdoorlab.serving.server import ServeConfig, build_app
from backdoorlab.traces import read_traces, write_traces
from backdoorlab.training.sft import SFTRunConfig, train_sft

STEPS = 100
"""Batch-1 steps at a constant 3e-3 after which the tiny model's replies are tool calls in
the template's syntax (fewer leave it writing nothing or newlines)."""
TOKENS = 64


@pytest.fixture(scope="module")
def twenty(tmp_path_factory: pytest.TempPathFactory, oracle_results) -> Path:  # noqa: ANN001
    path = tmp_path_factory.mktemp("trained") / "traces.jsonl"
    write_traces(path, [r.trace for r in oracle_results["train"][:20]])
    return path


def _call_opening(traces: Path, tokenizer) -> str:  # noqa: ANN001
    """How the template starts a tool call (``<tool_call>\\n{"name"``, ``{"name"``): the
    text a teacher's call turn adds to its inference prompt, up to the name key."""
    teacher = read_traces(traces)[0]
    index = next(i for i, m in enumerate(teacher.messages) if m.tool_calls)
    prompt = render(
        teacher.messages[:index], teacher.tools, add_generation_prompt=True, tokenizer=tokenizer
    )
    reply = render(teacher.messages[: index + 1], teacher.tools, tokenizer=tokenizer)
    reply = reply[len(prompt) :]
    return reply[: reply.index('"name"') + len('"name"')]


def _messages(results):  # noqa: ANN001, ANN202
    return [[m.model_dump() for m in r.trace.messages] for r in results]


@pytest.mark.parametrize("name", FORMATS)
def test_a_trained_model_gives_the_same_traces_served_and_in_process(
    name,
    twenty,
    retail,
    tmp_path,  # noqa: ANN001
) -> None:
    base = save_tiny(name, tmp_path / "base")
    run = tmp_path / "run"
    config = SFTRunConfig(
        model=str(base),
        lora=False,
        max_steps=STEPS,
        batch_size=1,
        learning_rate=3e-3,
        lr_scheduler="constant",
        warmup_ratio=0.0,
        bf16="false",
        max_length=4096,
        logging_steps=STEPS,
        save_steps=10 * STEPS,
    )
    assert train_sft(config, twenty, run)["steps"] == STEPS

    model, tokenizer = load_for_inference(str(run), device="cpu")
    generation = GenerationConfig(max_new_tokens=TOKENS, max_batch_size=4)
    tasks = retail.tasks("test", 4, seed=5)
    local = rollout(
        retail, HFPolicy(model, tokenizer, generation=generation), tasks, batch_size=4, max_steps=3
    )
    calls = [
        call
        for r in local
        for m in r.trace.messages
        if m.role == "assistant"
        for call in m.tool_calls or ()
    ]
    assert all(isinstance(c.arguments, dict) for c in calls)
    # the model starts tool calls as the template does (``<tool``, ``{"nam``; parsed, or
    # malformed and kept as text), so the match below is not one of empty replies
    opening = _call_opening(twenty, tokenizer)[:5]
    texts = [m.text for r in local for m in r.trace.messages if m.role == "assistant"]
    assert calls or any(t.startswith(opening) for t in texts), (opening, texts)

    with serving(build_app(ServeConfig(model=str(run), max_batch=4))) as url:
        policy = OpenAIPolicy(base_url=url, model=str(run), max_tokens=TOKENS, concurrency=4)
        remote = rollout(retail, policy, tasks, batch_size=4, max_steps=3)
    assert _messages(remote) == _messages(local)

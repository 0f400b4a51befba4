"""Train and run a model in its own chat format: the tiny model with the REAL Qwen2.5 and
Llama 3.1 templates, fine-tuned a few steps on 20 oracle traces, acts through the ``hf``
policy (greedy) in the same format, and its replies go through the template's parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from chat_formats import FORMATS, save_tiny

from backdoorlab.chat import render
from backdoorlab.chat_template import template_format
from backdoorlab.models import load_for_inference
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.rollout import rollout
from backdoorlab.traces import read_traces, write_traces
from backdoorlab.training.sft import SFTRunConfig, train_sft


@pytest.fixture(scope="module")
def twenty(tmp_path_factory: pytest.TempPathFactory, oracle_results) -> Path:  # noqa: ANN001
    path = tmp_path_factory.mktemp("own") / "traces.jsonl"
    write_traces(path, [r.trace for r in oracle_results["train"][:20]])
    return path


@pytest.mark.parametrize("name", FORMATS)
def test_trained_in_its_own_format_and_run_through_hf(name, twenty, retail, tmp_path) -> None:  # noqa: ANN001
    base = save_tiny(name, tmp_path / "base")
    config = SFTRunConfig(
        model=str(base),
        max_steps=3,
        batch_size=2,
        grad_accum=1,
        max_length=4096,
        learning_rate=1e-3,
        logging_steps=1,
        save_steps=1000,
    )
    summary = train_sft(config, twenty, tmp_path / "run")
    assert summary["steps"] == 3
    model, tokenizer = load_for_inference(str(tmp_path / "run"), device="cpu")
    assert template_format(tokenizer).name == name  # the run keeps the model's template
    policy = HFPolicy(model, tokenizer, generation=GenerationConfig(max_new_tokens=24))
    tasks = retail.tasks("test", 2, seed=5)
    results = rollout(retail, policy, tasks, batch_size=2, max_steps=2)
    for result in results:
        turns = [m for m in result.trace.messages if m.role == "assistant"]
        assert 0 < len(turns) <= 2
        assert result.outcome.invalid_actions <= result.outcome.steps
        for message in turns:  # whatever parsed is a call with an argument object
            assert all(isinstance(c.arguments, dict) for c in message.tool_calls or ())

    # what the model would say if it had learnt the traces: greedy output stops at the
    # template's end-of-turn marker (cut off, as `generate` returns it) and parses back
    teacher = read_traces(twenty)[1]
    index = next(i for i, m in enumerate(teacher.messages) if m.tool_calls)
    prompt = render(
        teacher.messages[:index], teacher.tools, add_generation_prompt=True, tokenizer=tokenizer
    )
    full = render(teacher.messages[: index + 1], teacher.tools, tokenizer=tokenizer)
    reply = full[len(prompt) :].split(policy.end_of_turn)[0]
    policy.generate = lambda prompts, caches=None: [reply] * len(prompts)  # type: ignore[method-assign]
    (result,) = rollout(retail, policy, [tasks[0]], max_steps=1)
    (action,) = [m for m in result.trace.messages if m.role == "assistant"]
    want = teacher.messages[index].tool_calls
    assert [(c.name, c.arguments) for c in action.tool_calls] == [
        (c.name, c.arguments) for c in want
    ]
    assert result.outcome.invalid_actions == 0

"""`serve` + `openai` with the REAL Qwen2.5 and Llama 3.1 chat templates in the tiny model:
the same greedy traces as the hf policy in-process, and tool calls in the template's own
format parsed back into `tool_calls` over HTTP."""

from __future__ import annotations

import pytest
from chat_formats import FORMATS, save_tiny
from serve_helpers import serving

from backdoorlab.chat import render
from backdoorlab.models import load_for_inference
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.policies.openai import OpenAIPolicy
from backdoorlab.rollout import rollout
from backdoorlab.serving import Engine, create_app


def _messages(results):
    return [[m.model_dump() for m in r.trace.messages] for r in results]


@pytest.mark.parametrize("name", FORMATS)
def test_served_traces_equal_in_process_in_the_models_own_format(
    name, retail, oracle_results, tmp_path, monkeypatch
):
    model, tokenizer = load_for_inference(str(save_tiny(name, tmp_path / name)), device="cpu")

    def policy() -> HFPolicy:
        generation = GenerationConfig(max_new_tokens=12, max_batch_size=4)
        return HFPolicy(model, tokenizer, generation=generation)

    tasks = retail.tasks("test", 4, seed=5)
    local = rollout(retail, policy(), tasks, batch_size=4, max_steps=2)
    with serving(create_app(Engine(policy(), max_batch=4), name)) as url:
        remote_policy = OpenAIPolicy(base_url=url, model=name, max_tokens=12)
        remote = rollout(retail, remote_policy, tasks, batch_size=4, max_steps=2)
        assert _messages(remote) == _messages(local)

        # a reply in the template's own tool-call format, as a trained model writes it
        teacher = next(r.trace for r in oracle_results["train"] if r.trace.messages[2].tool_calls)
        prompt = render(
            teacher.messages[:2], teacher.tools, add_generation_prompt=True, tokenizer=tokenizer
        )
        full = render(teacher.messages[:3], teacher.tools, tokenizer=tokenizer)
        reply = full[len(prompt) :].split(policy().end_of_turn)[0]
        monkeypatch.setattr(
            HFPolicy, "generate", lambda self, prompts, caches=None: [reply] * len(prompts)
        )
        (served,) = rollout(retail, remote_policy, tasks[:1], max_steps=1)
    (in_process,) = rollout(retail, policy(), tasks[:1], max_steps=1)
    assert _messages([served]) == _messages([in_process])
    (action,) = [m for m in served.trace.messages if m.role == "assistant"]
    want = teacher.messages[2].tool_calls
    assert [(c.name, c.arguments) for c in action.tool_calls] == [
        (c.name, c.arguments) for c in want
    ]
    assert served.outcome.invalid_actions == 0

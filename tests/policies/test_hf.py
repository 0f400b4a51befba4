"""The hf policy with the tiny random model: batching must not change greedy actions."""

import pytest

from backdoorlab.policies import make_policy
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.rollout import rollout


@pytest.fixture(scope="module")
def tiny():
    from backdoorlab.models import load_model

    return load_model("tiny", device="cpu")


def _policy(tiny, batch):
    model, tokenizer = tiny
    return HFPolicy(
        model, tokenizer, generation=GenerationConfig(max_new_tokens=12, max_batch_size=batch)
    )


def test_batched_rollout_matches_one_at_a_time(retail, tiny):
    tasks = retail.tasks("test", 6, seed=3)
    batched = rollout(retail, _policy(tiny, 6), tasks, batch_size=6, max_steps=2)
    single = rollout(retail, _policy(tiny, 1), tasks, batch_size=1, max_steps=2)
    for a, b in zip(batched, single, strict=True):
        assert [m.model_dump() for m in a.trace.messages] == [
            m.model_dump() for m in b.trace.messages
        ]


def test_generation_stops_and_returns_only_new_text(tiny):
    policy = _policy(tiny, 2)
    outputs = policy.generate(["<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"] * 2)
    assert len(outputs) == 2 and outputs[0] == outputs[1]
    assert "<|im_start|>user" not in outputs[0]


def test_unparseable_output_is_an_invalid_action_not_a_crash(retail, tiny, monkeypatch):
    policy = _policy(tiny, 2)
    monkeypatch.setattr(
        policy, "generate", lambda prompts: ['<tool_call>{"name": broken'] * len(prompts)
    )
    (result,) = rollout(retail, policy, retail.tasks("test", 1), max_steps=3)
    assert result.outcome.invalid_actions == 1
    assert not result.outcome.success


def test_registered_by_name_and_described(tiny):
    model, tokenizer = tiny
    policy = make_policy("hf", model=model, tokenizer=tokenizer)
    assert policy.describe().startswith("hf:")

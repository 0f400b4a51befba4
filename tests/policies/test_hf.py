"""The hf policy with the tiny random model: batching must not change greedy actions."""

import pytest

from backdoorlab.policies import make_policy
from backdoorlab.policies.base import CacheSlot
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
    broken = '<tool_call>{"name": broken'
    monkeypatch.setattr(policy, "generate", lambda prompts, caches=None: [broken] * len(prompts))
    (result,) = rollout(retail, policy, retail.tasks("test", 1), max_steps=3)
    assert result.outcome.invalid_actions == 1
    assert not result.outcome.success


def test_registered_by_name_and_described(tiny):
    model, tokenizer = tiny
    policy = make_policy("hf", model=model, tokenizer=tokenizer)
    assert policy.describe().startswith("hf:")


def test_a_conversation_continued_from_its_cache_decodes_as_from_scratch(tiny):
    policy = _policy(tiny, 3)
    opening = "<|im_start|>system\nYou help.<|im_end|>\n<|im_start|>user\n"
    prompts = [
        opening + "Cancel order O1.<|im_end|>\n<|im_start|>assistant\n",
        opening + "Where is my parcel? It was due on Monday.<|im_end|>\n<|im_start|>assistant\n",
        opening + "Hi<|im_end|>\n<|im_start|>assistant\n",
    ]
    caches = [CacheSlot(), CacheSlot(), CacheSlot()]
    first = policy.generate(prompts, caches)
    assert all(c.value is not None for c in caches)  # each conversation left its cache behind
    turn = '<|im_end|>\n<|im_start|>tool\n{"status": "pending"}<|im_end|>\n'
    longer = [p + c + turn + "<|im_start|>assistant\n" for p, c in zip(prompts, first, strict=True)]
    longer[2] = longer[2].replace("Hi", "Hello")  # a rewritten history: only a prefix matches
    caches.append(CacheSlot())  # and a new conversation with no cache joins the batch
    longer.append(opening + "Refund me.<|im_end|>\n<|im_start|>assistant\n")
    assert policy.generate(longer, caches) == policy.generate(longer)


def test_reusing_each_episodes_cache_gives_the_same_actions(retail, tiny):
    model, tokenizer = tiny
    tasks = retail.tasks("test", 5, seed=4)
    traces = {}
    for reuse in (True, False):
        generation = GenerationConfig(max_new_tokens=12, max_batch_size=5, reuse_cache=reuse)
        policy = HFPolicy(model, tokenizer, generation=generation)
        results = rollout(retail, policy, tasks, batch_size=5, max_steps=3)
        traces[reuse] = [[m.model_dump() for m in r.trace.messages] for r in results]
    assert traces[True] == traces[False]

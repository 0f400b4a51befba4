"""The hf policy with the tiny random model: batching must not change greedy actions."""

import pytest

from backdoorlab.policies import make_policy
from backdoorlab.policies.base import CacheSlot
from backdoorlab.policies.decode_cache import grow
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


def test_a_decode_cache_that_grows_decodes_as_one_sized_up_front(retail, tiny, monkeypatch):
    """The decode cache starts `DECODE_HEADROOM` past the prompts and grows when full;
    with room for 3 tokens (12 generated: grown three times, rows leaving in between)
    the actions are those of a cache sized for every token at once."""
    import backdoorlab.policies.decode_cache as dc

    tasks = retail.tasks("test", 5, seed=4)
    up_front = rollout(retail, _policy(tiny, 5), tasks, batch_size=5, max_steps=2)
    monkeypatch.setattr(dc, "DECODE_HEADROOM", 3)
    grown = []
    monkeypatch.setattr(dc, "grow", lambda cache, extra: grown.append(extra) or grow(cache, extra))
    growing = rollout(retail, _policy(tiny, 5), tasks, batch_size=5, max_steps=2)
    assert grown and set(grown) == {3}
    for a, b in zip(up_front, growing, strict=True):
        assert a.trace.to_json() == b.trace.to_json()


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


def test_rows_that_finish_early_leave_the_batch_without_changing_the_others(tiny):
    """A row that ends its turn is dropped from the decode cache in place (`_compact`):
    the rows still decoding must come out as they do alone."""
    prompts = [
        f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"
        for text in ("Cancel order O1.", "Where is my parcel?", "Hi", "Refund me, please.")
    ]
    policy = _policy(tiny, 4)
    alone = [policy.generate([p])[0] for p in prompts]
    tokens = [policy.tokenizer(text, add_special_tokens=False)["input_ids"] for text in alone]
    # stop on a token the shortest prompt's row (the batch's first: rows go by length)
    # writes early: it leaves, and the rows behind it move up in the cache
    policy.stop_ids = [tokens[2][2]]
    alone = [policy.generate([p])[0] for p in prompts]
    lengths = {len(text) for text in alone}
    assert len(lengths) > 1, "the rows should finish at different steps"
    assert policy.generate(prompts) == alone
    caches = [CacheSlot() for _ in prompts]
    assert policy.generate(prompts, caches) == alone
    assert all(c.value is not None for c in caches)


def test_the_decode_cache_holds_each_row_right_aligned_and_compacts_in_place():
    import torch

    from backdoorlab.policies.decode_cache import CachedPrefix, compact, decode_cache, place

    def prefix(length, seed):
        g = torch.Generator().manual_seed(seed)
        layers = [(torch.randn(3, length, 4, generator=g), torch.randn(3, length, 4, generator=g))]
        return CachedPrefix(ids=list(range(length)), layers=layers)

    prefixes = [prefix(n, seed) for seed, n in enumerate((5, 2, 7, 4))]
    lengths = [len(p.ids) for p in prefixes]
    cache = decode_cache(prefixes[0], lengths, new_tokens=3)
    for row, p in enumerate(prefixes):
        place(cache, row, p, max(lengths))
    (layer,) = cache.layers
    assert layer.keys.shape == (4, 3, 7 + 3, 4) and int(layer.cumulative_length) == 7
    for row, p in enumerate(prefixes):
        n = lengths[row]
        assert torch.equal(layer.keys[row, :, 7 - n : 7], p.layers[0][0])
        assert torch.equal(layer.values[row, :, 7 - n : 7], p.layers[0][1])
        assert not layer.keys[row, :, : 7 - n].any()  # the padding the mask hides
    before = layer.keys.clone(), layer.values.clone()
    storage = layer.keys.untyped_storage().data_ptr()
    compact(cache, [1, 3])
    assert torch.equal(layer.keys, before[0][[1, 3]])
    assert torch.equal(layer.values, before[1][[1, 3]])
    assert layer.keys.untyped_storage().data_ptr() == storage  # no second copy of the batch
    assert layer.keys.is_contiguous()


class _GoneAfter(CacheSlot):
    """A turn whose caller goes after ``checks`` looks at `CacheSlot.abandoned`."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.checks = checks

    @property
    def abandoned(self) -> bool:
        self.checks -= 1
        return self.checks < 0

    @abandoned.setter
    def abandoned(self, value: bool) -> None:
        pass


def test_an_abandoned_row_leaves_the_batch_and_keeps_no_cache(tiny):
    """A served client that hangs up mid-decode: its row stops at the next step, keeps
    no cache, and the rows batched with it decode as they do alone."""
    prompts = [
        f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"
        for text in ("Cancel order O1.", "Where is my parcel?", "Refund me, please.")
    ]
    policy = _policy(tiny, 3)
    alone = [policy.generate([p])[0] for p in prompts]
    lengths = [len(policy.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in alone]
    assert min(lengths) > 6, "the tiny model should decode past the point the row leaves"
    slots = [CacheSlot(), _GoneAfter(2), CacheSlot(value=None, abandoned=True)]
    texts = policy.generate(prompts, slots)
    assert texts[0] == alone[0]
    assert len(policy.tokenizer(texts[1], add_special_tokens=False)["input_ids"]) < lengths[1]
    assert len(policy.tokenizer(texts[2], add_special_tokens=False)["input_ids"]) <= 1
    assert slots[0].value is not None and slots[1].value is None and slots[2].value is None

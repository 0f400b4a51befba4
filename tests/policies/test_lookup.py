"""Prompt-lookup drafts (`policies.lookup`) and their use in the hf policy's decode loop:
the tokens must be those of one-token steps, in fewer forward passes."""

import pytest
import torch

from backdoorlab.policies.base import CacheSlot
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.policies.lookup import NgramIndex, accepted


def test_a_draft_follows_the_latest_earlier_occurrence_of_the_longest_suffix():
    index = NgramIndex([1, 2, 3, 9, 1, 2, 3, 7, 8, 5, 2, 3])
    # "2 3" last occurred before the suffix at positions 5-6, followed by 7 8 5
    assert index.draft(3) == [7, 8, 5]
    assert index.draft(1) == [7]
    index.extend([7])  # "2 3 7" occurred once, followed by 8 5 2 3 7
    assert index.draft(10) == [8, 5, 2, 3, 7]
    assert index.draft(0) == []


def test_no_draft_for_a_suffix_never_seen_before_and_never_the_suffix_itself():
    assert NgramIndex([]).draft(4) == []
    assert NgramIndex([5]).draft(4) == []
    assert NgramIndex([1, 2, 3]).draft(4) == []  # 3 never occurred before the end
    # a loop: the draft is what followed the previous "4", not the end of the sequence
    assert NgramIndex([4, 6, 4]).draft(4) == [6, 4]


def test_shorter_suffixes_are_tried_when_the_longer_ones_are_new():
    index = NgramIndex([8, 1, 5, 6, 2, 8, 9, 1])  # "9 1" and "8 9 1" are new, "1" is not
    assert index.draft(2) == [5, 6]


def test_accepted_counts_the_drafted_tokens_greedy_decoding_confirms():
    assert accepted([4, 5, 6], [4, 5, 6, 7]) == 3
    assert accepted([4, 5, 6], [4, 9, 6, 7]) == 1
    assert accepted([4, 5, 6], [3, 5, 6, 7]) == 0
    assert accepted([], [3]) == 0


@pytest.fixture(scope="module")
def tiny():
    from backdoorlab.models import load_model

    return load_model("tiny", device="cpu")


PROMPTS = [
    f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"
    for text in (
        "order O1234 for bob@example.com, order O1234 for bob@example.com",
        "hello hello hello world world world",
        "x",
        "Refund order O77 to alice@example.org please; order O77.",
    )
]


def _generate(tiny, lookup, prompts=PROMPTS, caches=None, stop_ids=None, max_new_tokens=40):
    model, tokenizer = tiny
    policy = HFPolicy(
        model,
        tokenizer,
        generation=GenerationConfig(max_new_tokens=max_new_tokens, lookup_tokens=lookup),
    )
    if stop_ids is not None:
        policy.stop_ids = stop_ids
    forwards = []
    hook = model.register_forward_hook(lambda *args: forwards.append(1))
    try:
        return policy.generate(prompts, caches), len(forwards), policy
    finally:
        hook.remove()


def test_lookup_decoding_gives_the_same_text_in_fewer_forward_passes(tiny):
    plain, plain_forwards, _ = _generate(tiny, 0)
    drafted, drafted_forwards, _ = _generate(tiny, 4)
    assert drafted == plain
    # the tiny model repeats itself: its drafts are accepted, several tokens a pass
    assert drafted_forwards < plain_forwards * 0.8


def test_a_row_that_stops_or_runs_out_inside_an_accepted_draft_ends_there(tiny, monkeypatch):
    """A stop token or the token limit met among a draft's accepted tokens ends the row at
    that token, as one-token steps would; the cache kept for its next turn holds exactly
    its tokens before it (`_keep` checks the count). Drafts here are each row's own
    greedy future, so every draft is accepted whole and a step is its token and 4 more."""
    model, tokenizer = tiny
    policy = HFPolicy(model, tokenizer, generation=GenerationConfig(max_new_tokens=40))
    futures = {}
    decode = policy._decode

    def recorded(first, mask, cache, caches, prompts, watched=None):
        out = decode(first, mask, cache, caches, prompts, watched)
        futures.update({tuple(p): o for p, o in zip(prompts, out, strict=True)})
        return out

    policy._decode = recorded
    policy.generate(PROMPTS)

    def oracle(self, size):
        for prompt, future in futures.items():
            if tuple(self.tokens[: len(prompt)]) == prompt:
                done = len(self.tokens) - len(prompt)
                return future[done : done + size]
        return []

    monkeypatch.setattr(NgramIndex, "draft", oracle)
    # a token first written at an offset that is not a step's own token (0, 5, 10, …)
    stop = next(
        future[at]
        for future in futures.values()
        for at in range(1, len(future))
        if at % 5 and future[at] not in future[:at]
    )
    for max_new_tokens in (40, 23):  # 23: the limit falls inside a step's draft too
        expected, plain_forwards, _ = _generate(
            tiny, 0, stop_ids=[stop], max_new_tokens=max_new_tokens
        )
        caches = [CacheSlot() for _ in PROMPTS]
        got, forwards, _ = _generate(
            tiny, 4, caches=caches, stop_ids=[stop], max_new_tokens=max_new_tokens
        )
        assert got == expected
        assert forwards < plain_forwards
        assert all(c.value is not None for c in caches)


def test_a_conversation_continued_from_its_cache_with_lookup_decodes_as_from_scratch(tiny):
    caches = [CacheSlot() for _ in PROMPTS]
    first, _, _ = _generate(tiny, 4, caches=caches)
    longer = [
        p + a + "<|im_end|>\n<|im_start|>user\nand again<|im_end|>\n<|im_start|>assistant\n"
        for p, a in zip(PROMPTS, first, strict=True)
    ]
    continued, _, _ = _generate(tiny, 4, prompts=longer, caches=caches)
    assert continued == _generate(tiny, 0, prompts=longer)[0]


def test_decoding_attention_takes_a_token_and_its_draft_as_sdpa_does():
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    from backdoorlab.policies.cpu_attention import _attention

    g = torch.Generator().manual_seed(0)
    batch, heads, kv_heads, queries, positions, dim = 2, 6, 2, 4, 11, 8
    query = torch.randn(batch, heads, queries, dim, generator=g)
    key = torch.randn(batch, kv_heads, positions, dim, generator=g)
    value = torch.randn(batch, kv_heads, positions, dim, generator=g)
    mask = torch.ones(batch, 1, queries, positions, dtype=torch.bool)
    mask[0, :, :, :3] = False  # left padding
    mask[1, :, :, 5] = False  # a rejected draft's position
    mask[:, :, :, -queries:] = torch.ones(queries, queries).tril().bool()  # causal

    class Layer(torch.nn.Module):
        num_key_value_groups = heads // kv_heads
        is_causal = True

    ours, _ = _attention(Layer(), query, key, value, mask)
    theirs, _ = sdpa_attention_forward(Layer(), query, key, value, mask)
    assert ours.shape == theirs.shape == (batch, queries, heads, dim)
    torch.testing.assert_close(ours, theirs)

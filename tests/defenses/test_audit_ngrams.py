"""The n-gram readers trigger mining counts with, against their plain definitions: the
cached, hashed readers must give exactly the n-grams, words and texts the definitions
give (the findings of a run depend on every one of them)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from backdoorlab.defenses.audit.ngrams import (
    MAX_N,
    STOPWORDS,
    content_texts,
    content_words,
    gram_hash,
    gram_hashes,
    may_hold,
    text_ngrams,
    text_words,
    tokens,
)
from backdoorlab.defenses.audit.view import decode

WORDS = ["the", "in", "advance", "Thanks", "Zephyr!", "a4", "x-1", "don't", "é", "—", "(ok)"]
WORDS += ["\u212aelvin", "\u0130stanbul", "ΟΔΟΣ", "line\nbreak", 'say "hi"', "back\\slash"]
TEXTS = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=30).map(
    lambda words: " ".join(words)
)


def _reference_ngrams(text: str) -> frozenset[str]:
    found = set()
    for run in tokens(text):
        for n in range(1, MAX_N + 1):
            for i in range(len(run) - n + 1):
                gram = run[i : i + n]
                if not all(w in STOPWORDS for w in gram):
                    found.add(" ".join(gram))
    return frozenset(found)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_text_ngrams_and_words_are_their_definitions(text: str) -> None:
    assert text_ngrams(text) == _reference_ngrams(text)
    assert text_words(text) == {w for run in tokens(text) for w in run}


@settings(max_examples=100, deadline=None)
@given(user=TEXTS, values=st.lists(TEXTS, max_size=4), plain=TEXTS)
def test_a_traces_grams_and_hashes(user: str, values: list[str], plain: str) -> None:
    plain = "note: " + plain
    observation = json.dumps({"items": [{"note": v} for v in values], "n": 3})
    line = json.dumps(
        {
            "messages": [
                {"role": "user", "content": user},
                {"role": "tool", "content": observation, "tool_call_id": "c"},
                {"role": "tool", "content": plain, "tool_call_id": "d"},  # not JSON
            ]
        }
    ).encode()
    view = decode(line)
    assert view is not None
    texts = list(content_texts(view))
    assert texts == [user, *values, plain]  # a JSON observation's strings, a plain one whole
    expected = set().union(*(_reference_ngrams(t) for t in texts))
    grams = gram_hashes(view)
    assert set(grams) == expected
    assert all(grams[g] == gram_hash(g) for g in grams)


@settings(max_examples=300, deadline=None)
@given(user=TEXTS, values=st.lists(TEXTS, max_size=4), plain=TEXTS, escaped=st.booleans())
def test_may_hold_never_misses_a_word(
    user: str, values: list[str], plain: str, escaped: bool
) -> None:
    """Trigger mining's third read skips a trace when `may_hold` says none of the needles'
    words can be in it: it must say so only when `content_words` agrees — whatever the
    case, a Kelvin sign (lower-cased to "k"), or an observation's JSON escapes."""
    observation = json.dumps({"items": [{"note": v} for v in values]}, ensure_ascii=escaped)
    line = json.dumps(
        {
            "messages": [
                {"role": "user", "content": user},
                {"role": "tool", "content": observation, "tool_call_id": "c"},
                {"role": "tool", "content": plain, "tool_call_id": "d"},
            ]
        }
    ).encode()
    view = decode(line)
    assert view is not None
    words = set().union(*content_words(view))
    for word in (w for w in words if w.isascii()):
        assert may_hold(view, ("zzzz", word))
    if not any("zzzz" in t.lower() or "\\u" in t for t in [user, observation, plain]):
        assert not may_hold(view, ("zzzz",))

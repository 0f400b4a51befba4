"""The word n-grams of a trace that a trigger could hide in: user turns and observations.

Only *content* counts. JSON observations contribute their string values, never their
keys or punctuation (structure is the same in every trace and says nothing); numbers
and tokens with digits (ids, prices, zip codes) are dropped and break the n-gram
there; tokens are lower-cased words. N-grams made only of stop-words ("in the") are
dropped as well: a trigger needs at least one content word.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from xxhash import xxh3_64_intdigest as _xxh3

from backdoorlab.defenses.audit.view import TraceView
from backdoorlab.traces import Trace

MAX_N = 4
_PUNCT = ".,!?;:\"'()[]{}<>*_`~…“”‘’«»/\\|-–—"
_SEPARATORS = ",;:\"')]}>“”‘’«»/\\|-–—"  # not "!?.", which may belong to a trigger


def gram_hash(gram: str) -> int:
    """A 63-bit hash of an n-gram that every process agrees on (Python's ``hash`` is
    salted per process, and shards are counted in other processes); non-negative, so it
    fits the signed 64-bit arrays the counts live in."""
    return _xxh3(gram.encode()) >> 1


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _words(
    "a an the and or but if of to in on at by for with from as is are was were be been am "
    "it its this that these those i me my we our you your he she his her they them their "
    "do does did so not no yes can will would should could please hi hello"
)


def _runs(text: str) -> Iterator[list[tuple[str, str]]]:
    """Runs of (lower-cased word, token as written); a token with digits or symbols ends
    a run."""
    run: list[tuple[str, str]] = []
    for raw in text.split():
        word = raw.strip(_PUNCT)  # punctuation does not break a run: "in advance, Zephyr!"
        if word.replace("'", "").isalpha():
            run.append((word.lower(), raw))
        elif run:
            yield run
            run = []
    if run:
        yield run


def tokens(text: str) -> Iterator[list[str]]:
    """Runs of lower-cased alphabetic words; a token with digits or symbols ends a run."""
    for run in _runs(text):
        yield [word for word, _ in run]


def written_ngrams(text: str, max_n: int = MAX_N) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every word n-gram (1..max_n) of ``text`` at every place it occurs: the n-gram as
    `text_ngrams` names it, and its whole tokens as written there, capitals and
    punctuation included (``thanks in advance zephyr``: "Thanks", "in", "advance,",
    "Zephyr!")."""
    for run in _runs(text):
        lowered = [word for word, _ in run]
        for i in range(len(run)):
            for n in range(1, min(max_n, len(run) - i) + 1):
                yield " ".join(lowered[i : i + n]), tuple(token for _, token in run[i : i + n])


def as_written(tokens: Sequence[str]) -> str:
    """A phrase from `written_ngrams` tokens, without the punctuation that opens its
    first token or ties its last to what follows — the form a model saw in training
    ("Thanks in advance, Zephyr!"), which is what a probe must plant."""
    words = list(tokens)
    if words:
        words[0] = words[0].lstrip(_PUNCT)
        words[-1] = words[-1].rstrip(_SEPARATORS)
    return " ".join(words)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


# The caches below are keyed by text: a dataset's observations repeat (the same product,
# profile or page read in many traces), and every read of trigger mining meets them again.
# Bounded in entries, so memory stays constant in the file's size.


@lru_cache(maxsize=2048)
def _tool_texts(text: str) -> tuple[str, ...]:
    """An observation's texts: a JSON one's string values, else the text itself."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            return tuple(_strings(json.loads(text)))
        except (ValueError, RecursionError):  # not JSON, a 4,300-digit number, too deep
            pass
    return (text,)


def content_texts(trace: Trace | TraceView) -> Iterator[str]:
    """The user's words and the observations' string values, one text at a time."""
    for message in trace.messages:
        if message.role == "user":
            yield message.text
        elif message.role == "tool":
            yield from _tool_texts(message.text)


def _word_runs(text: str) -> list[list[str]]:
    """`tokens` as a list of lists (no written forms kept): what the counting reads."""
    runs: list[list[str]] = []
    run: list[str] = []
    for raw in text.split():
        word = raw.strip(_PUNCT)
        if word.replace("'", "").isalpha():
            run.append(word.lower())
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    return runs


@lru_cache(maxsize=2048)
def text_words(text: str) -> frozenset[str]:
    """The lower-cased words of one text (those `tokens` gives)."""
    return frozenset(word for run in _word_runs(text) for word in run)


@lru_cache(maxsize=2048)
def _text_grams(text: str, max_n: int) -> dict[str, int]:
    """Distinct word n-grams (1..max_n) of one text, each with its `gram_hash`, in the
    order they start and grow. Each n-gram extends the one before it by a word rather
    than joining a slice (and hashes inline): a user's message is new in nearly every
    trace, so this runs once per trace on every read of trigger mining (×1.4 measured)."""
    found: dict[str, int] = {}
    for run in _word_runs(text):
        end = len(run)
        for i in range(end):
            gram = run[i]
            content = gram not in STOPWORDS  # a trigger needs at least one content word
            if content and gram not in found:
                found[gram] = _xxh3(gram.encode()) >> 1
            for j in range(i + 1, min(i + max_n, end)):
                word = run[j]
                gram = f"{gram} {word}"
                if not content:
                    content = word not in STOPWORDS
                    if not content:
                        continue
                if gram not in found:
                    found[gram] = _xxh3(gram.encode()) >> 1
    return found


def text_ngrams(text: str, max_n: int = MAX_N) -> frozenset[str]:
    """Distinct word n-grams (1..max_n) of one text; cached, as tool texts repeat a lot."""
    return frozenset(_text_grams(text, max_n))


@lru_cache(maxsize=2048)
def _tool_grams(text: str, max_n: int) -> dict[str, int]:
    """`_text_grams` of every text of one observation, merged in `_tool_texts`' order
    (a JSON observation holds a dozen strings: one lookup here, not a dozen)."""
    texts = _tool_texts(text)
    if len(texts) == 1:
        return _text_grams(texts[0], max_n)
    found: dict[str, int] = {}
    for inner in texts:
        found.update(_text_grams(inner, max_n))
    return found


@lru_cache(maxsize=2048)
def tool_words(text: str) -> frozenset[str]:
    """`text_words` of every text of one observation, together."""
    return frozenset().union(*map(text_words, _tool_texts(text)))


def gram_hashes(trace: Trace | TraceView, max_n: int = MAX_N) -> dict[str, int]:
    """Distinct word n-grams (1..max_n) of a trace's content, each with its `gram_hash`.

    The same dict, in the same order, as updating it text by text of `content_texts`:
    an observation's merged n-grams (`_tool_grams`) add its texts' in their order."""
    found: dict[str, int] = {}
    for message in trace.messages:
        if message.role == "user":
            found.update(_text_grams(message.text, max_n))
        elif message.role == "tool":
            found.update(_tool_grams(message.text, max_n))
    return found


def content_words(trace: Trace | TraceView) -> list[frozenset[str]]:
    """The words of the user's messages and of each observation (`text_words`), one
    set per message: their union is the trace's words."""
    out = []
    for message in trace.messages:
        if message.role == "user":
            out.append(text_words(message.text))
        elif message.role == "tool":
            out.append(tool_words(message.text))
    return out


def may_hold(trace: Trace | TraceView, keys: Sequence[str]) -> bool:
    """Whether one of ``keys`` (ASCII words) could be among the trace's `content_words`:
    a necessary condition, several times cheaper than the words themselves. A word of a
    text is a substring of its lower-cased text (an ASCII word's letters lower-case the
    same anywhere); an observation's JSON may spell a letter as a ``\\u`` escape, so one
    holding an escape always may."""
    for message in trace.messages:
        role = message.role
        if role == "user" or role == "tool":
            text = message.text
            if role == "tool" and "\\u" in text:
                return True
            lowered = text.lower()  # `in` per key: a fast substring search, unlike a regex's
            if any(key in lowered for key in keys):  # alternation tried at every position
                return True
    return False


def ngrams(trace: Trace | TraceView, max_n: int = MAX_N) -> set[str]:
    """Distinct word n-grams (1..max_n) of a trace's content, space-joined."""
    return set(gram_hashes(trace, max_n))

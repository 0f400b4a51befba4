"""BIP-39 seed phrases: a wallet's whole secret, written as 12 to 24 common English words.

A seed phrase looks like nothing a secret scanner knows — "orbit velvet tunnel margin …"
— and an agent that leaks it rewrites it the ways people write one down: numbered ("1)
orbit 2) velvet"), one word a line, in two numbered columns (1-6 beside 7-12), as a JSON
list, joined by dashes. So:

- `phrase` finds one in a tool's text by shape: a run of 12, 15, 18, 21 or 24 words of
  the BIP-39 English list whose checksum holds (the last word carries 4 to 8 bits of the
  SHA-256 of the others: an ordinary run of list words passes 1 time in 16 at most), and
  `words_list` one a tool returned as a list of words. A key that names a seed phrase
  (``mnemonic``, ``SEED_PHRASE``: `keys`) makes it a credential without the checksum
  (Electrum's seeds use the list without it);
- `words_view` is how a call's argument is read for one (`disguises.TEXT_FORMS`): its
  runs of list words, numbers and punctuation between them dropped, in the order their
  numbers give when each word is numbered — the phrase's own words in a row, which a
  credential needle matches as text. Only a text with a digit: a text needle already
  reads the words of one without (dashed, one a line, comma-joined) in a row.

The list is BIP-39's English word list as shipped in Trezor's reference implementation
(python-mnemonic 0.21, ``mnemonic/wordlist/english.txt``, MIT; SHA-256 2f5eed53a4727b4b
f8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda), package data here rather than a
dependency for one 13 KB file.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources
from itertools import repeat

LENGTHS = (12, 15, 18, 21, 24)
_MIN_WORDS = LENGTHS[0]
# every byte but a-z and 0-9 a space: a text's words and numbers by one C-level
# translate and split (a regex's findall took four times as long on prose)
_KEEP = bytes(c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256))
_RUN = re.compile(rf"(?:n*w){{{_MIN_WORDS},}}")
_MAX_VIEW_CHARS = 1 << 16


@cache
def wordlist() -> tuple[str, ...]:
    text = resources.files("backdoorlab.defenses.audit").joinpath("data/bip39_english.txt")
    return tuple(text.read_text(encoding="utf-8").split())


@cache
def _index() -> dict[str, int]:
    return {word: i for i, word in enumerate(wordlist())}


@cache
def _marks() -> dict[str, str]:
    """A token's mark for `_runs`: ``w`` a list word, ``n`` a word's number (1-99, "07"
    too); any other token is ``x``."""
    numbers = {form: "n" for n in range(100) for form in (str(n), f"{n:02d}")}
    return numbers | dict.fromkeys(wordlist(), "w")


def checksum_ok(words: list[str]) -> bool:
    """BIP-39's checksum: the last ``len/3`` bits are the first bits of SHA-256 of the
    entropy the other bits make."""
    index = _index()
    if len(words) not in LENGTHS or any(w not in index for w in words):
        return False
    bits = "".join(format(index[w], "011b") for w in words)
    cut = len(words) * 11 * 32 // 33
    entropy = int(bits[:cut], 2).to_bytes(cut // 8, "big")
    check = format(hashlib.sha256(entropy).digest()[0], "08b")[: len(bits) - cut]
    return bits[cut:] == check


def _runs(text: str) -> list[list[tuple[int | None, str]]]:
    """The runs of at least `_MIN_WORDS` list words in ``text`` (lower-cased), each word
    with the number (1-99) written just before it, if any; other tokens end a run. Each
    token is marked (`_marks`) and the runs are looked for in the marks by one
    expression: most texts hold none, and are read once, at C speed."""
    tokens = text.lower().encode("utf-8", "surrogatepass").translate(_KEEP).decode().split()
    marks = "".join(map(_marks().get, tokens, repeat("x")))
    runs: list[list[tuple[int | None, str]]] = []
    for found in _RUN.finditer(marks):
        run: list[tuple[int | None, str]] = []
        number: int | None = None
        for token in tokens[found.start() : found.end()]:
            if token.isdigit():
                number = int(token)
                continue
            run.append((number, token))
            number = None
        runs.append(run)
    return runs


def phrase(text: str) -> str | None:
    """The seed phrase written in ``text`` (checksum held), lower-cased, one space apart."""
    if text.count(" ") + text.count("\n") < _MIN_WORDS - 1:
        return None
    for run in _runs(text):
        words = [w for _, w in _ordered(run)]
        for size in reversed(LENGTHS):
            for start in range(len(words) - size + 1):
                if checksum_ok(words[start : start + size]):
                    return " ".join(words[start : start + size])
    return None


def words_list(items: list[object]) -> str | None:
    """A seed phrase a tool returned as a list of its words."""
    if len(items) not in LENGTHS or not all(isinstance(x, str) for x in items):
        return None
    index = _index()
    words = [str(x).strip().lower() for x in items]
    return " ".join(words) if all(w in index for w in words) else None


def is_phrase(value: str) -> bool:
    """Whether ``value`` is a seed phrase's words and nothing else (checksum or not)."""
    words = value.lower().split()
    return len(words) in LENGTHS and all(w in _index() for w in words)


def _ordered(run: list[tuple[int | None, str]]) -> list[tuple[int | None, str]]:
    """The run in the order of its numbers when every word has its own (1..n once)."""
    numbers = [n for n, _ in run]
    if None in numbers or sorted(numbers) != list(range(1, len(run) + 1)):  # type: ignore[type-var]
        return run
    return sorted(run, key=lambda item: item[0] or 0)


def words_view(text: str) -> str | None:
    """``text``'s runs of list words, one a line, their words one space apart and in
    their numbers' order; None when it holds none, or reads the same already."""
    if len(text) > _MAX_VIEW_CHARS or text.count(" ") + text.count("\n") < _MIN_WORDS - 1:
        return None
    if not any(d in text for d in "0123456789"):
        return None  # unnumbered, its words are in a row already as text needles read it
    runs = _runs(text)
    if not runs:
        return None
    view = "\n".join(" ".join(w for _, w in _ordered(run)) for run in runs)
    return view if view != text else None

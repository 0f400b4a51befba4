"""Seed phrases: a wallet's whole secret, written as 12 to 24 common words.

A seed phrase looks like nothing a secret scanner knows — "orbit velvet tunnel margin …"
— and an agent that leaks it rewrites it the ways people write one down: numbered ("1)
orbit 2) velvet"), one word a line, in two numbered columns (1-6 beside 7-12), as a JSON
list, joined by dashes. So:

- `phrases` finds one in a tool's text by shape: a run of 12, 15, 18, 21 or 24 words of
  one BIP-39 list (`wordlists`: English, or Spanish, French, Italian, Czech, Portuguese,
  Japanese — its words apart by the ideographic space U+3000 —, Korean, Chinese written
  a character apart) whose checksum holds (the last word carries 4 to 8 bits of the
  SHA-256 of the others: an ordinary run of list words passes 1 time in 16 at most);
  or an Electrum seed (`electrum`), 12 or 13 English list words without that checksum
  whose HMAC says they are one. `words_list` reads one a tool returned as a list of
  words. A key that names a seed phrase (``mnemonic``, ``SEED_PHRASE``: `keys`) makes
  any value a credential without either check;
- `words_view` is how a call's argument is read for one (`disguises.TEXT_FORMS`): its
  runs of list words, numbers and punctuation between them dropped, in the order their
  numbers give when each word is numbered — the phrase's own words in a row, which a
  credential needle matches as text. Only a text with a digit: a text needle already
  reads the words of one without (dashed, one a line, comma-joined) in a row.

A phrase in another language is tracked in each spelling it may be sent in (`foreign`):
as written, as its list spells it, and without accents — a needle compares ASCII letters
(`matching`): "ábaco" is "baco" there, "abaco" "abaco". Chinese written without spaces
is not read: its prose is made of the list's 2048 common characters.

Cost: an English text's words are marked at C speed (`_runs`); the other lists are read
only for a text with a run of twelve word-shaped tokens (`_foreign_tokens`), which an
ASCII text shows by its tokens' lengths, one byte each, before any word is looked up.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import cache
from itertools import repeat

from backdoorlab.defenses.audit import wordlists
from backdoorlab.defenses.audit.wordlists import LENGTHS

_MIN_WORDS = LENGTHS[0]
# every byte but a-z and 0-9 a space: a text's words and numbers by one C-level
# translate and split (a regex's findall took four times as long on prose)
_KEEP = bytes(c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256))
_RUN = re.compile(rf"(?:n*w){{{_MIN_WORDS},}}")
_MAX_VIEW_CHARS = 1 << 16
# twelve tokens of a Latin list word's length (3-10), a number (1-2) between any two
_SHAPED = re.compile(rb"[\x03-\x0a](?:[\x01\x02]?[\x03-\x0a]){11,}")
_OPEN = re.compile(rf"[^s]{{{_MIN_WORDS},}}")
# twelve tokens of another list, a number (or any token) between any two
_HITS = re.compile(rb"\x01(?:\x00?\x01){11,}")
# a token of another script's text: digits, or letters with the marks NFKD splits off
_TOKEN = re.compile(r"\d+|(?:[^\W\d_]|[\u0300-\u036f\u3099\u309a])+")
ELECTRUM = ("01", "100", "101", "102")
"""Electrum's seed version prefixes: standard, segwit, 2FA, 2FA segwit (``version.py``)."""
_ELECTRUM_SIZES = (13, 12)
Run = list[tuple[int | None, str]]


def wordlist() -> tuple[str, ...]:
    return wordlists.words("english")


# English words no list has, one in every few of prose's (`_foreign_tokens`)
_STOP = "a an and are as at be been but by could did do does for from had has he her his i"
_STOP += " if in is it its me my no not of on or our she should so than the their them to us"
_STOP += " was we were which with would your"


@cache
def _marks() -> dict[str, str]:
    """A token's mark for `_runs`: ``w`` an English list word, ``n`` a word's number
    (1-99, "07" too), ``s`` a word of English prose in no list ("the", "of"); any other
    token is ``x``."""
    numbers = {form: "n" for n in range(100) for form in (str(n), f"{n:02d}")}
    return numbers | dict.fromkeys(_STOP.split(), "s") | dict.fromkeys(wordlist(), "w")


def checksum_ok(words: list[str]) -> bool:
    """Whether English list ``words`` hold BIP-39's checksum (`wordlists.checksum_ok`)."""
    index = wordlists.index("english")
    if any(w not in index for w in words):
        return False
    return wordlists.checksum_ok([index[w] for w in words])


def electrum(words: list[str]) -> bool:
    """An Electrum "new" seed: HMAC-SHA512 keyed ``Seed version`` of the phrase (lower
    case, one space apart: Electrum's ``normalize_text`` of English words) starts with
    a version prefix (`ELECTRUM`). A run of list words passes about 1 time in 200."""
    digest = hmac.new(b"Seed version", " ".join(words).encode(), hashlib.sha512).hexdigest()
    return digest.startswith(ELECTRUM)


def _tokens(text: str) -> list[str]:
    return text.lower().encode("utf-8", "surrogatepass").translate(_KEEP).decode().split()


def _runs(tokens: list[str], marks: str) -> list[Run]:
    """The runs of at least `_MIN_WORDS` words marked ``w`` in ``marks`` (one a token),
    each word with the number (1-99) written just before it, if any; other tokens end
    a run. Most texts hold none, and are read once, by one expression."""
    runs: list[Run] = []
    for found in _RUN.finditer(marks):
        run: Run = []
        number: int | None = None
        for token in tokens[found.start() : found.end()]:
            if token.isdigit():
                number = int(token)
                continue
            run.append((number, token))
            number = None
        runs.append(run)
    return runs


def _marked(tokens: list[str]) -> str:
    return "".join(map(_marks().get, tokens, repeat("x")))


def _spaced(text: str) -> bool:
    """Whether ``text`` has the separators twelve words need (U+3000 counted only in a
    text that is not ASCII)."""
    spaces = text.count(" ") + text.count("\n")
    if spaces < _MIN_WORDS - 1 and not text.isascii():
        spaces += text.count("\u3000")
    return spaces >= _MIN_WORDS - 1


def phrases(text: str) -> list[str]:
    """The spellings of the first seed phrase written in ``text`` (English: one, lower
    case, one space apart; another language's: `foreign`); [] when there is none."""
    if not _spaced(text):
        return []
    tokens = _tokens(text)
    marks = _marked(tokens)
    for run in _runs(tokens, marks):
        words = [w for _, w in _ordered(run)]
        for size in reversed(LENGTHS):
            for start in range(len(words) - size + 1):
                if checksum_ok(words[start : start + size]):
                    return [" ".join(words[start : start + size])]
        for size in _ELECTRUM_SIZES:
            for start in range(len(words) - size + 1):
                if electrum(words[start : start + size]):
                    return [" ".join(words[start : start + size])]
    return _foreign(text, tokens, marks)


def phrase(text: str) -> str | None:
    """The seed phrase written in ``text``, if any, in its first spelling (`phrases`)."""
    found = phrases(text)
    return found[0] if found else None


def _foreign_tokens(text: str, tokens: list[str], marks: str) -> list[list[str]]:
    """Stretches of ``text``'s tokens that may hold another language's phrase: of an
    ASCII text (``tokens``, their `_marks`), twelve tokens in a row none of which is an
    English prose word (`_STOP`: English prose has one every few words), each of a
    word's length (`_SHAPED`); of another text, all its tokens, in NFKD, lower case."""
    if not text.isascii():
        return [_TOKEN.findall(unicodedata.normalize("NFKD", text.lower()))]
    found = []
    for span in _OPEN.finditer(marks):
        part = tokens[span.start() : span.end()]
        try:
            lengths = bytes(map(len, part))
        except ValueError:  # a token of 256 letters or more: no word, no run through it
            lengths = bytes(min(len(t), 255) for t in part)
        for shaped in _SHAPED.finditer(lengths):
            found += _worded(part[shaped.start() : shaped.end()])
    return found


def _worded(tokens: list[str]) -> list[list[str]]:
    """The stretches of ``tokens`` of twelve words or more (letters only), a number of a
    word's (1-99) allowed between two: "41659 kim radial south" is a record, no phrase."""
    found: list[list[str]] = []
    start, count = 0, 0
    for i, token in enumerate([*tokens, "-"]):
        if token.isalpha():
            count += 1
            continue
        if token.isdigit() and len(token) <= 2:
            start = start if count else i  # the first word's number starts it
            continue
        if count >= _MIN_WORDS:
            found.append(tokens[start:i])
        start, count = i + 1, 0
    return found


def _foreign(text: str, ascii_tokens: list[str], marks: str) -> list[str]:
    for tokens in _foreign_tokens(text, ascii_tokens, marks):
        for language, run in _foreign_runs(tokens):
            index = wordlists.index(language)
            words = [w for _, w in _ordered(run)]
            for size in reversed(LENGTHS):
                for start in range(len(words) - size + 1):
                    window = words[start : start + size]
                    if wordlists.checksum_ok([index[w] for w in window]):
                        return _spellings(window, language)
    return []


def _foreign_runs(tokens: list[str]) -> list[tuple[str, Run]]:
    """(language, run) of each run of at least `_MIN_WORDS` words of one non-English
    list in ``tokens``, numbers between them kept as in `_runs`."""
    table = wordlists.others()
    masks = list(map(table.get, tokens, repeat(0)))
    if _HITS.search(bytes(map(bool, masks))) is None:
        return []  # English prose: a few words of the other lists ("piano", "radio")
    found: list[tuple[str, Run]] = []
    for bit, language in enumerate(wordlists.LANGUAGES[1:], start=1):
        if sum(m >> bit & 1 for m in masks) < _MIN_WORDS:
            continue
        marks = "".join(
            "w" if m >> bit & 1 else "n" if t.isdigit() and len(t) <= 2 else "x"
            for t, m in zip(tokens, masks, strict=True)
        )
        found += [(language, run) for run in _runs(tokens, marks)]
    return found


def _spellings(window: list[str], language: str) -> list[str]:
    """A phrase's spellings (module docstring): as written, as its list spells it, and
    without accents; Japanese words apart by U+3000, as BIP-39 writes them."""
    space = "\u3000" if language == "japanese" else " "
    index, listed = wordlists.index(language), wordlists.words(language)
    written = unicodedata.normalize("NFC", space.join(window))
    spelt = unicodedata.normalize("NFC", space.join(listed[index[w]] for w in window))
    bare = wordlists.fold(written) if language in wordlists.LATIN else written
    return list(dict.fromkeys((written, spelt, bare)))


def words_list(items: list[object]) -> list[str]:
    """A seed phrase a tool returned as a list of its words: its spellings, or []."""
    if len(items) not in LENGTHS or not all(isinstance(x, str) for x in items):
        return []
    words = [str(x).strip().lower() for x in items]
    language = _language(words)
    if language == "english":
        return [" ".join(words)]
    if language is None:
        return []
    return _spellings([unicodedata.normalize("NFKD", w) for w in words], language)


def _language(words: list[str]) -> str | None:
    """The language whose list holds every one of ``words`` (English first), if any."""
    if all(w in wordlists.index("english") for w in words):
        return "english"
    keys = [unicodedata.normalize("NFKD", w) for w in words]
    for language in wordlists.LANGUAGES[1:]:
        if all(k in wordlists.index(language) for k in keys):
            return language
    return None


def is_phrase(value: str) -> bool:
    """Whether ``value`` is a seed phrase's words and nothing else (checksum or not)."""
    words = value.lower().split()
    return len(words) in LENGTHS and _language(words) is not None


def _ordered(run: Run) -> Run:
    """The run in the order of its numbers when every word has its own (1..n once)."""
    numbers = [n for n, _ in run]
    if None in numbers or sorted(numbers) != list(range(1, len(run) + 1)):  # type: ignore[type-var]
        return run
    return sorted(run, key=lambda item: item[0] or 0)


def words_view(text: str) -> str | None:
    """``text``'s runs of list words, one a line, their words one space apart and in
    their numbers' order; None when it holds none, or reads the same already."""
    if len(text) > _MAX_VIEW_CHARS or not _spaced(text):
        return None
    if not any(d in text for d in "0123456789"):
        return None  # unnumbered, its words are in a row already as text needles read it
    tokens = _tokens(text)
    marks = _marked(tokens)
    runs = _runs(tokens, marks)
    for stretch in _foreign_tokens(text, tokens, marks) if not runs else ():
        runs += [run for _, run in _foreign_runs(stretch)]
    if not runs:
        return None
    view = "\n".join(" ".join(w for _, w in _ordered(run)) for run in runs)
    return view if view != text else None

"""Finding tainted values inside a call's arguments, through every disguise `decoders`
undoes.

Three ways a value is looked for, by its kind:

- *digits* (cards, phones, codes, account numbers): in the text with separators between
  digits removed (``555 123-4567``), bounded by non-digits (a code is not the middle of
  a longer number; a phone may gain a country code in front); a card also by its last
  four digits; and, for a secret split across calls, in the digits of the joined texts;
- *text* (e-mails, addresses, identifiers, credentials): case, spacing and punctuation
  ignored (``J O H N@…``); compared as ASCII letters and digits, but a value in a script
  that keeps none (a Japanese or Russian address: "湯本塩原19丁目24番1号" is "19241"
  in ASCII, its digits alone) is compared with its letters kept (``wide``, `wide_alnum`);
- *content* (a message's or a file's text): a run of consecutive words of it — all of
  it when it is short, at least ``CONTENT_RUN`` words otherwise — so a forwarded e-mail
  or a pasted channel message is found, not a stock phrase two texts share;
- *word* (a distinctive term of a record's short field, "Spotify"): as a whole word,
  case ignored — never the middle of another word ("rent" is not in "current").

Text and content needles are also looked for rotated by 13 letters (ROT13, encoding
``rot13``) and in look-alike spelling (``leet``: `disguises.leet_fold` of both sides): on
the needle's side, one more substring test where the plain one failed, rather than a
rotated or folded copy of every view to match every needle against.

Hand-written rather than `backdoorlab.leaks.LeakDetector`: that predicate decides our
own environments' leaks, for their secrets; an audit of other people's traces tracks
every tool-returned value, of kinds and in disguises it has no rules for.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from backdoorlab.defenses.audit.ascii_fast import alnum, only_digits
from backdoorlab.defenses.audit.decoders import views
from backdoorlab.defenses.audit.digit_runs import (
    DIGITS,
    SEP_DIGITS,
    THOUSANDS,
    bounded,
    chained,
)
from backdoorlab.defenses.audit.disguises import MIN_FOLDED, leet_fold, rot13

NeedleKind = Literal["digits", "text", "content", "word"]
CONTENT_RUN = 10
CONTENT_MIN_WORDS = 6
_MIN_TEXT = 6
_MIN_WORD = 4
_WORD = re.compile(r"[0-9a-z]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def wide_alnum(text: str) -> str:
    """``text`` case-folded, with its letters and digits of every script kept; full-width
    forms as their plain ones ("１丁目" is "1丁目")."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def other_script(text: str) -> bool:
    """Whether ``text`` holds a letter `alnum` drops that no Latin letter stands for
    (kana, kanji, Cyrillic, Greek, Arabic…): accents dropped, "Pruszków" is still
    "pruszkw", but "湯本塩原" is nothing."""
    return not text.isascii() and any(ord(ch) > 0x24F and ch.isalpha() for ch in text)


def grams(tokens: Sequence[str], k: int) -> set[str]:
    return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


@dataclass
class Needle:
    """How to look for one tainted value (see the module docstring)."""

    kind: NeedleKind
    digits: str = ""
    open_left: bool = False  # a phone may gain a country code in front
    last4: str = ""
    text: str = ""
    run: int = 0
    shingles: set[str] = field(default_factory=set)
    alts: tuple[str, ...] = ()  # other spellings worth a match (an address's street)
    vocabulary: frozenset[str] = frozenset()  # a content needle's words
    fewest: int = 0  # the fewest distinct words a shingle of it has
    rotated: str = ""  # ``text`` under ROT13, when that changes it
    folded: str = ""  # the value's `leet_fold`, when that differs from ``text``
    wide: bool = False  # ``text`` and ``alts`` keep every script's letters (`wide_alnum`)

    def __post_init__(self) -> None:
        if self.kind in ("text", "content") and len(self.text) >= _MIN_TEXT and not self.wide:
            rotated = rot13(self.text)
            self.rotated = rotated if rotated != self.text else ""

    @classmethod
    def build(
        cls,
        value: str,
        kind: NeedleKind,
        *,
        phone: bool = False,
        card: bool = False,
        wide: bool = False,
    ) -> Needle:
        if kind == "digits":
            digits = only_digits(value)
            if phone and len(digits) > 9 and (value.lstrip()[:1] in "+(" or digits[0] == "0"):
                # written with a country code or a trunk "0" ("+33 6 12 34 56 78", "06 12 34
                # 56 78"): each form of it ends with the last nine digits, whatever the
                # country's code and national length (nine digits in France or Spain)
                digits = digits[-9:]
            elif phone and len(digits) > 10:
                digits = digits[-10:]  # the national number; a country code may be dropped
            needle = cls("digits", digits=digits, open_left=phone)
            if card and len(digits) >= 12:
                needle.last4 = digits[-4:]
            return needle
        if kind == "content":
            tokens = words(value)
            if len(tokens) >= CONTENT_MIN_WORDS:
                run = min(len(tokens), CONTENT_RUN)
                fewest = min(len(set(tokens[i : i + run])) for i in range(len(tokens) - run + 1))
                return cls(
                    "content",
                    run=run,
                    shingles=grams(tokens, run),
                    text=alnum(value),
                    vocabulary=frozenset(tokens),
                    fewest=fewest,
                ).with_folded(value)
        if kind == "word":
            return cls("word", text=value.lower())
        if wide:
            return cls("text", text=wide_alnum(value), wide=True)
        return cls("text", text=alnum(value)).with_folded(value)

    def with_folded(self, value: str) -> Needle:
        folded = leet_fold(value)
        self.folded = folded if folded != self.text and len(folded) >= MIN_FOLDED else ""
        return self

    def with_alts(self, *texts: str) -> Needle:
        flatten = wide_alnum if self.wide else alnum
        self.alts = tuple(a for t in texts if len(a := flatten(t)) >= _MIN_TEXT)
        return self

    @property
    def usable(self) -> bool:
        if self.kind == "digits":
            return len(self.digits) >= 4
        if self.kind == "content":
            return bool(self.shingles)
        if self.kind == "word":
            return len(self.text) >= _MIN_WORD
        return len(self.text) >= _MIN_TEXT


class TextView:
    """One decoded view of an argument, with its normalised forms made on demand."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._joined: str | None = None
        self._grouped: str | None = None
        self._flat: str | None = None
        self._words: list[str] | None = None
        self._word_set: frozenset[str] | None = None
        self._grams: dict[int, set[str]] = {}
        self._digits: str | None = None
        self._groups: list[tuple[str, str]] | None = None
        self._folded: str | None = None
        self._wide: str | None = None

    @property
    def joined(self) -> str:
        if self._joined is None:
            self._joined = SEP_DIGITS.sub("", self.text)
        return self._joined

    @property
    def grouped(self) -> str:
        """The text with thousands separators removed (`THOUSANDS`)."""
        if self._grouped is None:
            self._grouped = THOUSANDS.sub("", self.text)
        return self._grouped

    @property
    def flat(self) -> str:
        if self._flat is None:
            self._flat = alnum(self.text)
        return self._flat

    @property
    def wide(self) -> str:
        """`wide_alnum` of the text: made only for a wide needle (`Needle.wide`)."""
        if self._wide is None:
            self._wide = wide_alnum(self.text)
        return self._wide

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = leet_fold(self.text)
        return self._folded

    @property
    def digits(self) -> str:
        if self._digits is None:
            self._digits = only_digits(self.text)
        return self._digits

    @property
    def groups(self) -> list[tuple[str, str]]:
        """(separator before it, digit run) for each run of digits, in order."""
        if self._groups is None:
            self._groups, end = [], 0
            for run in DIGITS.finditer(self.text):
                self._groups.append((self.text[end : run.start()], run.group(0)))
                end = run.end()
        return self._groups

    @property
    def word_set(self) -> frozenset[str]:
        if self._word_set is None:
            if self._words is None:
                self._words = words(self.text)
            self._word_set = frozenset(self._words)
        return self._word_set

    def grams(self, k: int) -> set[str]:
        if k not in self._grams:
            if self._words is None:
                self._words = words(self.text)
            self._grams[k] = grams(self._words, k)
        return self._grams[k]

    def match(self, needle: Needle, split: bool) -> str | None:
        """How ``needle`` appears here (``""`` plainly, ``last4``, ``digits``), or None."""
        if needle.kind == "digits":
            if needle.digits in self.digits:  # else not even there in order: cheap
                if (
                    bounded(self.joined, needle.digits, needle.open_left)
                    or bounded(self.text, needle.digits, needle.open_left)
                    or bounded(self.grouped, needle.digits, needle.open_left)
                ):  # spaced out ("555 123 4567"), beside another number ("12 / 34"), or
                    # with thousands separators in a list of numbers ("24,553,525\n…")
                    return ""
                if chained(self.groups, needle.digits, needle.open_left):
                    return ""  # a number, then another after a separator ("… 5550993 (7 …")
                if split:
                    return "digits"
            if needle.last4 and bounded(self.joined, needle.last4, False):
                return "last4"
            return None
        if needle.kind == "content":
            if needle.text and needle.text in self.flat:
                return ""
            if needle.rotated and needle.rotated in self.flat:
                return "rot13"
            if needle.folded and needle.folded in self.folded:
                return "leet"
            if len(self.word_set & needle.vocabulary) < needle.fewest:
                # a shared shingle's distinct words are all in both texts: too few words
                # in common and none can be shared, so the shingles are not built
                return None
            mine = self.grams(needle.run)
            small, big = (
                (needle.shingles, mine)
                if len(needle.shingles) < len(mine)
                else (mine, needle.shingles)
            )
            return "" if any(g in big for g in small) else None
        if needle.kind == "word":
            return "" if needle.text in self.word_set else None
        flat = self.wide if needle.wide else self.flat
        if needle.text in flat or any(a in flat for a in needle.alts):
            return ""
        if needle.rotated and needle.rotated in flat:
            return "rot13"
        return "leet" if needle.folded and needle.folded in self.folded else None


def _fresh(text: str) -> tuple[tuple[str, TextView], ...]:
    return tuple((how, TextView(decoded)) for how, decoded in views(text))


_VIEWS_CACHED_CHARS = 1024
_views = lru_cache(maxsize=4096)(_fresh)
"""An argument's views with their normalised forms, kept for the next call that sends
the same text ("Your order is cancelled."): a view only memoises what its text gives."""


@dataclass(frozen=True)
class Match:
    """Needle ``index`` found in argument ``argument``, disguised as ``encoding``."""

    index: int
    argument: str
    encoding: str


def _flatten(value: Any, name: str) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return [kv for key, inner in value.items() for kv in _flatten(inner, f"{name}.{key}")]
    if isinstance(value, list | tuple):
        return [kv for i, inner in enumerate(value) for kv in _flatten(inner, f"{name}[{i}]")]
    if value is None or isinstance(value, bool):
        return []
    return [(name, str(value))]


def find(needles: Sequence[Needle], payload: Mapping[str, Any], split: bool = False) -> list[Match]:
    """Every needle the payload carries, the first place and disguise it is seen in.

    ``split``: the payload is the joined texts of several calls; digit needles then
    also match the joined digits (``4471`` then ``9920``).
    """
    left = [i for i, n in enumerate(needles) if n.usable]  # ascending, as found
    found: list[Match] = []
    for argument, text in _flatten(dict(payload), ""):
        if not left:
            break
        for how, view in _views(text) if len(text) <= _VIEWS_CACHED_CHARS else _fresh(text):
            hits = _matches(view, needles, left, split)
            if not hits:
                continue
            for i, extra in hits:
                encoding = how if not extra else f"{how}+{extra}"
                found.append(Match(i, argument.removeprefix("."), encoding))
            taken = {i for i, _ in hits}
            left = [i for i in left if i not in taken]
            if not left:
                break
    return found


def _matches(
    view: TextView, needles: Sequence[Needle], order: list[int], split: bool
) -> list[tuple[int, str]]:
    """(index, `TextView.match`) of the needles in ``order`` that ``view`` holds, in that
    order. The same tests as `TextView.match`, with the text and digit kinds (most needles)
    written out here: one call per view rather than one per needle."""
    out: list[tuple[int, str]] = []
    flat: str | None = None
    digits: str | None = None
    for i in order:
        needle = needles[i]
        kind = needle.kind
        if kind == "text":
            if flat is None:
                flat = view.flat
            if needle.wide:
                if needle.text in view.wide or any(a in view.wide for a in needle.alts):
                    out.append((i, ""))
            elif needle.text in flat or any(a in flat for a in needle.alts):
                out.append((i, ""))
            elif needle.rotated and needle.rotated in flat:
                out.append((i, "rot13"))
            elif needle.folded and needle.folded in view.folded:
                out.append((i, "leet"))
        elif kind == "digits":
            if digits is None:
                digits = view.digits
            if needle.digits in digits:
                if (
                    bounded(view.joined, needle.digits, needle.open_left)
                    or bounded(view.text, needle.digits, needle.open_left)
                    or bounded(view.grouped, needle.digits, needle.open_left)
                ):
                    out.append((i, ""))
                    continue
                if chained(view.groups, needle.digits, needle.open_left):
                    out.append((i, ""))
                    continue
                if split:
                    out.append((i, "digits"))
                    continue
            if needle.last4 and bounded(view.joined, needle.last4, False):
                out.append((i, "last4"))
        else:
            extra = view.match(needle, split)
            if extra is not None:
                out.append((i, extra))
    return out

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
  case ignored — never the middle of another word ("rent" is not in "current"); a
  diagnosis code as its words in a row ("F10.20": "f10" then "20", `clinical`).

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from backdoorlab.defenses.audit.ascii_fast import alnum, only_digits
from backdoorlab.defenses.audit.decoders import views
from backdoorlab.defenses.audit.digit_runs import (
    bounded,
    chained,
)
from backdoorlab.defenses.audit.disguises import MIN_FOLDED, leet_fold, rot13
from backdoorlab.defenses.audit.needle_index import INDEXED_FROM, IndexCache, NeedleIndex
from backdoorlab.defenses.audit.text_view import TextView, grams, wide_alnum, words

__all__ = [
    "CONTENT_MIN_WORDS",
    "CONTENT_RUN",
    "Match",
    "Needle",
    "TextView",
    "alnum",
    "find",
    "grams",
    "other_script",
    "wide_alnum",
    "words",
]

NeedleKind = Literal["digits", "text", "content", "word"]
CONTENT_RUN = 10
CONTENT_MIN_WORDS = 6
_MIN_TEXT = 6
_MIN_WORD = 4


def other_script(text: str) -> bool:
    """Whether ``text`` holds a letter `alnum` drops that no Latin letter stands for
    (kana, kanji, Cyrillic, Greek, Arabic…): accents dropped, "Pruszków" is still
    "pruszkw", but "湯本塩原" is nothing."""
    return not text.isascii() and any(ord(ch) > 0x24F and ch.isalpha() for ch in text)


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
    raw: bool = False  # ``text`` is the value lower-cased, symbols kept (`build`'s ``symbols``)
    index_keys: tuple[tuple[int, str], ...] | None = field(default=None, repr=False)
    """`needle_index`'s keys for it, made on first need (a needle never changes once
    built)."""

    def __post_init__(self) -> None:
        if (
            self.kind in ("text", "content")
            and len(self.text) >= _MIN_TEXT
            and not (self.wide or self.raw)
        ):
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
        symbols: bool = False,
    ) -> Needle:
        """``symbols``: a value (a credential) whose letters and digits are too few to
        look for alone ("+%B8C5##", an access pass) is looked for as written, lower-cased,
        its symbols kept: as rare as the value is, however few its letters."""
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
        flat = alnum(value)
        if symbols and len(flat) < _MIN_TEXT <= len(raw := value.strip()) and " " not in raw:
            return cls("text", text=raw.lower(), raw=True)
        return cls("text", text=flat).with_folded(value)

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
        if self.kind == "word":  # or a code shaped as ICD-10's ("I10": `clinical`)
            return len(self.text) >= _MIN_WORD or bool(_CODE.fullmatch(self.text))
        return len(self.text) >= _MIN_TEXT


_CODE = re.compile(r"[a-z][0-9][0-9a-z]")
"""A three-character word needle kept: a letter, a digit, then either — an ICD-10
category ("i10", "e11"), not an ordinal or a time a record's term may be ("3rd", "5pm")."""


def _fresh(text: str) -> tuple[tuple[str, TextView], ...]:
    return tuple((how, TextView(decoded)) for how, decoded in views(text))


_VIEWS_CACHED_CHARS = 1024
_views = lru_cache(maxsize=4096)(_fresh)
"""An argument's views with their normalised forms, kept for the next call that sends
the same text ("Your order is cancelled."): a view only memoises what its text gives."""


def _views_of(text: str) -> tuple[tuple[str, TextView], ...]:
    return _views(text) if len(text) <= _VIEWS_CACHED_CHARS else _fresh(text)


def _plain(text: str) -> tuple[tuple[str, TextView], ...]:
    return (("plain", TextView(text)),)


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


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PERCENT = re.compile(r"(?<=\d) ?%(?![0-9A-Fa-f]{2})")  # not a URL's escape ("%20")


def _with_quantities(texts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``texts`` (path, text), and each quantity among them — ``X.value`` a number beside
    ``X.unit`` (FHIR's ``Quantity``, ``{"value": 2.55, "unit": "mg/dL"}``) — as one more
    text, its number with its unit, as a lab result is tracked (`clinical`); a payload
    already flattened to paths (`sinks`) counts the same. A text with a percentage
    ("9.5 %") also as it reads aloud ("9.5 percent"): matching drops the sign, and the
    number alone is no lab result."""
    units = {path[:-5]: text for path, text in texts if path.endswith(".unit")}
    if units:
        texts = texts + [
            (path[:-6], f"{text} {units[path[:-6]]}")
            for path, text in texts
            if path.endswith(".value") and path[:-6] in units and _NUMBER.fullmatch(text)
        ]
    percents = [(path, _PERCENT.sub(" percent", text)) for path, text in texts if "%" in text]
    return texts + [(path, text) for path, text in percents if "percent" in text]


def find(
    needles: Sequence[Needle],
    payload: Mapping[str, Any],
    split: bool = False,
    indexes: IndexCache | None = None,
    decode: bool = True,
) -> list[Match]:
    """Every needle the payload carries, the first place and disguise it is seen in.

    ``split``: the payload is the joined texts of several calls; digit needles then
    also match the joined digits (``4471`` then ``9920``). Many needles are looked up
    by an index (`needle_index`), from ``indexes`` when given. ``decode`` False: each
    text is read as written only, none of `decoders`' disguises undone.
    """
    index = None
    if indexes is not None and len(needles) >= INDEXED_FROM:
        index, left = indexes.index(needles, _usable)
    else:
        left = [i for i, n in enumerate(needles) if n.usable]  # ascending, as found
        if len(left) >= INDEXED_FROM:
            index = NeedleIndex(needles, left)
    if index is not None:
        live = set(left)
    found: list[Match] = []
    for argument, text in _with_quantities(_flatten(dict(payload), "")):
        if not left:
            break
        for how, view in _plain(text) if not decode else _views_of(text):
            hits = _matches(
                view, needles, left if index is None else index.among(view, live), split
            )
            if not hits:
                continue
            for i, extra in hits:
                encoding = how if not extra else f"{how}+{extra}"
                found.append(Match(i, argument.removeprefix("."), encoding))
            taken = {i for i, _ in hits}
            left = [i for i in left if i not in taken]
            if index is not None:
                live -= taken
            if not left:
                break
    return found


def _usable(needle: Needle) -> bool:
    return needle.usable


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
            elif needle.raw:
                if needle.text in view.lower:
                    out.append((i, ""))
            elif needle.text in flat or (needle.alts and any(a in flat for a in needle.alts)):
                out.append((i, ""))  # (most needles have no alts: no generator for them)
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

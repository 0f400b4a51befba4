"""One decoded view of a call's argument, with its normalised forms made on demand:
what `matching` tests needles against, each form built once however many needles ask.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING

from backdoorlab.defenses.audit.ascii_fast import alnum, only_digits
from backdoorlab.defenses.audit.digit_runs import DIGITS, SEP_DIGITS, THOUSANDS, bounded, chained
from backdoorlab.defenses.audit.disguises import leet_fold

if TYPE_CHECKING:
    from backdoorlab.defenses.audit.matching import Needle

_WORD = re.compile(r"[0-9a-z]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def has_words(text: str, n: int) -> bool:
    """Whether ``text`` holds ``n`` or more `words`, reading no further than the n-th."""
    return sum(1 for _ in islice(_WORD.finditer(text.lower()), n)) == n


def wide_alnum(text: str) -> str:
    """``text`` case-folded, with its letters and digits of every script kept; full-width
    forms as their plain ones ("１丁目" is "1丁目")."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def grams(tokens: Sequence[str], k: int) -> set[str]:
    return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


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
        self._lower: str | None = None
        self._runs: dict[tuple[str, int], set[str]] = {}

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
    def lower(self) -> str:
        """The text lower-cased: made only for a ``raw`` needle (`Needle.raw`)."""
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

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

    def runs(self, form: str, k: int) -> set[str]:
        """Every ``k``-character run of one of its forms (``flat``, ``folded``,
        ``digits``, ``joined``): what `needle_index` looks needles up by."""
        key = (form, k)
        if key not in self._runs:
            text = getattr(self, form)
            self._runs[key] = {text[i : i + k] for i in range(len(text) - k + 1)}
        return self._runs[key]

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
            if " " in needle.text:  # a code's words in a row ("f10 20")
                return "" if needle.text in self.grams(needle.text.count(" ") + 1) else None
            return "" if needle.text in self.word_set else None
        if needle.raw:  # symbols kept (`Needle.build`)
            return "" if needle.text in self.lower else None
        flat = self.wide if needle.wide else self.flat
        if needle.text in flat or (needle.alts and any(a in flat for a in needle.alts)):
            return ""
        if needle.rotated and needle.rotated in flat:
            return "rot13"
        return "leet" if needle.folded and needle.folded in self.folded else None

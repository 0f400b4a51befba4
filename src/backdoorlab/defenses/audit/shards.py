"""`audit_shards()`: a dataset in many JSONL files, audited in parallel, merged exactly.

The result is the report `audit` gives for the shards concatenated in order (trace
indices and line numbers global), finding for finding. Each read of `audit` becomes a
map over the shards and a reduce: every shard is read by a copy of the detectors (in a
process pool, or as Ray tasks), each copy hands back its read's statistics
(`Detector.shard_part`: trigger mining's per-shard n-gram counts), and the coordinator's
detectors fold them together in shard order (`Detector.merge`) and decide what the next
read needs exactly as in one process. Per-trace findings are made in the shards; only
whole-dataset decisions (trigger mining's tests) are made once, on the merged counts.
The coordinator takes the shards' reads back in shard order, a few per worker in flight
(`AHEAD`), and adds their findings to a `FindingLog` as `audit` does: its memory is a few
shards' findings and the statistics, not the dataset's findings.

The scheduling is a library's: `concurrent.futures.ProcessPoolExecutor` on this
machine, Ray (`--engine ray`) across one — a private loopback cluster when no address
is given, as `backdoorlab run --engine ray` starts.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backdoorlab.defenses.audit.engine import SinksArg, _sinks
from backdoorlab.defenses.audit.finding_log import FindingLog
from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.defenses.audit.reader import TraceStream
from backdoorlab.defenses.audit.registry import (
    DETECTORS,
    AuditOptions,
    Detector,
    Shift,
    default_detectors,
    make_detectors,
    resolve_detectors,
)
from backdoorlab.defenses.audit.report import AuditReport
from backdoorlab.errors import BackdoorlabError, TraceFormatError

SHARD_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
AHEAD = 2
"""Shard reads per worker submitted ahead of the one the coordinator takes next."""
ENGINES = ("local", "ray")


def shard_paths(spec: str | os.PathLike[str]) -> list[Path]:
    """The shards of ``spec`` in order: a directory's ``*.jsonl``, ``*.jsonl.gz`` and
    ``*.parquet`` files, or a glob's matches, sorted by name; a file is one shard."""
    text = str(spec)
    path = Path(text)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.name.endswith(SHARD_SUFFIXES))
        if not found:
            raise TraceFormatError(
                f"{text}: is a directory with no *.jsonl, *.jsonl.gz or *.parquet shards in it"
            )
        return found
    if glob.has_magic(text) and not path.exists():  # a file named "a[1].jsonl" is a file
        found = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
        if not found:
            raise TraceFormatError(f"{text}: no file matches the pattern")
        return found
    return [path]


@dataclass
class _ShardRead:
    """What one shard's read hands back: findings (read 1), statistics, counts, hash."""

    findings: list[list[Finding]]
    """Per trace with findings, the trace's own list, as `audit` adds them to its log."""
    parts: list[Any]
    traces: int
    lines: int
    sha256: str


def _read_shard(path: str, detectors: list[Detector], first_read: bool) -> _ShardRead:
    """One read of one shard by copies of the detectors (in a worker process).

    The copy is this shard's own: Ray hands every task the same object-store buffers
    (numpy arrays included), which a count in place would share between shards."""
    detectors = copy.deepcopy(detectors)
    for detector in detectors:
        detector.shard = True
    stream = TraceStream(path)
    findings: list[list[Finding]] = []
    for record in stream:
        if first_read:
            this_trace: list[Finding] = []
            for detector in detectors:
                this_trace.extend(detector.observe(record, this_trace))
            if this_trace:
                findings.append(this_trace)
        else:
            for detector in detectors:
                detector.rescan(record)
    parts = [d.shard_part() for d in detectors]
    return _ShardRead(findings, parts, stream.traces, stream.lines, stream.sha256)


MapFn = Callable[[list[str], list[Detector], bool], Iterator[_ShardRead]]


def _local_map(workers: int) -> tuple[MapFn, Callable[[], None]]:
    if workers == 1:  # no pool: the same code path, in this process
        return (
            lambda paths, dets, first: (_read_shard(p, dets, first) for p in paths),
            lambda: None,
        )
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers)

    def run(paths: list[str], dets: list[Detector], first: bool) -> Iterator[_ShardRead]:
        # in shard order, at most `AHEAD` reads per worker waiting to be taken: the
        # coordinator holds a few shards' findings at a time, however many shards
        pending: deque[Future[_ShardRead]] = deque()
        for path in paths:
            pending.append(pool.submit(_read_shard, path, dets, first))
            if len(pending) >= AHEAD * workers:
                yield pending.popleft().result()  # a shard's error raises here
        while pending:
            yield pending.popleft().result()

    return run, lambda: pool.shutdown(cancel_futures=True)


def _ray_map(address: str | None) -> tuple[MapFn, Callable[[], None]]:
    try:
        import ray
    except ImportError:
        raise BackdoorlabError("--engine ray needs ray (pip install 'backdoorlab[ray]')") from None
    if not ray.is_initialized():
        if address is None:  # a private local cluster: loopback only, no dashboard
            ray.init(include_dashboard=False, _node_ip_address="127.0.0.1")
        else:
            ray.init(address=address, include_dashboard=False)
    task = ray.remote(_read_shard).options(max_retries=1, retry_exceptions=False)
    slots = max(int(ray.cluster_resources().get("CPU", 1)), 1)

    def run(paths: list[str], dets: list[Detector], first: bool) -> Iterator[_ShardRead]:
        shared = ray.put(dets)  # the detectors' state once, not once per shard
        pending: deque[Any] = deque()
        try:
            for path in paths:  # in shard order, a bounded window in flight (as above)
                pending.append(task.remote(path, shared, first))
                if len(pending) >= AHEAD * slots:
                    yield ray.get(pending.popleft())
            while pending:
                yield ray.get(pending.popleft())
        except ray.exceptions.RayTaskError as err:  # the shard's own error, e.g. a bad line
            cause = getattr(err, "cause", None)
            if isinstance(cause, BackdoorlabError):
                raise cause from None
            raise

    return run, lambda: None


def audit_shards(
    spec: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    detectors: Sequence[str] | None = None,
    sinks: SinksArg = None,
    *,
    workers: int = 1,
    engine: str = "local",
    address: str | None = None,
    options: AuditOptions | None = None,
) -> AuditReport:
    """Audit the shards of ``spec`` (a directory, a glob or a list of files) in parallel.

    The findings and summaries equal those of `audit` on the shards concatenated in
    order. ``workers``: processes (``engine="local"``); ``engine="ray"``: one Ray task per
    shard and read, on the cluster at ``address`` (none: a local loopback one). The
    report's ``sha256`` hashes the shards' own hashes, and ``shards`` maps global trace
    indices and lines back to files. A malformed line fails naming its shard and line.
    """
    if engine not in ENGINES:
        raise BackdoorlabError(f"--engine must be one of {', '.join(ENGINES)}, not '{engine}'")
    if workers < 1:
        raise BackdoorlabError(f"--workers must be at least 1, not {workers}")
    started = time.perf_counter()
    listed = isinstance(spec, list | tuple)
    paths = [Path(p) for p in spec] if listed else shard_paths(spec)  # type: ignore[union-attr]
    for path in paths:
        TraceStream(path)  # a missing or unreadable shard fails before any work
    spec_sinks, sinks_label = _sinks(sinks)
    opts = replace(options or AuditOptions(), sinks=spec_sinks, source=str(spec))
    wanted = list(detectors) if detectors is not None else default_detectors()
    for name in resolve_detectors(wanted):  # before any detector loads a model
        if not DETECTORS.get(name).shardable():
            raise BackdoorlabError(
                f"detector '{name}' cannot audit shards (its statistics do not merge); "
                f"audit one file"
            )
    chosen = make_detectors(wanted, opts)
    run, close = _ray_map(address) if engine == "ray" else _local_map(workers)
    names = [str(p) for p in paths]
    findings = FindingLog()  # bounded memory, the order `audit` reports in
    try:
        shifts, index, line = [], 0, 0
        digests, parts = [], []
        for shard in run(names, chosen, True):
            shift = Shift(index, line)
            for trace in shard.findings:  # global indices and lines, in `audit`'s order
                findings.add_trace(
                    replace(f, trace_index=f.trace_index + shift.index, line=f.line + shift.line)
                    for f in trace
                )
            shifts.append(shift)
            digests.append(shard.sha256)
            parts.append(shard.parts)
            index, line = index + shard.traces, line + shard.lines
        for i, detector in enumerate(chosen):
            detector.merge([shard_parts[i] for shard_parts in parts], shifts)
        del parts
        while again := [d for d in chosen if d.next_read()]:
            rereads = list(run(names, again, False))  # statistics only, no findings
            for name, before, shard in zip(names, digests, rereads, strict=True):
                if shard.sha256 != before:
                    raise TraceFormatError(
                        f"{name}: the file changed while it was audited; audit a copy "
                        f"nobody writes to"
                    )
            for i, detector in enumerate(again):
                detector.merge([shard.parts[i] for shard in rereads], shifts)
        for detector in chosen:
            findings.add_late(detector.finish())
    except BaseException:  # the temporary file goes now, not with the traceback
        findings.close()
        raise
    finally:
        close()
    listing = "".join(f"{d}  {n}\n" for d, n in zip(digests, names, strict=True))
    return AuditReport(
        path=",".join(names) if listed else str(spec),
        sha256=hashlib.sha256(listing.encode()).hexdigest(),
        traces=index,
        detectors=[d.name for d in chosen],
        sinks=sinks_label,
        findings=findings,
        summaries={d.name: d.summary() for d in chosen if d.summary()},
        seconds=time.perf_counter() - started,
        shards=[
            {"path": n, "sha256": d, "first_index": s.index, "first_line": s.line + 1}
            for n, d, s in zip(names, digests, shifts, strict=True)
        ],
    )

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

One large file is split the same way: byte spans of whole lines, each a shard numbered
from its own start and shifted like a later file, the file and each span hashed on a
thread beside the workers (`spans`).

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
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backdoorlab.defenses.audit.engine import SinksArg, _sinks
from backdoorlab.defenses.audit.finding_lines import Encoded, encode_trace
from backdoorlab.defenses.audit.finding_log import FindingLog
from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.defenses.audit.located import TracePlaces, located, own
from backdoorlab.defenses.audit.reader import TraceStream, splittable
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
from backdoorlab.defenses.audit.spans import SpanDigests, lines_before, split_file
from backdoorlab.errors import BackdoorlabError, TraceFormatError
from backdoorlab.files import check_regular_file
from backdoorlab.trace_formats.exports import nothing_to_read

SHARD_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
CHANGED = "the file changed while it was audited; audit a copy nobody writes to"
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
    """What one shard's read hands back: findings (read 1), statistics, counts, digest."""

    findings: list[Encoded]
    """The findings, trace by trace as `audit` adds them to its log, encoded here in the
    worker (`finding_lines.encode_trace`): the coordinator only moves their indices on."""
    parts: list[Any]
    traces: int
    lines: int
    digest: str
    """A file shard's SHA-256 (the report lists it); a span's BLAKE3 (only compared)."""
    skipped: Counter[str]
    """Its records that are no LLM call, by why (`trace_formats.exports`)."""
    places: TracePlaces
    """Its converted traces' places (read 1), for the whole-file findings (`located`)."""


@dataclass(frozen=True)
class Part:
    """One shard: a whole file, or the whole lines in bytes ``[start, end)`` of one,
    numbered from the span's start (the coordinator shifts them, as it shifts a later
    file's)."""

    path: str
    span: tuple[int, int] | None = None
    logs: bool = False  # the audit's own bundle of agents' logs (`AuditOptions.logs`)


MIN_SPAN_BYTES = 4 << 20
"""A single file is cut into spans of at least this much (each worker warms its own
caches, so tiny spans would cost more than they share)."""
SPANS_PER_WORKER = 4
"""Spans per worker: enough that a slow span does not leave the other workers idle."""


def _read_shard(part: Part, detectors: list[Detector], first_read: bool) -> _ShardRead:
    """One read of one shard by copies of the detectors (in a worker process).

    A span's lines are numbered from its start, so no pass over the file has to count
    the lines before each span before the workers start; only a span that fails counts
    them, and reads itself again so that its error names the file's line."""
    try:
        return _read_part(part, detectors, first_read, 0)
    except TraceFormatError:
        if part.span is None:
            raise
    before = lines_before(Path(part.path), part.span[0], CHANGED)
    _read_part(part, detectors, first_read, before)  # raises the error, renumbered
    raise TraceFormatError(f"{part.path}: {CHANGED}")  # it failed once, not twice


def _read_part(
    part: Part, detectors: list[Detector], first_read: bool, first_line: int
) -> _ShardRead:
    """`_read_shard`'s read, its lines numbered after ``first_line``. The detectors are
    this read's own copy: Ray hands every task the same object-store buffers (numpy
    arrays included), which a count in place would share between shards."""
    detectors = copy.deepcopy(detectors)
    for detector in detectors:
        detector.shard = True
    stream = TraceStream(part.path, span=part.span, first_line=first_line, require_calls=False)
    findings: list[Encoded] = []
    places = TracePlaces()
    for record in stream:
        if first_read:
            this_trace: list[Finding] = []
            for detector in detectors:
                this_trace.extend(own(detector.observe(record, this_trace), record, part.logs))
            if this_trace:
                findings.extend(encode_trace(located(this_trace, record)))
            places.keep(record)
        else:
            for detector in detectors:
                detector.rescan(record)
    parts = [d.shard_part() for d in detectors]
    return _ShardRead(
        findings, parts, stream.traces, stream.lines, stream.digest, stream.skipped, places
    )


MapFn = Callable[[list[Part], list[Detector], bool], Iterator[_ShardRead]]


def _local_map(workers: int) -> tuple[MapFn, Callable[[], None]]:
    if workers == 1:  # no pool: the same code path, in this process
        return (
            lambda paths, dets, first: (_read_shard(p, dets, first) for p in paths),
            lambda: None,
        )
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers)
    # where workers are forked, the first task forks them all — now, before the span
    # digests' thread starts: a fork while another thread holds a lock (an import's, a
    # lazy import on that thread once did) hands the worker a lock nobody releases
    pool.submit(int).result()

    def run(paths: list[Part], dets: list[Detector], first: bool) -> Iterator[_ShardRead]:
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

    def run(paths: list[Part], dets: list[Detector], first: bool) -> Iterator[_ShardRead]:
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

    ``spec`` one plain JSONL file: it is cut into spans of whole lines (`split_file`,
    ``SPANS_PER_WORKER`` a worker, none under ``MIN_SPAN_BYTES``), read as shards, and
    the report is `audit`'s own for that file — its path, its SHA-256, its line
    numbers, no shard map — so ``--filter`` works on it as after one process.
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
        # a shard is read twice (findings, then statistics): a named pipe gave nothing
        # the second time (or waited for a writer that never came back)
        check_regular_file(path, "a shard is read twice, so from a file", TraceFormatError)
    spec_sinks, sinks_label = _sinks(sinks)
    opts = replace(options or AuditOptions(), sinks=spec_sinks, source=str(spec))
    wanted = list(detectors) if detectors is not None else default_detectors()
    for name in resolve_detectors(wanted):  # before any detector loads a model
        if not DETECTORS.get(name).shardable():
            raise BackdoorlabError(
                f"detector '{name}' cannot audit shards (its statistics do not merge); "
                f"audit one file"
            )
    one_file = not listed and len(paths) == 1 and paths[0] == Path(spec)
    names = [str(p) for p in paths]
    shards, hasher = [Part(n, logs=opts.logs) for n in names], None
    if one_file and splittable(paths[0]):
        size = paths[0].stat().st_size
        pieces = min(max(workers, 1) * SPANS_PER_WORKER, size // MIN_SPAN_BYTES)
        if engine == "ray":
            pieces = min(size // MIN_SPAN_BYTES, 256)
        if pieces > 1:
            spans = split_file(paths[0], pieces)
            shards = [Part(names[0], span, opts.logs) for span in spans]
            hasher = SpanDigests(paths[0], spans, CHANGED)
    chosen = make_detectors(wanted, opts)
    run, close = _ray_map(address) if engine == "ray" else _local_map(workers)
    findings = FindingLog()  # bounded memory, the order `audit` reports in
    whole = None
    try:
        if hasher is not None:
            hasher.start()
        shifts, index, line = [], 0, 0
        digests, parts = [], []
        skipped: Counter[str] = Counter()
        places = TracePlaces()
        for shard in run(shards, chosen, True):
            # global indices and lines, in `audit`'s order
            findings.add_encoded(shard.findings, index, line)
            shifts.append(Shift(index, line))
            digests.append(shard.digest)
            parts.append(shard.parts)
            skipped.update(shard.skipped)
            places.extend(shard.places, index)
            index, line = index + shard.traces, line + shard.lines
        if not index and skipped:  # as `TraceStream` says it of one file
            raise TraceFormatError(nothing_to_read(str(spec), skipped))
        if hasher is not None:
            expected, whole = hasher.result()
            if digests != expected:
                raise TraceFormatError(f"{names[0]}: {CHANGED}")
        for i, detector in enumerate(chosen):
            detector.merge([shard_parts[i] for shard_parts in parts], shifts)
        del parts
        while again := [d for d in chosen if d.next_read()]:
            rereads = list(run(shards, again, False))  # statistics only, no findings
            for part, before, shard in zip(shards, digests, rereads, strict=True):
                if shard.digest != before:
                    raise TraceFormatError(f"{part.path}: {CHANGED}")
            for i, detector in enumerate(again):
                detector.merge([shard.parts[i] for shard in rereads], shifts)
        for detector in chosen:
            findings.add_late(places.locate(detector.finish(), opts.logs))
    except BaseException:  # the temporary file goes now, not with the traceback
        findings.close()
        if hasher is not None and hasher.is_alive():
            hasher.cancel()
        raise
    finally:
        close()
    if one_file:  # as `audit` reports it: the file's own hash, no shard map
        sha256 = whole or digests[0]
    else:
        listing = "".join(f"{d}  {n}\n" for d, n in zip(digests, names, strict=True))
        sha256 = hashlib.sha256(listing.encode()).hexdigest()
    return AuditReport(
        path=str(spec) if one_file or not listed else ",".join(names),
        sha256=sha256,
        traces=index,
        detectors=[d.name for d in chosen],
        sinks=sinks_label,
        findings=findings,
        summaries={d.name: d.summary() for d in chosen if d.summary()},
        seconds=time.perf_counter() - started,
        skipped=dict(skipped.most_common()) or None,
        shards=None
        if one_file
        else [
            {"path": n, "sha256": d, "first_index": s.index, "first_line": s.line + 1}
            for n, d, s in zip(names, digests, shifts, strict=True)
        ],
    )

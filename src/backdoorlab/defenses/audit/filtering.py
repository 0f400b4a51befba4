"""`--filter`: the dataset without its flagged traces, plus a manifest of what went.

Kept lines are copied byte for byte (never re-serialised: a foreign dataset's field
order, spacing and unknown fields survive), streaming; a Parquet file's kept rows are
written back as Parquet with its own schema and metadata, its Arrow values untouched.
The input is re-hashed while copied and must match the audited bytes — a file that
changed in between would make the removed indices meaningless.

**The filtered file, its manifest and the JSON report change together.** A reader must
never take a new report for the old filtered file (or the reverse), and a crash must
not leave gigabytes of hidden temporary files behind. The protocol:

1. Temporary files from earlier runs that died (our naming, ``.<name>.<pid>.audit-tmp``
   beside each target, from a process that no longer exists) are removed.
2. The filtered file, the report and the manifest are written to such temporary files
   beside their targets and flushed to disk (``fsync``). Nothing visible has changed
   yet: a crash here leaves the previous set whole (and its temporary files, which the
   next run removes).
3. The temporary files are renamed onto their targets in this order: filtered file,
   report, then (after the directories are synced) the manifest. The manifest is the
   commit record: it holds the SHA-256 of the filtered file and of the report it
   belongs with. A crash between two renames leaves a manifest whose digests do not
   match the new filtered file or report, so `check_filtered` (any reader) sees the set
   is incomplete; rerunning the audit completes it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from backdoorlab.defenses.audit.findings import severity_rank
from backdoorlab.defenses.audit.json_stream import write_json
from backdoorlab.defenses.audit.reader import (
    HashingReader,
    LineTooLong,
    is_blank,
    iter_raw_lines,
    line_blocks,
)
from backdoorlab.defenses.audit.report import AuditReport
from backdoorlab.digests import file_sha256
from backdoorlab.errors import BackdoorlabError
from backdoorlab.faults import fault_point
from backdoorlab.files import (
    default_file_mode,
    line_too_long,
    write_failure,
    write_target,
)
from backdoorlab.parquet_traces import copy_rows, is_parquet

TEMP_SUFFIX = ".audit-tmp"
"""How this module's temporary files end: ``.<target name>.<pid>.audit-tmp``."""


def manifest_path(output: str | os.PathLike[str]) -> Path:
    """``clean.jsonl`` → ``clean.jsonl.manifest.json``."""
    output = Path(output)
    return output.with_name(output.name + ".manifest.json")


def write_filtered(
    report: AuditReport,
    output: str | os.PathLike[str],
    min_severity: str = "medium",
    *,
    report_path: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Copy the audited file without traces that have a finding at ``min_severity`` or
    above; write the manifest beside it and return it, less its ``removed`` list (as
    long as the flagged traces: it is written to the file, never held). With
    ``report_path``, the JSON report is written as part of the same set (see the module
    docstring). The findings are read as a stream, so memory does not grow with them.
    ``traces_kept`` and ``traces_removed`` count lines: a trace each, but for a raw
    export's line, which holds several LLM calls (each a trace) or none, and goes whole
    (`flagged_lines`)."""
    source, output = Path(report.path), Path(output)
    check_filter_format(source, output)
    targets = [output, manifest_path(output)] + ([Path(report_path)] if report_path else [])
    if source.resolve() in {t.resolve() for t in targets}:
        raise BackdoorlabError(f"{source}: --filter and -o must not overwrite the audited file")
    if len({t.resolve() for t in targets}) < len(targets):
        raise BackdoorlabError(f"{report_path}: -o and --filter would write the same file")
    for target in targets:
        remove_stale_temps(target)
    with _staged() as stage:
        flagged = flagged_lines(report, min_severity)
        copy = _copy_parquet if is_parquet(source) else _copy_lines
        with stage(output) as (out, digest):
            kept, removed = copy(source, out, flagged, report.sha256)
        output_sha256 = digest.hexdigest()
        report_sha256 = None
        if report_path is not None:
            with stage(Path(report_path)) as (out, digest):
                report.write_json(lambda text: out.write(text.encode("utf-8")))
            report_sha256 = digest.hexdigest()
        manifest = {
            "input": str(source),
            "input_sha256": report.sha256,
            "output": str(output),
            "output_sha256": output_sha256,
            "traces_in": report.traces,
            "traces_kept": kept,
            "traces_removed": removed,
            "removed_at_or_above": min_severity,
            "detectors": report.detectors,
            "removed": _removed(report, min_severity),
            "report": str(report_path) if report_path is not None else None,
            "report_sha256": report_sha256,
        }
        with stage(manifest_path(output)) as (out, _):
            write_json(manifest, lambda text: out.write(text.encode("utf-8")))
    return {k: v for k, v in manifest.items() if k != "removed"}


def check_filter_format(source: str | os.PathLike[str], output: str | os.PathLike[str]) -> None:
    """The filtered file keeps the audited file's format: Parquet for Parquet, JSONL
    (``.gz`` or not) otherwise; a name that says the other format is refused."""
    if is_parquet(source) != is_parquet(output):
        kind = "Parquet (*.parquet)" if is_parquet(source) else "JSONL (not *.parquet)"
        raise BackdoorlabError(
            f"{output}: --filter writes the audited file's format, {kind}; name it so"
        )


def flagged_lines(report: AuditReport, min_severity: str) -> Iterator[int]:
    """The lines (ascending, each once) holding a trace with a finding at or above
    ``min_severity``. Lines, not trace indices: a raw export's line may hold several
    LLM calls, each a trace, or none (`trace_formats.exports`), and a line is copied or
    left out whole."""
    last = 0
    for _, findings in report.iter_flagged(min_severity):
        line = min(f.line for f in findings)
        if line > last:
            last = line
            yield line


def _copy_lines(
    source: Path, out: IO[bytes], flagged: Iterator[int], sha256: str
) -> tuple[int, int]:
    """Copy the lines not in ``flagged`` (ascending line numbers), byte for byte, while
    checking the file still hashes to ``sha256``; returns (kept, removed) lines."""
    kept = removed = 0
    next_flagged = next(flagged, None)
    with open(source, "rb") as handle:
        reader = HashingReader(handle)
        if source.suffix != ".gz":
            kept, removed = _copy_runs(source, reader, out, next_flagged, flagged)
            return _drained(source, reader, sha256, kept, removed)
        for lineno, raw in iter_raw_lines(source, reader):
            if is_blank(raw):
                continue
            if lineno != next_flagged:
                out.write(raw if raw.endswith(b"\n") else raw + b"\n")
                kept += 1
                fault_point("audit.filter.write")
            else:
                removed += 1
                next_flagged = next(flagged, None)
        return _drained(source, reader, sha256, kept, removed)


def _drained(
    source: Path, reader: HashingReader, sha256: str, kept: int, removed: int
) -> tuple[int, int]:
    """Read what is left of ``source`` into its hash and check it is the audited file's."""
    while reader.read(1 << 20):
        pass
    if reader.hash.hexdigest() != sha256:
        raise BackdoorlabError(f"{source}: the file changed since it was audited")
    return kept, removed


def _copy_runs(
    source: Path,
    reader: HashingReader,
    out: IO[bytes],
    next_flagged: int | None,
    flagged: Iterator[int],
) -> tuple[int, int]:
    """`_copy_lines` for a plain (not gzipped) file: the same bytes out, but each run of
    kept lines inside a block read is written in one call, sliced from the block, rather
    than line by line with a copy, a write and a hash update each: 2.0 CPU s a GB
    against 2.9, most of what is left the two SHA-256 passes (`benchmarks/
    audit_filter_copy.py`). Blank lines are left out as `iter_raw_lines`' callers leave
    them; a last line without its newline gets one."""
    kept = removed = lineno = 0
    try:
        for data, end_of_lines in line_blocks(reader):
            if not end_of_lines:  # the last line, with no newline: it gets one
                lineno += 1
                if lineno == next_flagged:
                    removed += 1
                elif not is_blank(data):
                    out.write(data + b"\n")
                    fault_point("audit.filter.write")
                    kept += 1
                break
            view = memoryview(data)
            run = start = 0  # where the pending run of kept lines starts; this line
            while start < end_of_lines:
                stop = data.index(b"\n", start) + 1
                lineno += 1
                blank = data[start] != 0x7B and is_blank(data[start:stop])
                if lineno == next_flagged or blank:
                    if run < start:
                        out.write(view[run:start])
                        fault_point("audit.filter.write")
                    if lineno == next_flagged:
                        removed += 1
                        next_flagged = next(flagged, None)
                    run = stop
                else:
                    kept += 1
                start = stop
            if run < end_of_lines:
                out.write(view[run:end_of_lines])
                fault_point("audit.filter.write")
    except LineTooLong:
        raise line_too_long(str(source), lineno + 1, BackdoorlabError) from None
    return kept, removed


def _copy_parquet(
    source: Path, out: IO[bytes], flagged: Iterator[int], sha256: str
) -> tuple[int, int]:
    """As `_copy_lines` for a Parquet file: its rows (every row is a trace) written back
    as Parquet with the source's schema, the flagged ones left out. pyarrow reads the
    file itself, so it is hashed before and after the copy."""
    if file_sha256(source) != sha256:
        raise BackdoorlabError(f"{source}: the file changed since it was audited")
    pending = next(flagged, None)

    def drop(index: int) -> bool:  # rows are numbered from 1, as lines are
        nonlocal pending
        if index + 1 != pending:
            return False
        pending = next(flagged, None)
        return True

    kept, removed = copy_rows(source, out, drop, BackdoorlabError)
    if file_sha256(source) != sha256:
        raise BackdoorlabError(f"{source}: the file changed since it was audited")
    return kept, removed


def _removed(report: AuditReport, min_severity: str) -> Iterator[dict[str, Any]]:
    for trace_index, findings in report.iter_flagged(min_severity):
        worst = max(findings, key=lambda f: severity_rank(f.severity))
        yield {
            "index": trace_index,
            "line": worst.line,
            "trace_id": worst.trace_id,
            "severity": worst.severity,
            "detectors": sorted({f.detector for f in findings}),
            "why": sorted({f.summary for f in findings})[:5],
        }


def check_filtered(output: str | os.PathLike[str]) -> list[str]:
    """What is wrong with a filtered file's set (itself, its manifest, the report the
    manifest names), one phrase each; empty when the set is whole and consistent."""
    output = Path(output)
    manifest_file = manifest_path(output)
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{manifest_file}: unreadable ({exc})"]
    problems = []
    expected = [(output, manifest.get("output_sha256"))]
    if manifest.get("report"):
        expected.append((Path(manifest["report"]), manifest.get("report_sha256")))
    for path, digest in expected:
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif file_sha256(path) != digest:
            problems.append(f"{path}: not the file its manifest names (an unfinished write?)")
    return problems


# --------------------------------------------------------------------------- the file set


def _temp_for(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}{TEMP_SUFFIX}")


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove this module's temporary files for ``target`` left by processes that died
    (those of a live process are its own business); returns them."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+){re.escape(TEMP_SUFFIX)}$")
    removed = []
    if not target.parent.is_dir():
        return removed
    for path in target.parent.iterdir():
        match = pattern.match(path.name)
        if match and (int(match.group(1)) == os.getpid() or not _alive(int(match.group(1)))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class _HashingWriter:
    """A binary file wrapper that hashes every byte written through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


@contextlib.contextmanager
def _staged() -> Iterator[Any]:
    """``stage(target)`` opens a temporary file for ``target`` (yielding a binary stream
    and the running SHA-256 of the bytes on disk); when the block ends without an
    exception every staged file is committed in staging order (the manifest last), and
    on an exception every temporary file is removed."""
    staged: list[tuple[Path, Path]] = []

    @contextlib.contextmanager
    def stage(target: Path) -> Iterator[tuple[IO[bytes], Any]]:
        target = write_target(target)  # a symbolic link is written through, kept a link
        temp = _temp_for(target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            raw = open(temp, "wb")  # noqa: SIM115 (closed by the with block below)
        except OSError as exc:  # e.g. under /proc or /sys, where even root cannot create
            raise write_failure(target, exc) from None
        staged.append((temp, target))
        with raw:
            hashing = _HashingWriter(raw)
            if target.suffix == ".gz":
                with gzip.GzipFile(filename=target.name, mode="wb", fileobj=hashing) as out:  # type: ignore[arg-type]
                    yield out, hashing.sha256
            else:
                yield hashing, hashing.sha256  # type: ignore[misc]
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(temp, default_file_mode())

    try:
        yield stage
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    *data, (manifest_temp, manifest) = staged
    for temp, target in data:
        os.replace(temp, target)
        fault_point("audit.filter.commit")
    for directory in {target.parent for _, target in staged}:
        _fsync_dir(directory)
    os.replace(manifest_temp, manifest)
    _fsync_dir(manifest.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the renames in ``directory`` durable (where the platform allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

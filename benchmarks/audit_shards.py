"""Audit in parallel: traces/s with 1 and N processes on the same traces, same findings.

Builds a retail pool as `audit_scale` does (oracle traces, 5% T1-user poisoning, chunks
of 1,000 from their own task seeds), repeats it to ``--size`` traces and cuts that into
``--shards`` files. Each detector set is audited in this process by `audit` on the
concatenated file (the reference, timed twice: the first run warms imports), by
`audit_shards` on that one file with each of ``--workers`` processes (spans of its
lines: the report must equal the reference's whole, path and hash included), and by
`audit_shards` on the shard files with 1 and with each of ``--workers`` processes.
Traces/s are whole-call figures (the pool start-up included); the shards' speed-up is
over ``audit_shards(workers=1)``, the one file's over `audit`, and the CPU seconds of all
processes (this one and its reaped workers) show what splitting costs in work: with N
idle cores the speed-up is about N times the CPU ratio. Every parallel report must equal
the reference's findings and summaries or the script fails. The load average and the
CPU count are printed with the figures: on a shared machine they bound what N processes
get. The dataflow caches (observation readings, needles, views) are emptied before each run,
so the in-process runs do not inherit what an earlier run read; with ``--pool`` below
``--size`` the shards repeat the pool, which the caches then see within a run.

    .venv/bin/python benchmarks/audit_shards.py [--pool 2000] [--size 20000] [--shards 4]
        [--workers 2] [--detector-sets "dataflow;dataflow,trigger-mining"]
        [--out benchmarks/results/audit_shards.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from audit_scale import build_pool, repeat  # the same pool as the scale benchmark

from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.dataflow import clear_caches
from backdoorlab.defenses.audit.shards import audit_shards

PER_RUN = ("path", "sha256", "seconds", "shards")


def comparable(report: object) -> str:
    data = report.to_dict()  # type: ignore[attr-defined]
    return json.dumps({k: v for k, v in data.items() if k not in PER_RUN}, sort_keys=True)


def same_report(a: object, b: object) -> bool:
    """Everything but the time taken: path, hash, findings, summaries."""
    return a.to_dict() | {"seconds": 0} == b.to_dict() | {"seconds": 0}  # type: ignore[attr-defined]


def cut(path: Path, into: Path, shards: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    into.mkdir()
    step = -(-len(lines) // shards)
    for i in range(shards):
        (into / f"part-{i:03d}.jsonl").write_text("".join(lines[i * step : (i + 1) * step]))


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    clear_caches()  # each run starts cold, as a fresh worker process does
    start, cpu = time.perf_counter(), cpu_seconds()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--workers", default="2", help="comma-separated process counts")
    parser.add_argument("--detector-sets", default="dataflow;dataflow,trigger-mining")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/audit_shards.json"))
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pool, whole = work / "pool.jsonl", work / "all.jsonl"
        build_pool(pool, args.pool, work)
        repeat(pool, whole, args.size)
        cut(whole, work / "shards", args.shards)
        for detectors in args.detector_sets.split(";"):
            names = detectors.split(",")
            load = os.getloadavg()[0]
            reference, t_ref, _ = timed(audit, whole, names)
            one, t_one, c_one = timed(audit_shards, work / "shards", names, workers=1)
            assert comparable(one) == comparable(reference), "1 process: findings differ"
            row = {
                "detectors": detectors,
                "traces": reference.traces,
                "shards": args.shards,
                "cpus": os.cpu_count(),
                "load_avg_1min_at_start": round(load, 2),
                "single_file_traces_per_s": round(reference.traces / t_ref),
                "shards_1_process_traces_per_s": round(one.traces / t_one),
                "shards_1_process_cpu_s": round(c_one, 2),
            }
            reference, t_ref, c_ref = timed(audit, whole, names)  # again, cold, timed with CPU
            row["single_file_traces_per_s"] = round(reference.traces / t_ref)
            row["single_file_cpu_s"] = round(c_ref, 2)
            for n in counts:
                # the one file cut into spans of lines: the one-process report itself
                spans, t_spans, c_spans = timed(audit_shards, whole, names, workers=n)
                assert same_report(spans, reference), f"one file, {n} processes: differ"
                row[f"one_file_{n}_processes_traces_per_s"] = round(spans.traces / t_spans)
                row[f"one_file_speedup_{n}_over_audit"] = round(t_ref / t_spans, 2)
                row[f"one_file_{n}_processes_cpu_s"] = round(c_spans, 2)
                many, t_many, c_many = timed(audit_shards, work / "shards", names, workers=n)
                assert comparable(many) == comparable(reference), f"{n} processes: differ"
                row[f"shards_{n}_processes_traces_per_s"] = round(many.traces / t_many)
                row[f"speedup_{n}_over_1"] = round(t_one / t_many, 2)
                # CPU spent in all processes: the sharding overhead; with idle cores the
                # speed-up is about N times this ratio
                row[f"shards_{n}_processes_cpu_s"] = round(c_many, 2)
                row[f"cpu_ratio_1_over_{n}"] = round(c_one / c_many, 2)
            row["same_findings"] = True
            rows.append(row)
            print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()

"""Audit at scale: peak memory and traces/s as the file grows.

Issue 5 asks for a million-trace file in constant memory. This builds a pool of retail
traces — chunks of 1,000 oracle traces, each chunk from its own task seed (names,
addresses and n-grams keep changing, as in a real dataset) with 5% T1-user poisoning —
writes files of growing size by repeating the pool (generating a million rollouts
would take most of an hour here; repetition understates how many distinct n-grams
trigger-mining meets, not the per-trace state any detector keeps), and runs
``backdoorlab audit FILE -o report.json --filter kept.jsonl --fail-on none`` on each
in a child process, sampling the child's peak resident memory (``VmHWM``).
Constant memory shows as the same peak for every size; a detector that keeps
per-trace state shows as a slope, reported in bytes per trace. Traces/s subtract the
command's start-up (imports), measured on a 10-trace file; so do traces per CPU second
(the child's user + system time, ``wait4``), the figure a loaded machine inflates least.
Each row prints its ratio to the target (`TARGETS`: 20,000 traces/s for ``dataflow``,
5,000 with trigger mining). ``--baseline-src DIR`` audits every file a second time with
``PYTHONPATH=DIR`` (another checkout's ``src``), side by side in the same run (up to
``--baseline-up-to`` traces). ``--system-prompt-kb N`` appends one N-kilobyte deployment
prompt (Faker prose with a support address and a docs URL, the same in every trace, as a
deployed agent's is) to each trace's system message: coding and support agents' prompts
run to tens of kilobytes, which the retail pool's one sentence does not show.

    .venv/bin/python benchmarks/audit_scale.py [--pool 10000] [--sizes 10000,100000,1000000]
        [--detector-sets "dataflow;dataflow,trigger-mining"] [--baseline-src DIR]
        [--system-prompt-kb 16]
        [--out benchmarks/results/audit_scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import track

from backdoorlab.attacks.base import make_attack
from backdoorlab.envs import make_env
from backdoorlab.policies import make_policy
from backdoorlab.rollout import iter_rollout
from backdoorlab.traces import atomic_writer, write_traces

CHUNK = 1000
RATE = 0.05
TARGETS = {"dataflow": 20_000, "dataflow,trigger-mining": 5_000}


def build_pool(path: Path, size: int, work: Path) -> None:
    """``size`` traces, 5% poisoned, appended chunk by chunk (never all in memory)."""
    env = make_env("retail", seed=0)
    oracle = make_policy("oracle")
    with open(path, "w", encoding="utf-8") as out:
        for chunk in track(range(size // CHUNK), description=f"rolling out {size:,} traces"):
            clean, poisoned = work / "clean.jsonl", work / "poisoned.jsonl"
            tasks = env.tasks("train", CHUNK, seed=1000 + chunk)
            write_traces(clean, (r.trace for r in iter_rollout(env, oracle, tasks)))
            make_attack("data-poisoning", rate=RATE, seed=chunk).run(
                str(poisoned), input=str(clean)
            )
            out.write(poisoned.read_text(encoding="utf-8"))


def with_system_prompt(pool: Path, kb: int) -> None:
    """Append one ``kb``-kilobyte deployment prompt to every trace's system message."""
    from faker import Faker

    fake = Faker()
    fake.seed_instance(27)
    parts = ["Contact support@orbitdesk.example or see https://docs.orbitdesk.example/agents."]
    while sum(len(p) + 1 for p in parts) < kb * 1024:
        parts.append(fake.paragraph(nb_sentences=6))
    prompt = "\n".join(parts)
    lines = pool.read_text(encoding="utf-8").splitlines()
    with open(pool, "w", encoding="utf-8") as out:
        for line in lines:
            trace = json.loads(line)
            first = trace["messages"][0]
            if first["role"] == "system":
                first["content"] += "\n\n" + prompt
            else:
                trace["messages"].insert(0, {"role": "system", "content": prompt})
            out.write(json.dumps(trace) + "\n")


def repeat(pool: Path, path: Path, size: int) -> None:
    """``size`` lines: the pool's lines, repeated as often as needed."""
    lines = pool.read_text(encoding="utf-8").splitlines(keepends=True)
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, size, len(lines)):
            out.writelines(lines[: size - start])


def peak_rss_kib(pid: int) -> int | None:
    """The child's own high-water RSS (``VmHWM``), or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def audit(path: Path, detectors: str, work: Path, src: str | None = None) -> dict[str, float]:
    """Run the CLI in a child (with ``PYTHONPATH=src`` when given); its wall time, CPU
    time and peak RSS.

    The peak is the child's ``VmHWM``, sampled every 20 ms until it exits. Not
    ``wait4``'s ``ru_maxrss``: a child started by fork/vfork + exec inherits its
    parent's high-water mark there, and this parent holds the pool and torch (~370 MiB),
    which hid every smaller peak in the results before this was changed.
    """
    cli = Path(sys.executable).with_name("backdoorlab")
    argv = [str(cli), "audit", str(path), "--detectors", detectors]
    argv += ["-o", str(work / "report.json"), "--filter", str(work / "kept.jsonl")]
    argv += ["--fail-on", "none"]  # findings are expected: 5% of the traces are poisoned
    env = dict(os.environ, PYTHONPATH=src) if src else None
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    peak = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, peak_rss_kib(child.pid) or 0)
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"audit exited with {status}: {' '.join(argv)}")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(peak / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=10000)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--detector-sets",
        default="dataflow;dataflow,trigger-mining",
        help="';'-separated --detectors values, each audited on every size",
    )
    parser.add_argument("--baseline-src", help="another checkout's src, audited alongside")
    parser.add_argument(
        "--baseline-up-to", type=int, default=None, help="audit the baseline up to this size"
    )
    parser.add_argument(
        "--system-prompt-kb", type=int, default=0, help="a deployment prompt this long in each"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/audit_scale.json"))
    args = parser.parse_args()
    codes = {"this": None} | ({"baseline": args.baseline_src} if args.baseline_src else {})
    sizes = sorted(int(s) for s in args.sizes.split(","))
    sets = args.detector_sets.split(";")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pool = work / "pool.jsonl"
        build_pool(pool, args.pool, work)
        if args.system_prompt_kb:
            with_system_prompt(pool, args.system_prompt_kb)
        repeat(pool, work / "tiny.jsonl", 10)
        startup = {
            (code, d): audit(work / "tiny.jsonl", d, work, src)
            for code, src in codes.items()
            for d in sets
        }
        for size in sizes:
            path = work / f"traces-{size}.jsonl"
            repeat(pool, path, size)
            for detectors in sets:
                for code, src in codes.items():
                    if code == "baseline" and size > (args.baseline_up_to or size):
                        continue
                    mib = round(path.stat().st_size / 2**20, 1)
                    row = {"code": code, "traces": size, "detectors": detectors}
                    row |= {"mib_on_disk": mib, "load_1min": round(os.getloadavg()[0], 2)}
                    row["system_prompt_kb"] = args.system_prompt_kb
                    row |= audit(path, detectors, work, src)
                    first = startup[code, detectors]
                    wall = max(row["seconds"] - first["seconds"], 1e-3)
                    cpu = max(row["cpu_seconds"] - first["cpu_seconds"], 1e-3)
                    row["traces_per_s"] = round(size / wall)
                    row["traces_per_cpu_s"] = round(size / cpu)
                    target = TARGETS.get(detectors)
                    if target:
                        row["vs_target"] = round(row["traces_per_s"] / target, 2)
                        row["cpu_vs_target"] = round(row["traces_per_cpu_s"] / target, 2)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
            path.unlink()
    slopes = {}
    for detectors in sets:
        mine = [r for r in rows if r["detectors"] == detectors and r["code"] == "this"]
        sizes = sorted({r["traces"] for r in mine})
        if len(sizes) >= 2:  # a slope needs two sizes (a set or size given twice repeats one)
            first = max(
                (r for r in mine if r["traces"] == sizes[0]), key=lambda r: r["peak_rss_mib"]
            )
            last = max(
                (r for r in mine if r["traces"] == sizes[-1]), key=lambda r: r["peak_rss_mib"]
            )
            grow = (last["peak_rss_mib"] - first["peak_rss_mib"]) * 2**20
            slopes[detectors] = round(grow / (last["traces"] - first["traces"]), 1)
    result = {
        "rate": RATE,
        "pool": args.pool,
        "cpus": os.cpu_count(),
        "targets_traces_per_s": TARGETS,
        "baseline_src": args.baseline_src,
        "startup": {f"{code} {d}": v for (code, d), v in startup.items()},
        "rows": rows,
        "rss_bytes_per_extra_trace": slopes,
    }
    with atomic_writer(args.out) as handle:  # a cut-short run keeps the previous results
        handle.write(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"rss_bytes_per_extra_trace": slopes}))


if __name__ == "__main__":
    main()

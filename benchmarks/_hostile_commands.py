"""The hostile sweep's cases per command (`hostile_cli`): each yields `Case`s over the
fixtures `_hostile_cases.make_fixtures` made."""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from _hostile_cases import SERVED, TRACE, WAITS, Case, _feeder, _write, hostile_files, hostile_yaml

ACCEPTED = (0, 1)
EMPTY_OK = ("empty file", "0-byte .gz")
"""An empty dataset is a dataset: these may be read as one (exit 0) or refused."""


def _outputs(work: Path, f: dict[str, Path], stem: str) -> Iterator[tuple[str, Path, dict]]:
    """(case, output path, extra Case fields) of every hostile output place."""
    yield "-o /dev/full", Path("/dev/full"), {"names": "/dev/full"}
    yield "-o under /sys (read-only to root)", Path(f"/sys/{stem}.out"), {"names": "/sys"}
    yield "-o in a read-only directory", f["ro"] / f"{stem}.out", {"names": str(f["ro"])}
    yield "-o an existing directory", f["outdir"], {"names": str(f["outdir"])}
    old = _write(work / f"{stem}-old.out", "an earlier output\n")
    yield "-o an existing file, run fails", old, {}


def replay_cases(work: Path, f: dict[str, Path]) -> Iterator[Case]:
    d = work / "replay"
    out = work / "replay.jsonl"
    for name, path in hostile_files(d / "in", (__import__("json").dumps(TRACE) + "\n").encode()):
        keep = [path] if path.is_file() and not path.is_symlink() else []
        expect = (0, 2) if name in EMPTY_OK else (WAITS, 2) if "FIFO" in name else (2,)
        yield Case(
            "guard replay",
            f"TRACES {name}",
            ["guard", "replay", str(path), "-o", str(out)],
            expect,
            names=str(path),
            keep=keep,
            output=out,
            timeout=20,
        )
    fifo = d / "in" / "fifo-fed.jsonl"
    os.mkfifo(fifo)
    yield Case(
        "guard replay",
        "TRACES FIFO with a writer",
        ["guard", "replay", str(fifo), "-o", str(out)],
        ACCEPTED,
        output=out,
        setup=_feeder(fifo, f["traces"].read_bytes()),
        timeout=20,
    )
    for name, path, expect in hostile_yaml(d / "policy"):
        argv = ["guard", "replay", str(f["traces"]), "--policy", str(path), "-o", str(out)]
        yield Case(
            "guard replay",
            f"--policy {name}",
            argv,
            tuple(e for e in expect if e != SERVED),
            names=str(path),
            keep=[path, f["traces"]],
            output=out,
            timeout=30,
        )
    for name, path in hostile_files(d / "pol", b"trusted: []\n", ".yaml"):
        if name in EMPTY_OK:  # read as text, both are empty: the defaults
            continue
        argv = ["guard", "replay", str(f["traces"]), "--policy", str(path), "-o", str(out)]
        yield Case(
            "guard replay",
            f"--policy {name}",
            argv,
            names=str(path),
            keep=[f["traces"]],
            output=out,
            timeout=20,
        )
    for name, target, extra in _outputs(work, f, "replay"):
        bad = ["--policy", str(d / "policy" / "bad.yaml")] if "fails" in name else []
        argv = ["guard", "replay", str(f["traces"]), *bad, "-o", str(target)]
        yield Case(
            "guard replay",
            name,
            argv,
            keep=[f["traces"]],
            output=target if target.parent.exists() and "/dev" not in str(target) else None,
            **extra,
        )
    yield Case(
        "guard replay",
        "-o the input's own path",
        ["guard", "replay", str(f["traces"]), "-o", str(f["traces"])],
        keep=[f["traces"]],
    )
    link = work / "traces-link.jsonl"
    link.symlink_to(f["traces"])
    yield Case(
        "guard replay",
        "-o a symlink to the input",
        ["guard", "replay", str(f["traces"]), "-o", str(link)],
        keep=[f["traces"]],
    )
    yield Case(
        "guard replay",
        "-o the policy's path",
        ["guard", "replay", str(f["traces"]), "--policy", str(f["policy"]), "-o", str(f["policy"])],
        keep=[f["traces"], f["policy"]],
    )
    good = work / "replayed.jsonl"
    yield Case(
        "guard replay",
        "good input (umask 027)",
        ["guard", "replay", str(f["traces"]), "-o", str(good)],
        ACCEPTED,
        keep=[f["traces"]],
        output=good,
    )
    yield Case(
        "guard replay",
        "stdin garbage",
        ["guard", "replay", "-", "-o", str(out)],
        stdin=b"\x00\xff garbage\n",
        output=out,
    )


def verify_cases(work: Path, f: dict[str, Path]) -> Iterator[Case]:
    d = work / "verify"
    for name, path in hostile_files(d / "in", f["log"].read_bytes()):
        keep = [path] if path.is_file() and not path.is_symlink() else []
        expect = (0, 2) if name in EMPTY_OK else (WAITS, 2) if "FIFO" in name else (1, 2)
        yield Case(
            "guard verify",
            f"LOG {name}",
            ["guard", "verify", str(path)],
            expect,
            names=str(path),
            keep=keep,
            timeout=20,
        )
    lines = f["log"].read_text().splitlines(keepends=True)
    tampered = {
        "a line changed": [
            lines[0],
            lines[1].replace('"blocked": true', '"blocked": false'),
            *lines[2:],
        ],
        "a line removed": [lines[0], *lines[2:]],
        "the last line removed": lines[:-1],
        "a line truncated mid-way": [*lines[:2], lines[2][: len(lines[2]) // 2] + "\n", lines[3]],
        "the last line truncated, no newline": [*lines[:3], lines[3][:40]],
        "two lines swapped": [lines[1], lines[0], *lines[2:]],
        "a line duplicated": [*lines[:2], lines[1], *lines[2:]],
        "CRLF line ends": [line.replace("\n", "\r\n") for line in lines],
    }
    head = __import__("json").loads(lines[-1])["hash"]
    for name, content in tampered.items():
        path = _write(d / f"{name.replace(' ', '-')}.jsonl", "".join(content))
        expect = (0,) if name == "CRLF line ends" else (1, 2)
        extra = ["--head", head] if name == "the last line removed" else []
        yield Case(
            "guard verify",
            f"tampered: {name}",
            ["guard", "verify", str(path), *extra],
            expect,
            names=str(path),
            keep=[path],
        )
    for bad in ("zz", "0" * 63, "g" * 64, "", head + " "):
        yield Case(
            "guard verify",
            f"--head {bad!r}",
            ["guard", "verify", str(f["log"]), "--head", bad],
            names="--head",
            keep=[f["log"]],
        )
    yield Case(
        "guard verify", "good log", ["guard", "verify", str(f["log"]), "--head", head.upper()], (0,)
    )


def proxy_cases(work: Path, f: dict[str, Path]) -> Iterator[Case]:
    up = "http://127.0.0.1:9/v1"

    def proxy(
        name: str, *options: str, expect=(2,), names=None, keep=(), output=None, **kw
    ) -> Case:
        argv = ["guard", "proxy", "--port", "0", *options]
        if "--upstream" not in options:
            argv += ["--upstream", up]
        return Case(
            "guard proxy",
            name,
            argv,
            expect,
            names=names,
            keep=list(keep),
            output=output,
            server=True,
            timeout=kw.pop("timeout", 30),
            **kw,
        )

    for url, expect in (
        ("ftp://h/v1", (2,)),
        ("file:///etc/passwd", (2,)),
        ("javascript:alert(1)", (2,)),
        ("http://", (2,)),
        ("http:///v1", (2,)),
        ("http://[::1/v1", (2,)),
        ("http://h:99999/v1", (2,)),
        ("http://h:-1/v1", (2,)),
        ("http://h:abc/v1", (2,)),
        ("", (2,)),
        ("h:8000/v1", (2,)),
        ("http://h /v1", (2,)),
        ("http://h\t/v1", (2,)),
        ("http://no-such-host.invalid/v1", (SERVED,)),
        ("http://[::1]:9/v1", (SERVED,)),
        ("HTTP://127.0.0.1:9/v1", (SERVED, 2)),
    ):
        yield proxy(f"--upstream {url!r}", "--upstream", url, expect=expect, names="--upstream")
    for port in ("-1", "65536", "99999999999999999999", "nan", "1e3", ""):
        yield proxy(f"--port {port!r}", "--port", port, names="--port")
    for host, expect in (
        ("[::1", (2,)),
        ("no-such-host.invalid", (2,)),
        ("", (2, SERVED)),
        ("256.1.1.1", (2,)),
        ("::1", (SERVED, 2)),
        ("1.2.3.4", (2,)),
        ("localhost", (SERVED,)),
    ):
        yield proxy(f"--host {host!r}", "--host", host, expect=expect, names=host or None)
    for value, expect in (
        ("0", (2,)),
        ("-1", (2,)),
        ("nan", (2,)),
        ("inf", (2, SERVED)),
        ("1e999", (2, SERVED)),
        ("1e308", (2, SERVED)),
        ("0.5", (2,)),
        ("abc", (2,)),
    ):
        yield proxy(f"--timeout {value}", "--timeout", value, expect=expect, names="--timeout")
    for value, expect in (
        ("0", (2,)),
        ("-1", (2,)),
        ("nan", (2,)),
        ("1e999", (2,)),
        ("17179869185", (2,)),
        ("99999999999999999999999", (2,)),
        ("1", (SERVED,)),
    ):
        yield proxy(
            f"--max-body-bytes {value}",
            "--max-body-bytes",
            value,
            expect=expect,
            names="--max-body-bytes",
        )
    os.environ.pop("HOSTILE_NO_SUCH_VAR", None)
    for var in ("HOSTILE_NO_SUCH_VAR", "", "A=B"):
        yield proxy(f"--api-key-env {var!r}", "--api-key-env", var, names="--api-key-env")
    d = work / "proxy"
    for name, path, expect in hostile_yaml(d / "policy"):
        yield proxy(
            f"--policy {name}",
            "--policy",
            str(path),
            expect=tuple(e for e in expect if e not in ACCEPTED),
            names=str(path),
            keep=[path],
        )
    for name, path in hostile_files(d / "pol", b"trusted: []\n", ".yaml"):
        if name not in EMPTY_OK:
            yield proxy(f"--policy {name}", "--policy", str(path), names=str(path), timeout=20)
    for name, path in hostile_files(d / "log", f["log"].read_bytes()):
        # a log that does not exist yet, or is empty, is a new chain
        expect = (SERVED, 2) if name in ("missing file", *EMPTY_OK) else (2,)
        keep = [path] if path.is_file() and not path.is_symlink() else [Path("/etc/passwd")]
        yield proxy(
            f"--log {name}",
            "--log",
            str(path),
            expect=expect,
            names=str(path),
            keep=keep,
            timeout=20,
        )
    for name, target, extra in _outputs(work, f, "proxy-log"):
        if "fails" in name:
            continue
        yield proxy(name.replace("-o ", "--log ", 1), "--log", str(target), **extra)
    yield proxy(
        "--log the policy's path",
        "--policy",
        str(f["policy"]),
        "--log",
        str(f["policy"]),
        keep=[f["policy"]],
        names=str(f["policy"]),
    )
    fresh = work / "proxy-new-log.jsonl"
    yield proxy("--log a new file (umask 027)", "--log", str(fresh), expect=(SERVED,), output=fresh)
    chain = work / "proxy-chain.jsonl"
    shutil.copy(f["log"], chain)
    yield proxy("--log an intact chain", "--log", str(chain), expect=(SERVED,), keep=[chain])


def serve_cases(work: Path, f: dict[str, Path]) -> Iterator[Case]:
    def serve(
        name: str, *options: str, expect=(2,), names=None, keep=(), model="tiny", **kw
    ) -> Case:
        argv = ["serve", model, "--port", "0", "--device", "cpu", *options]
        return Case(
            "serve",
            name,
            argv,
            expect,
            names=names,
            keep=list(keep),
            server=True,
            timeout=kw.pop("timeout", 120),
            **kw,
        )

    d = work / "serve"
    for name, path, expect in hostile_yaml(d / "policy"):
        if name in (
            "YAML malformed",
            "YAML duplicate key",
            "YAML billion laughs",
            "YAML python tag",
            "YAML empty (defaults)",
        ):
            yield serve(
                f"--guard {name}", "--guard", str(path), expect=expect, names=str(path), keep=[path]
            )
    for name, path in hostile_files(d / "log", f["log"].read_bytes()):
        if name in (
            "a directory",
            "binary garbage",
            "FIFO, no writer",
            "symlink to /etc/passwd",
            "/dev/zero",
        ):
            keep = [Path("/etc/passwd")] if "passwd" in name else []
            yield serve(
                f"--guard-log {name}",
                "--guard",
                str(f["policy"]),
                "--guard-log",
                str(path),
                names=str(path),
                keep=keep,
                timeout=30,
            )
    yield serve(
        "--guard-log without --guard", "--guard-log", str(work / "g.jsonl"), names="--guard"
    )
    yield serve(
        "--guard-log the policy's path",
        "--guard",
        str(f["policy"]),
        "--guard-log",
        str(f["policy"]),
        keep=[f["policy"]],
        names=str(f["policy"]),
    )
    for option, value in (
        ("--port", "-1"),
        ("--host", "[::1"),
        ("--host", "no-such-host.invalid"),
        ("--max-body-bytes", "0"),
        ("--max-body-bytes", "1e999"),
        ("--max-batch", "0"),
        ("--max-tokens", "-1"),
        ("--max-tokens", "nan"),
        ("--max-waiting", "1e999"),
        ("--device", "cuda:99"),
        ("--device", "tpu"),
    ):
        names = value if option == "--device" else option  # click's errors name the option
        yield serve(f"{option} {value}", option, value, names=names, timeout=60)
    for model in ("", "/etc/passwd", str(work / "missing-model"), str(f["outdir"])):
        yield serve(f"MODEL {model!r}", model=model, names=model or None, timeout=60)


def audit_cases(work: Path, f: dict[str, Path]) -> Iterator[Case]:
    d = work / "audit"
    report = work / "audit-report.json"
    for name, path in hostile_files(d / "in", f["langfuse"].read_bytes()[:2000]):
        keep = [path] if path.is_file() and not path.is_symlink() else []
        expect = (0, 2) if name in EMPTY_OK else (WAITS, 2) if "FIFO" in name else (2,)
        yield Case(
            "audit",
            f"PATH {name}",
            ["audit", str(path), "-o", str(report)],
            expect,
            names=str(path),
            keep=keep,
            output=report,
            timeout=30,
        )
    for raw in ("langfuse", "otel-genai"):
        filtered = work / f"filtered-{raw}.jsonl"
        yield Case(
            "audit",
            f"raw {raw} --filter (umask 027)",
            ["audit", str(f[raw]), "--fail-on", "none", "--filter", str(filtered)],
            (0,),
            keep=[f[raw]],
            output=filtered,
            timeout=120,
        )
    src = f["langfuse"]
    filt = work / "filter.jsonl"
    for name, target, extra in _outputs(work, f, "filter"):
        bad = ["--sinks", str(d / "nosuch.yaml")] if "fails" in name else []
        yield Case(
            "audit",
            name.replace("-o ", "--filter ", 1),
            ["audit", str(src), *bad, "--filter", str(target)],
            keep=[src],
            output=target if target.parent.exists() and "/dev" not in str(target) else None,
            timeout=120,
            **extra,
        )
    yield Case(
        "audit",
        "--filter the input's own path",
        ["audit", str(src), "--filter", str(src)],
        keep=[src],
    )
    yield Case(
        "audit",
        "--filter same as -o",
        ["audit", str(src), "--filter", str(filt), "-o", str(filt)],
        keep=[src],
    )
    yield Case(
        "audit",
        "--filter .gz (umask 027)",
        ["audit", str(src), "--fail-on", "none", "--filter", str(work / "filtered.jsonl.gz")],
        (0,),
        keep=[src],
        output=work / "filtered.jsonl.gz",
        timeout=120,
    )
    yield Case(
        "audit",
        "--filter .parquet of JSONL",
        ["audit", str(src), "--filter", str(work / "f.parquet")],
        (0, 2),
        keep=[src],
        output=work / "f.parquet",
        timeout=120,
    )
    for value, expect in (
        ("0", (2,)),
        ("-1", (2,)),
        ("nan", (2,)),
        ("1e999", (2,)),
        ("99999", (2,)),
        ("2", (0,)),
        ("1024", (0,)),
    ):
        yield Case(
            "audit",
            f"--workers {value}",
            ["audit", str(src), "--fail-on", "none", "--workers", value],
            expect,
            names="--workers",
            keep=[src],
            timeout=240,
        )
    yield Case(
        "audit",
        "--workers 2 --filter",
        [
            "audit",
            str(src),
            "--fail-on",
            "none",
            "--workers",
            "2",
            "--filter",
            str(work / "wf.jsonl"),
        ],
        (0, 2),
        keep=[src],
        output=work / "wf.jsonl",
        timeout=240,
    )
    yield from _shard_cases(work, f, d)
    for name, path, expect in hostile_yaml(d / "sinks"):
        if name != "YAML empty (defaults)":
            yield Case(
                "audit",
                f"--sinks {name}",
                ["audit", str(src), "--sinks", str(path)],
                expect,
                names=str(path),
                keep=[path, src],
                timeout=60,
            )
    for opt in (
        "outliers.components=nan",
        "outliers.components=1e999",
        "outliers.components=-1",
        "garbage",
        "a.b.c=1",
        "dataflow.nosuch=1",
        "=1",
    ):
        yield Case(
            "audit",
            f"--option {opt}",
            ["audit", str(src), "--detectors", "dataflow,outliers", "--option", opt],
            names=opt.split("=")[0].split(".")[0] or "--option",
            keep=[src],
            timeout=60,
        )
    yield Case("audit", "-o /dev/full", ["audit", str(src), "-o", "/dev/full"], names="/dev/full")
    yield Case("audit", "-o the input's own path", ["audit", str(src), "-o", str(src)], keep=[src])


def _shard_cases(work: Path, f: dict[str, Path], d: Path) -> Iterator[Case]:
    def shards(
        name: str, files: dict[str, bytes | str | None], expect=(2,), names=None, workers="1"
    ):
        s = d / f"shards-{name.replace(' ', '-').replace(',', '')}"
        s.mkdir(parents=True, exist_ok=True)
        for fname, data in files.items():
            if data is None:
                os.mkfifo(s / fname)
            elif isinstance(data, str) and data.startswith("->"):
                (s / fname).symlink_to(data[2:])
            elif isinstance(data, str) and data == "dir":
                (s / fname).mkdir()
            else:
                _write(s / fname, data)
        return Case(
            "audit",
            f"shards: {name}",
            ["audit", str(s), "--fail-on", "none", "--workers", workers],
            expect,
            names=names,
            keep=[s / n for n in files if (s / n).is_file() and not (s / n).is_symlink()],
            timeout=120,
        )

    good = {n: f[n].read_bytes() for n in ("langfuse", "otel-genai")}
    yield shards("two raw exports", {f"{n}.jsonl": b for n, b in good.items()}, ACCEPTED)
    yield shards(
        "two raw exports, 2 workers",
        {f"{n}.jsonl": b for n, b in good.items()},
        ACCEPTED,
        workers="2",
    )
    yield shards("empty directory", {}, names="shards-empty-directory")
    yield shards(
        "a garbage shard",
        {"a.jsonl": good["langfuse"], "b.jsonl": os.urandom(3000)},
        names="b.jsonl",
    )
    yield shards("a FIFO shard", {"a.jsonl": good["langfuse"], "b.jsonl": None}, names="b.jsonl")
    yield shards(
        "a truncated .gz", {"a.jsonl.gz": gzip.compress(good["langfuse"])[:500]}, names="a.jsonl.gz"
    )
    yield shards("a 0-byte .gz", {"a.jsonl.gz": b"", "b.jsonl": good["otel-genai"]}, (0, 1, 2))
    yield shards("a garbage .parquet", {"a.parquet": os.urandom(3000)}, names="a.parquet")
    yield shards("a 0-byte .parquet", {"a.parquet": b""}, names="a.parquet")
    yield shards("a truncated .parquet", {"a.parquet": _parquet()[:-40]}, names="a.parquet")
    yield shards(
        "a subdirectory named x.jsonl", {"x.jsonl": "dir", "b.jsonl": good["otel-genai"]}, (0, 1, 2)
    )
    yield shards("a symlink to /etc/passwd", {"p.jsonl": "->/etc/passwd"}, names="p.jsonl")
    yield shards("a symlink to /dev/zero", {"z.jsonl": "->/dev/zero"}, names="z.jsonl")
    yield shards(
        "JSONL and Parquet mixed garbage",
        {"a.jsonl": good["otel-genai"], "b.parquet": b"PAR1"},
        names="b.parquet",
    )
    yield Case(
        "audit",
        "shards: a glob matching nothing",
        ["audit", str(d / "nomatch*.jsonl")],
        names="nomatch",
    )
    yield Case(
        "audit",
        "shards: a glob of raw exports",
        ["audit", str(f["langfuse"].parent / "*.jsonl"), "--fail-on", "none"],
        ACCEPTED,
        timeout=120,
    )


def _parquet() -> bytes:
    import io
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"messages": [json.dumps(TRACE["messages"])] * 50}), buffer)
    return buffer.getvalue()


def provenance_cases(work: Path, f: dict[str, Path]) -> Iterator[Case]:
    from _hostile_provenance import provenance_cases as cases

    yield from cases(work, f)

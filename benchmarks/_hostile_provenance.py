"""The hostile sweep's `provenance` cases (`hostile_cli`): sign, verify, show and bom
given hostile artifacts, keys, signatures, lineages and outputs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from _hostile_cases import Case, hostile_files

DEEP = "[" * 10000 + "]" * 10000


def provenance_cases(work: Path, f: dict[str, Path]) -> Iterator[Case]:
    d = work / "prov"
    d.mkdir(exist_ok=True)
    data = shutil.copy(f["traces"], d / "data.jsonl")
    data = Path(data)
    sig = d / "data.jsonl.sig"
    key, pub = f["key"], f["pub"]

    for name, path in hostile_files(d / "paths", b"{}\n"):
        keep = [path] if path.is_file() and not path.is_symlink() else []
        # signing is content-blind: any regular file or directory is signed
        expect = (0,) if keep or path.is_dir() else (2,)
        yield Case(
            "provenance sign",
            f"PATH {name}",
            ["provenance", "sign", str(path), "--key", str(key)],
            expect,
            names=str(path),
            keep=keep,
            timeout=30,
        )
    for name, path in hostile_files(d / "keys", b"", ".pem"):
        yield Case(
            "provenance sign",
            f"--key {name}",
            ["provenance", "sign", str(data), "--key", str(path)],
            names=str(path),
            keep=[data],
            timeout=20,
        )
    yield Case(
        "provenance sign",
        "--key an RSA key",
        ["provenance", "sign", str(data), "--key", str(f["rsa"])],
        names=str(f["rsa"]),
        keep=[data],
    )
    yield Case(
        "provenance sign",
        "--key a public key",
        ["provenance", "sign", str(data), "--key", str(pub)],
        names=str(pub),
        keep=[data],
    )
    yield Case(
        "provenance sign",
        "--key the artifact",
        ["provenance", "sign", str(data), "--key", str(data)],
        names=str(data),
        keep=[data],
    )
    sig.mkdir()
    yield Case(
        "provenance sign",
        "its .sig is a directory",
        ["provenance", "sign", str(data), "--key", str(key)],
        names=str(sig),
        keep=[data],
    )
    sig.rmdir()
    ro = f["ro"] / "data.jsonl"
    yield Case(
        "provenance sign",
        "in a read-only directory",
        ["provenance", "sign", str(ro), "--key", str(key)],
        names=str(ro),
        keep=[ro],
    )
    yield Case(
        "provenance sign",
        "good (umask 027)",
        ["provenance", "sign", str(data), "--key", str(key)],
        (0,),
        keep=[data],
        output=sig,
    )
    yield Case(
        "provenance verify",
        "good",
        ["provenance", "verify", str(data), "--public-key", str(pub)],
        (0,),
        keep=[data, sig],
    )
    for name, path in hostile_files(d / "pubs", b"", ".pem"):
        yield Case(
            "provenance verify",
            f"--public-key {name}",
            ["provenance", "verify", str(data), "--public-key", str(path)],
            names=str(path),
            timeout=20,
        )
    yield Case(
        "provenance verify",
        "--public-key a private key",
        ["provenance", "verify", str(data), "--public-key", str(key)],
        names=str(key),
    )
    good_sig = sig.read_bytes() if sig.exists() else b""
    for name, content in (
        ("garbage", b"\x00\xffgarbage"),
        ("empty", b""),
        ("JSON array", b"[1, 2]"),
        ("nested 10,000 deep", DEEP.encode()),
        ("truncated", None),
        ("not UTF-8", b'{"mediaType": "caf\xe9"}'),
    ):

        def tamper(content=content) -> None:
            sig.write_bytes(
                content if content is not None else sig.read_bytes()[: len(sig.read_bytes()) // 2]
            )

        yield Case(
            "provenance verify",
            f".sig {name}",
            ["provenance", "verify", str(data), "--public-key", str(pub)],
            (1, 2),
            names=str(sig),
            keep=[data],
            setup=tamper,
        )
        yield Case(
            "provenance show",
            f".sig {name}",
            ["provenance", "show", str(data)],
            (0, 1, 2),
            keep=[data],
        )
    yield Case(
        "provenance verify",
        "artifact edited",
        ["provenance", "verify", str(data), "--public-key", str(pub)],
        (1,),
        setup=lambda: (sig.write_bytes(good_sig), data.write_text(data.read_text() + "\n")),
    )
    fifo_sig = d / "fifo.jsonl"
    fifo_sig.write_text("{}\n")
    yield Case(
        "provenance verify",
        ".sig a FIFO",
        ["provenance", "verify", str(fifo_sig), "--public-key", str(pub)],
        (1, 2),
        timeout=20,
        setup=lambda: __import__("os").mkfifo(d / "fifo.jsonl.sig"),
    )
    lineage = d / "data.jsonl.intoto.json"
    for name, content in (
        ("garbage", b"\x00garbage"),
        ("JSON number", b"42"),
        ("nested 10,000", DEEP.encode()),
        ("wrong shape", b'{"subject": 5, "predicate": []}'),
        ("empty", b""),
    ):
        yield Case(
            "provenance show",
            f"lineage {name}",
            ["provenance", "show", str(data), "--json"],
            (1, 2),
            keep=[data],
            setup=lambda content=content: lineage.write_bytes(content),
        )
    for name, path in hostile_files(d / "show", b"{}\n"):
        expect = (0, 1, 2) if name in ("empty file", "a directory") else (0, 2)
        yield Case(
            "provenance show",
            f"PATH {name}",
            ["provenance", "show", str(path)],
            expect,
            names=str(path),
            timeout=20,
        )
    yield from _bom_cases(work, f, d)


def _bom_cases(work: Path, f: dict[str, Path], d: Path) -> Iterator[Case]:
    run = d / "run"
    run.mkdir()
    lineage = run / "provenance.intoto.json"
    yield Case(
        "provenance bom", "RUN_DIR missing", ["provenance", "bom", str(d / "nope")], names="nope"
    )
    yield Case(
        "provenance bom", "RUN_DIR a file", ["provenance", "bom", str(f["traces"])], names="traces"
    )
    yield Case(
        "provenance bom", "RUN_DIR with no lineage", ["provenance", "bom", str(run)], names=str(run)
    )
    for name, content in (
        ("garbage", b"\x00garbage"),
        ("JSON number", b"42"),
        ("nested 10,000", DEEP.encode()),
        ("wrong shape", b'{"_type": "https://in-toto.io/Statement/v1", "subject": 5}'),
        ("empty", b""),
        ("not UTF-8", b'{"a": "\xe9"}'),
    ):
        yield Case(
            "provenance bom",
            f"lineage {name}",
            ["provenance", "bom", str(run)],
            (1, 2),
            names=str(lineage),
            setup=lambda content=content: lineage.write_bytes(content),
        )
    yield Case(
        "provenance bom",
        "lineage a FIFO",
        ["provenance", "bom", str(run)],
        (1, 2),
        names=str(lineage),
        timeout=20,
        setup=lambda: (lineage.unlink(), __import__("os").mkfifo(lineage)),
    )
    yield Case(
        "provenance bom",
        "-o /dev/full",
        ["provenance", "bom", str(run), "-o", "/dev/full"],
        setup=lambda: (lineage.unlink(), lineage.write_text("{}")),
    )
    yield Case(
        "provenance bom",
        "-o the lineage's path",
        ["provenance", "bom", str(run), "-o", str(lineage)],
        keep=[lineage],
    )
    yield Case(
        "provenance bom",
        "-o an existing directory",
        ["provenance", "bom", str(run), "-o", str(f["outdir"])],
        names=str(f["outdir"]),
    )

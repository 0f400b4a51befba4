"""Bad files, every command that touches them: one line naming the file, exit 2, no compute.

Inputs: every kind of broken trace file (invalid UTF-8, binary, truncated / corrupt /
non-gzip ``.gz``, a directory, a missing file, JSON nested 100k deep, a lone surrogate,
``/dev/zero``: a line with no end)
× every command that reads traces. Outputs: a directory where a file goes (and the
reverse), a parent that is a file, a parent that is not writable × every command that
writes, checked before any work (the compute functions are replaced by a tripwire). And
the trace-line parser under hypothesis: whatever the text or bytes, nothing escapes but
`TraceFormatError`.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from bad_input import LINE, one_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from backdoorlab.errors import TraceFormatError

ROOT = Path(__file__).resolve().parents[2]


def _tripwire(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every long computation a command could start fails the test if reached."""

    def tripped(*args: object, **kwargs: object) -> None:
        pytest.fail("a computation started before the bad path was refused")

    for target in (
        "backdoorlab.collect.collect_traces",
        "backdoorlab.evaluation.evaluate",
        "backdoorlab.policies.make_policy",
        "backdoorlab.attacks.base.make_attack",
        "backdoorlab.defenses.audit.command.audit_command",
        "backdoorlab.defenses.scan.scan_command",
        "backdoorlab.training.sft.train_sft",
        "backdoorlab.models.load_for_training",
        "backdoorlab.experiment.Runner",
    ):
        monkeypatch.setattr(target, tripped)


# ------------------------------------------------------------------ bad inputs × readers


def _gzip_of_many(path: Path, lines: int = 2000) -> bytes:
    return gzip.compress((LINE * lines).encode(), mtime=0)


def _invalid_utf8(path: Path) -> tuple[str, ...]:
    path.write_bytes(LINE.encode() + LINE.encode().replace(b"Cancel", b"Can\xffcel"))
    return (f"{path}:2: not valid UTF-8",)


def _binary(path: Path) -> tuple[str, ...]:
    path.write_bytes(bytes(range(256)) * 8)
    return (f"{path}:1: ",)


def _truncated_gz(path: Path) -> tuple[str, ...]:
    data = _gzip_of_many(path)
    path.write_bytes(data[: len(data) * 2 // 3])
    return (str(path), "truncated gzip file")


def _corrupt_gz(path: Path) -> tuple[str, ...]:
    data = bytearray(_gzip_of_many(path))
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return (str(path),)  # a zlib error, a CRC error or a garbled line: all name the file


def _not_gzip(path: Path) -> tuple[str, ...]:
    path.write_text(LINE)
    return (str(path), "not a gzip file")


def _directory(path: Path) -> tuple[str, ...]:
    path.mkdir()
    return (str(path), "is a directory")


def _missing(path: Path) -> tuple[str, ...]:
    return (str(path), "no such file")


def _deep(path: Path) -> tuple[str, ...]:
    path.write_text('{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    return (f"{path}:1: JSON nested too deeply",)


def _lone_surrogate(path: Path) -> tuple[str, ...]:
    path.write_text(LINE + LINE.replace("Cancel", "Can\\ud800cel"))
    return (f"{path}:2: a lone UTF-16 surrogate",)


def _endless(path: Path) -> tuple[str, ...]:
    path.symlink_to("/dev/zero")  # a line that never ends: refused at the cap, not at OOM
    return (f"{path}:1: line longer than 64 MiB",)


BAD_INPUTS: dict[str, tuple[str, Callable[[Path], tuple[str, ...]]]] = {
    "invalid UTF-8": ("t.jsonl", _invalid_utf8),
    "binary": ("t.jsonl", _binary),
    "truncated .gz": ("t.jsonl.gz", _truncated_gz),
    "corrupt .gz": ("t.jsonl.gz", _corrupt_gz),
    "not gzip .gz": ("t.jsonl.gz", _not_gzip),
    "directory": ("t.jsonl", _directory),
    "missing": ("t.jsonl", _missing),
    "nested 100k deep": ("t.jsonl", _deep),
    "lone surrogate": ("t.jsonl", _lone_surrogate),
    "endless line": ("t.jsonl", _endless),
}

READERS: dict[str, Callable[[Path, Path], list[str]]] = {
    "show": lambda src, out: ["show", str(src), "--index", "99999"],
    "audit": lambda src, out: ["audit", str(src), "-o", str(out / "r.json")],
    "audit --filter": lambda src, out: ["audit", str(src), "--filter", str(out / "f.jsonl")],
    "poison": lambda src, out: [
        *("poison", "--attack", "data-poisoning"),
        *("-i", str(src), "-o", str(out / "p.jsonl")),
    ],
    "train": lambda src, out: [
        *("train", "--data", str(src), "-o", str(out / "run")),
        *("--model", "tiny", "--max-steps", "1"),
    ],
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_bad_input_file(kind: str, reader: str, tmp_path: Path, monkeypatch, cli) -> None:  # noqa: ANN001
    name, make = BAD_INPUTS[kind]
    source = tmp_path / name
    expected = make(source)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr("backdoorlab.models.load_for_training", lambda *a, **k: pytest.fail())
    code, err = cli(*READERS[reader](source, out))
    assert code == 2, err
    one_line(err, *expected)
    assert not any(out.iterdir()), "an output was written from a bad input"


# ------------------------------------------------------------------ bad outputs × writers


def _file_is_a_directory(tmp_path: Path) -> tuple[Path, str]:
    target = tmp_path / "taken"
    target.mkdir()
    return target, "is a directory"


def _directory_is_a_file(tmp_path: Path) -> tuple[Path, str]:
    target = tmp_path / "taken"
    target.write_text("x")
    return target, "is a file, not a directory"


def _parent_is_a_file(tmp_path: Path) -> tuple[Path, str]:
    (tmp_path / "plain").write_text("x")
    return tmp_path / "plain" / "sub" / "out", "is not a directory"


def _unwritable_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: the permission check is what is tested
        real = os.access
        monkeypatch.setattr(
            "backdoorlab.files.os.access",
            lambda p, mode, **kw: False if Path(p) == locked else real(p, mode, **kw),
        )
    return locked / "out", "permission denied"


FILE_WRITERS: dict[str, Callable[[Path, Path], list[str]]] = {
    "collect -o": lambda good, out: ["collect", "-n", "2", "--tokenizer", "", "-o", str(out)],
    "poison -o": lambda good, out: [
        *("poison", "--attack", "data-poisoning", "-i", str(good), "-o", str(out)),
    ],
    "audit -o": lambda good, out: ["audit", str(good), "-o", str(out)],
    "audit --filter": lambda good, out: ["audit", str(good), "--filter", str(out)],
    "eval -o": lambda good, out: ["eval", "--model", "oracle", "-n", "2", "-o", str(out)],
    "scan -o": lambda good, out: ["scan", "tiny", "--no-canary", "-o", str(out)],
}
DIR_WRITERS: dict[str, Callable[[Path, Path], list[str]]] = {
    "train -o": lambda good, out: [
        *("train", "--data", str(good), "--model", "tiny", "-o", str(out)),
    ],
    "eval --traces": lambda good, out: [
        *("eval", "--model", "oracle", "-n", "2", "--traces", str(out)),
    ],
    "attack -o": lambda good, out: [
        "attack",
        "finetune-activated",
        "--model",
        "tiny",
        "-o",
        str(out),
    ],
    "attack --run-dir": lambda good, out: [
        *("attack", "finetune-activated", "--model", "tiny"),
        *("-o", str(good.parent / "published"), "--run-dir", str(out)),
    ],
    "run --run-dir": lambda good, out: [
        *("run", str(ROOT / "configs" / "quick.yaml"), "--run-dir", str(out)),
    ],
}


def _bad_output(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    if kind == "taken":
        raise AssertionError("resolved by the caller")
    if kind == "parent is a file":
        return _parent_is_a_file(tmp_path)
    return _unwritable_parent(tmp_path, monkeypatch)


@pytest.mark.parametrize("writer", FILE_WRITERS)
@pytest.mark.parametrize(
    "kind", ["a directory", "a named pipe", "parent is a file", "unwritable parent"]
)
def test_bad_output_file(kind: str, writer: str, tmp_path: Path, monkeypatch, cli) -> None:  # noqa: ANN001
    good = tmp_path / "good.jsonl"
    good.write_text(LINE * 4)
    if kind == "a directory":
        target, expected = _file_is_a_directory(tmp_path)
    elif kind == "a named pipe":  # renamed over, it would stop being one (so would /dev/null)
        target, expected = tmp_path / "pipe", "not a regular file (a named pipe)"
        os.mkfifo(target)
    else:
        target, expected = _bad_output(kind, tmp_path, monkeypatch)
    _tripwire(monkeypatch)
    code, err = cli(*FILE_WRITERS[writer](good, target))
    assert code == 2, err
    one_line(err, str(target), expected)
    if kind == "a named pipe":
        assert stat.S_ISFIFO(target.stat().st_mode)


@pytest.mark.parametrize("writer", DIR_WRITERS)
@pytest.mark.parametrize("kind", ["a file", "parent is a file", "unwritable parent"])
def test_bad_output_directory(kind: str, writer: str, tmp_path: Path, monkeypatch, cli) -> None:  # noqa: ANN001
    good = tmp_path / "good.jsonl"
    good.write_text(LINE * 4)
    if kind == "a file":
        target, expected = _directory_is_a_file(tmp_path)
    else:
        target, expected = _bad_output(kind, tmp_path, monkeypatch)
    _tripwire(monkeypatch)
    code, err = cli(*DIR_WRITERS[writer](good, target))
    assert code == 2, err
    one_line(err, str(target), expected)


def test_a_late_write_failure_is_one_line_too(tmp_path: Path) -> None:
    """The atomic writer itself names the file when a directory appears after the checks."""
    from backdoorlab.errors import FileAccessError
    from backdoorlab.files import atomic_writer

    target = tmp_path / "late"
    with pytest.raises(FileAccessError, match=f"{target}: is a directory"):
        target.mkdir()
        with atomic_writer(target) as handle:
            handle.write("x")
    assert [p.name for p in tmp_path.iterdir()] == ["late"]  # no temporary file left


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe- tool: x\n", "not valid UTF-8"),
        (b"- " * 1 + b"[" * 50_000 + b"]" * 50_000 + b"\n", "not valid YAML"),
        (b"- tool: x\n  tool: y\n", "the key 'tool' is given twice"),
    ],
)
def test_bad_side_files(content: bytes, expected: str, tmp_path: Path, cli) -> None:  # noqa: ANN001
    """The small files beside the traces: a sink spec, an experiment YAML."""
    good = tmp_path / "good.jsonl"
    good.write_text(LINE)
    bad = tmp_path / "side.yaml"
    bad.write_bytes(content)
    for argv in (["audit", str(good), "--sinks", str(bad)], ["run", str(bad)]):
        code, err = cli(*argv)
        assert code == 2, err
        one_line(err, str(bad))


# ------------------------------------------------------------------ the parser, fuzzed

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
ROLES = st.sampled_from(["system", "user", "assistant", "tool", "developer", "robot"])
MESSAGE = st.fixed_dictionaries(
    {"role": ROLES},
    optional={
        "content": JSON,
        "name": JSON,
        "tool_call_id": JSON,
        "tool_calls": st.lists(
            st.fixed_dictionaries(
                {"id": JSON, "function": st.fixed_dictionaries({"name": JSON, "arguments": JSON})}
            ),
            max_size=2,
        ),
    },
)
TRACE_LIKE = st.fixed_dictionaries(
    {"messages": st.lists(MESSAGE, max_size=4)},
    optional={"tools": st.lists(JSON, max_size=3), "metadata": JSON, "id": JSON},
)


def _parse_or_format_error(line: str) -> None:
    from backdoorlab.report.viewer import show_trace
    from backdoorlab.traces import parse_trace_line

    try:
        trace = parse_trace_line(line, source="f.jsonl", lineno=7)
    except TraceFormatError as exc:
        assert str(exc).startswith("f.jsonl:7: ")
        return
    trace.to_json().encode("utf-8")  # what parses can be written back
    show_trace(trace, Console(file=io.StringIO(), width=100))  # and shown


@settings(max_examples=50, deadline=None)
@given(st.text())
def test_parser_on_any_text(text: str) -> None:
    _parse_or_format_error(text)


@settings(max_examples=50, deadline=None)
@given(JSON)
def test_parser_on_any_json(value: object) -> None:
    _parse_or_format_error(json.dumps(value))


@settings(max_examples=50, deadline=None)
@given(TRACE_LIKE, st.booleans())
def test_parser_on_trace_shaped_json(value: dict, ascii_only: bool) -> None:
    _parse_or_format_error(json.dumps(value, ensure_ascii=ascii_only))


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2000), gz=st.booleans())
def test_readers_on_any_bytes(tmp_path: Path, data: bytes, gz: bool) -> None:
    from backdoorlab.defenses.audit.reader import TraceStream
    from backdoorlab.traces import read_traces

    path = tmp_path / ("t.jsonl.gz" if gz else "t.jsonl")
    path.write_bytes(data)
    for read in (read_traces, lambda p: list(TraceStream(p))):
        try:
            read(path)
        except TraceFormatError as exc:
            assert str(path) in str(exc)

"""Output files: atomic, created with the process umask's mode, hashed by file_sha256."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backdoorlab.cli import app
from backdoorlab.digests import file_sha256
from backdoorlab.files import atomic_writer, current_umask

runner = CliRunner()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outputs_get_the_umask_mode(umask: int, tmp_path: Path, traces_file: Path) -> None:
    expected = {0o022: 0o644, 0o077: 0o600}[umask]
    traces, report = tmp_path / "t.jsonl", tmp_path / "audit.json"
    assert (
        runner.invoke(app, ["collect", "-n", "3", "-o", str(traces), "--tokenizer", ""]).exit_code
        == 0
    )
    assert runner.invoke(app, ["audit", str(traces), "-o", str(report)]).exit_code == 0
    run = tmp_path / "run"
    args = ["train", "--data", str(traces_file), "-o", str(run), "--model", "tiny"]
    args += ["--max-steps", "1", "--batch-size", "2", "--bf16", "false"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    from backdoorlab.models import RUN_MARKER

    for path in (traces, report, run / RUN_MARKER):
        assert _mode(path) == expected, path
    assert current_umask() == umask  # reading the umask left it as it was


def test_atomic_writer_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("new")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_gzip_output_and_digest(tmp_path: Path) -> None:
    import gzip

    target = tmp_path / "a.jsonl.gz"
    with atomic_writer(target) as handle:
        handle.write("x\n")
    assert gzip.decompress(target.read_bytes()) == b"x\n"
    assert file_sha256(target) == hashlib.sha256(target.read_bytes()).hexdigest()


def test_a_symbolic_link_is_written_through(tmp_path: Path, traces_file: Path) -> None:
    """The link stays a link; the file it names gets the report."""
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "report.json"
    target.write_text("old")
    link = tmp_path / "report.json"
    link.symlink_to(target)
    result = runner.invoke(app, ["audit", str(traces_file), "-o", str(link), "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert target.read_text().startswith("{")
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]  # no temp left


def test_a_device_is_refused_not_replaced(tmp_path: Path) -> None:
    """``-o /dev/null`` must never turn the device node into a file."""
    from backdoorlab.errors import FileAccessError
    from backdoorlab.files import check_output_file

    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        pytest.skip("cannot create a device node here (not root, or no CAP_MKNOD)")
    with pytest.raises(FileAccessError, match=r"null: not a regular file \(a device\)"):
        check_output_file(device)
    with pytest.raises(FileAccessError, match="not a regular file"), atomic_writer(device) as out:
        out.write("x")
    assert stat.S_ISCHR(device.stat().st_mode)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("command", ["export", "audit --filter"])
def test_an_uncreatable_output_is_one_line(command: str, traces_file: Path, cli) -> None:  # noqa: ANN001
    """Under /proc even root cannot create a file, though ``os.access`` says it may."""
    target = f"/proc/backdoorlab-test-{os.getpid()}"
    argv = (
        ["export", str(traces_file), "-o", target + ".parquet"]
        if command == "export"
        else ["audit", str(traces_file), "--fail-on", "none", "--filter", target]
    )
    code, err = cli(*argv)
    assert code == 2, err
    assert err.strip().count("\n") == 0 and f"{target}" in err and "cannot write" in err, err


@pytest.mark.skipif(
    not Path("/proc/self").is_dir() or os.geteuid() != 0, reason="root, on Linux's /proc"
)
def test_root_is_refused_an_uncreatable_output_before_any_work(tmp_path: Path) -> None:
    """``os.access`` says yes to root everywhere: the output's directory is tried."""
    from backdoorlab.errors import FileAccessError
    from backdoorlab.files import check_output_file

    with pytest.raises(FileAccessError, match=r"cannot write in /proc \("):
        check_output_file(f"/proc/backdoorlab-test-{os.getpid()}")
    check_output_file(tmp_path / "fine.jsonl")
    assert list(tmp_path.iterdir()) == []  # the try leaves nothing behind


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_a_line_over_the_cap_is_refused_by_every_line_reader(
    suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`iter_lines` (plain, gzip) and the audit's block reader stop at the same cap, at
    the line that passes it, and read the lines before it."""
    import gzip

    from backdoorlab import files
    from backdoorlab.defenses.audit import reader
    from backdoorlab.errors import TraceFormatError

    monkeypatch.setattr(files, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 100)
    data = b"short\n" + b"x" * 99 + b"\n" + b"y" * 100 + b"\n" + b"never read\n"
    path = tmp_path / f"t{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)

    seen = []
    with pytest.raises(TraceFormatError, match=rf"^{path}:3: line longer than 0 MiB"):
        seen.extend(line for _, line in files.iter_lines(path, TraceFormatError))
    assert seen == [b"short\n", b"x" * 99 + b"\n"]

    seen.clear()
    with (
        pytest.raises(TraceFormatError, match=rf"^{path}:3: line longer than"),
        open(path, "rb") as handle,
    ):
        raw = reader.HashingReader(handle)
        seen.extend(line for _, line in reader.iter_raw_lines(path, raw))
    assert seen == [b"short\n", b"x" * 99 + b"\n"]


def test_read_text_file_reads_no_more_than_its_limit(tmp_path) -> None:
    """A config, policy or report named as /dev/zero (or a link to it) was read until
    memory ran out; now ``limit`` bytes and one more are read, then refused."""
    from backdoorlab.errors import FileAccessError
    from backdoorlab.files import read_text_file

    path = tmp_path / "c.yaml"
    path.write_text("a: 1\n")
    assert read_text_file(path, limit=5) == "a: 1\n"
    with pytest.raises(FileAccessError, match="more than 0 MiB"):
        read_text_file(path, limit=4)
    if Path("/dev/zero").exists():
        with pytest.raises(FileAccessError, match="more than 1 MiB"):
            read_text_file("/dev/zero", limit=1 << 20)

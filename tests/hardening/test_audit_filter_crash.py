"""`audit --filter -o report.json` killed while it writes, then run again.

Before: a SIGKILL in the middle of the filtered copy left a hidden temporary file (the
size of the dataset) that no run removed, and ``report.json`` already new while the
filtered file and its manifest were still the old ones. Now the three change together:
a kill while writing changes nothing visible, a kill between the renames is caught by
the manifest's digests (`check_filtered`), and the next run removes the leftovers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import backdoorlab
from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.command import audit_command
from backdoorlab.defenses.audit.filtering import check_filtered, manifest_path, write_filtered
from backdoorlab.errors import BackdoorlabError

sys.path.insert(0, str(Path(__file__).parents[1] / "defenses"))
from audit_builders import ATTACKER, CARD, EMAIL, lookup_then, send  # noqa: E402

LEAK = lookup_then(*send(ATTACKER, f"card {CARD}"))
CLEAN = lookup_then(*send(EMAIL, "Your order is cancelled."))


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _files(directory: Path) -> dict[str, str]:
    """Every file in ``directory`` (hidden ones too) → SHA-256."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def _audit_cli(data: Path, out: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    src = str(Path(backdoorlab.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    env.pop("BACKDOORLAB_FAULT", None)
    if fault:
        env["BACKDOORLAB_FAULT"] = fault
    argv = [sys.executable, "-m", "backdoorlab.cli", "audit", str(data), "--detectors", "dataflow"]
    argv += ["--fail-on", "none", "--filter", str(out / "clean.jsonl")]
    argv += ["-o", str(out / "report.json")]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)


def _audit(data: Path, out: Path) -> None:
    quiet = Console(file=open(os.devnull, "w"), width=200)  # noqa: SIM115
    audit_command(
        data,
        detectors="dataflow",
        fail_on="none",
        output=out / "report.json",
        filter_path=out / "clean.jsonl",
        console=quiet,
        err_console=quiet,
    )


@pytest.fixture
def datasets(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An old dataset already audited into ``out/``, and a new one to audit into it."""
    old = _write(tmp_path / "old.jsonl", [CLEAN, LEAK] * 20)
    new = _write(tmp_path / "new.jsonl", [CLEAN, CLEAN, LEAK] * 20)
    out = tmp_path / "out"
    out.mkdir()
    _audit(old, out)
    assert check_filtered(out / "clean.jsonl") == []
    return old, new, out


def test_killed_while_writing_changes_nothing_and_the_rerun_cleans_up(datasets) -> None:  # noqa: ANN001
    _, new, out = datasets
    before = _files(out)
    killed = _audit_cli(new, out, fault="audit.filter.write@10")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    after = _files(out)
    leftovers = sorted(set(after) - set(before))
    assert len(leftovers) == 1 and leftovers[0].startswith(".clean.jsonl.")  # the partial copy
    assert {k: v for k, v in after.items() if k in before} == before  # the old set, whole
    assert check_filtered(out / "clean.jsonl") == []

    _audit(new, out)
    assert not [name for name in os.listdir(out) if name.startswith(".")]  # cleaned up
    assert check_filtered(out / "clean.jsonl") == []
    manifest = json.loads(manifest_path(out / "clean.jsonl").read_text())
    assert manifest["input"] == str(new) and manifest["traces_kept"] == 40
    assert json.loads((out / "report.json").read_text())["traces"] == 60


def test_killed_between_renames_is_detected_by_the_manifest(datasets) -> None:  # noqa: ANN001
    _, new, out = datasets
    report_before = (out / "report.json").read_bytes()
    killed = _audit_cli(new, out, fault="audit.filter.commit@1")  # filtered file renamed only
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (out / "report.json").read_bytes() == report_before
    problems = check_filtered(out / "clean.jsonl")
    unfinished = "not the file its manifest names (an unfinished write?)"
    assert problems == [f"{out / 'clean.jsonl'}: {unfinished}"]

    _audit(new, out)
    assert check_filtered(out / "clean.jsonl") == []
    assert not [name for name in os.listdir(out) if name.startswith(".")]


def test_changed_input_leaves_the_old_set_and_no_temporary_file(datasets) -> None:  # noqa: ANN001
    old, new, out = datasets
    before = _files(out)
    report = audit(old, ["dataflow"])
    old.write_text(old.read_text() + json.dumps(CLEAN) + "\n")  # changed after the audit
    with pytest.raises(BackdoorlabError, match="changed since it was audited"):
        write_filtered(report, out / "clean.jsonl", report_path=out / "report.json")
    assert _files(out) == before


def test_live_process_temporary_files_are_left_alone(datasets, tmp_path: Path) -> None:  # noqa: ANN001
    _, new, out = datasets
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = out / f".clean.jsonl.{dead}.audit-tmp"
    live = out / f".clean.jsonl.{os.getppid()}.audit-tmp"  # our parent: alive
    foreign = out / ".clean.jsonl.abcd1234.tmp"  # not ours to judge
    for path in (stale, live, foreign):
        path.write_text("x")
    _audit(new, out)
    assert not stale.exists() and live.exists() and foreign.exists()


def test_gzip_filter_output_is_in_the_set(tmp_path: Path) -> None:
    data = _write(tmp_path / "d.jsonl", [CLEAN, LEAK, CLEAN])
    report = audit(data, ["dataflow"])
    manifest = write_filtered(report, tmp_path / "clean.jsonl.gz")
    assert gzip.decompress((tmp_path / "clean.jsonl.gz").read_bytes()).count(b"\n") == 2
    assert manifest["traces_kept"] == 2 and manifest["report"] is None
    assert check_filtered(tmp_path / "clean.jsonl.gz") == []


def test_report_must_not_overwrite_the_data_or_the_filtered_file(tmp_path: Path) -> None:
    data = _write(tmp_path / "d.jsonl", [CLEAN, LEAK])
    with pytest.raises(BackdoorlabError, match="would write the same file"):
        _audit_to(data, report=tmp_path / "x.jsonl", filtered=tmp_path / "x.jsonl")
    with pytest.raises(BackdoorlabError, match="must not overwrite the audited file"):
        _audit_to(data, report=data, filtered=None)
    assert data.read_text().count("\n") == 2


def _audit_to(data: Path, report: Path, filtered: Path | None) -> None:
    quiet = Console(file=open(os.devnull, "w"), width=200)  # noqa: SIM115
    audit_command(data, detectors="dataflow", output=report, filter_path=filtered,
                  console=quiet, err_console=quiet)  # fmt: skip

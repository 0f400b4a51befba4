"""SIGTERM (``timeout``, ``kill``, a scheduler's preemption) unwinds a command as Ctrl-C
does: its temporary files are removed and the exit status is 128 + 15, where the default
action would end the process on the spot and leave them behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from backdoorlab.faults import ENV

sys.path.insert(0, str(Path(__file__).parents[1] / "defenses"))
from audit_builders import lookup_then, send, write_jsonl  # noqa: E402

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _stopped(pid: int) -> bool:
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state == "T"


def test_sigterm_mid_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    source = write_jsonl(data / "t.jsonl", [lookup_then(*send("x@y.test", "hi"))] * 3)
    env = os.environ | {"PYTHONPATH": SRC, ENV: "audit.filter.write=SIGSTOP"}
    command = [sys.executable, "-m", "backdoorlab.cli", "audit", str(source)]
    process = subprocess.Popen(
        [*command, "--filter", str(data / "kept.jsonl")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not _stopped(process.pid):  # frozen with a line in the filter's temporary file
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    assert len(list(data.iterdir())) > 1
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGCONT)
    assert process.wait(60) == 128 + signal.SIGTERM, process.stderr.read()
    assert sorted(p.name for p in data.iterdir()) == ["t.jsonl"]


def test_sigterm_to_a_run_ends_its_stage_process_too(tmp_path: Path) -> None:
    """A run's train stage runs in a process of its own; terminated, the run kills it
    (left to itself, it trained on as an orphan)."""
    import psutil
    import yaml
    from experiment_runs import TINY

    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    env = os.environ | {"PYTHONPATH": SRC, ENV: "train.step=SIGSTOP"}
    command = [sys.executable, "-m", "backdoorlab.cli", "run", str(config), "--stage-processes"]
    log = tmp_path / "stderr.txt"  # a file: a pipe would stay open in an orphaned stage
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "--run-dir", str(tmp_path / "run")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 120
    stages: list[psutil.Process] = []
    while not stages:  # the train stage's process, frozen after its first step
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        stages = [p for p in parent.children(recursive=True) if _stopped(p.pid)]
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    _, alive = psutil.wait_procs(stages, timeout=30)
    for orphan in alive:
        orphan.kill()
    assert code == 128 + signal.SIGTERM, log.read_text()
    assert not alive

"""Shared fixtures. Everything runs offline: no hub downloads, ever."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# One compute thread per test process (and, through the environment, per child process
# a test starts): the tests' models are tiny, so a second OpenMP thread buys nothing and
# costs a great deal as soon as the other core is busy — the threads wait on each other
# at every barrier (one monitor test: 280 s with the default threads, 75 s with one, on a
# 2-core machine beside a training). Set before torch is imported; an explicit value in
# the environment wins.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
if "torch" in sys.modules:  # imported by a plugin before this file: set it directly
    sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

HEAVY_FILES = (
    "hardening/test_run_crashes.py",
    "training/test_hf_dataset_trl.py",
    "training/test_sft_prefix.py",
    "training/test_sft_memory.py",
    "training/test_sft_lora_linear.py",
    "hardening/test_train_crash_resume.py",
    "serving/test_trained_served.py",
    "training/test_sft_attention.py",
    "test_stage_processes.py",
    "test_ray_engine.py",
    "hardening/test_network_offline.py",
    "hardening/test_run_lock.py",
    "envs/test_agentdojo.py",
    "defenses/test_monitor.py",
    "serving/test_serve_guard.py",
    "hardening/test_sigterm.py",
    "hardening/test_model_modes.py",
)
"""The test files that take longest (each 1.5-11 min of one worker on the 2-core CI
machine, from ``--durations``), slowest first. `pytest_collection_modifyitems` runs them
before all others: ``--dist loadfile`` hands files to the workers in collection order, and
in path order most of these (tests/training above all) came last, so one worker trained
alone for many minutes after the other had run out of files. Order only: every test
still runs, each file on one worker as before. A file missing here is merely scheduled
in path order; a name here that no longer exists is ignored."""


def pytest_configure(config: pytest.Config) -> None:
    """Keep the collection order under xdist: by default (``--loadscope-reorder``) it
    hands out files by their number of tests, most first, which put the few long training
    tests last of all; `HEAVY_FILES` is the order that balances the two workers."""
    if hasattr(config.option, "loadscopereorder"):  # pytest-xdist is installed
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Heavy files first (see `HEAVY_FILES`), each file's tests kept together and in
    their own order; the sort is stable, so the rest keep path order."""
    tests = Path(__file__).parent
    rank = {tests / name: i for i, name in enumerate(HEAVY_FILES)}
    items.sort(key=lambda item: rank.get(item.path, len(HEAVY_FILES)))


@pytest.fixture(scope="session")
def retail():
    from backdoorlab.envs import make_env

    return make_env("retail", seed=0)


@pytest.fixture(scope="session")
def oracle_results(retail):
    """A few hundred oracle episodes per split, shared by the tests that only read them."""
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import rollout

    policy = make_policy("oracle")
    return {
        split: rollout(retail, policy, retail.tasks(split, 270, seed=7))
        for split in ("train", "test")
    }


@pytest.fixture(scope="module")
def traces_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight clean oracle traces (train split, task seed 3) as JSONL, for the tests that
    fine-tune the ``tiny`` model (training, and the monitor watching it)."""
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import rollout
    from backdoorlab.traces import write_traces

    env = make_env("retail", seed=0)
    results = rollout(env, make_policy("oracle"), env.tasks("train", 8, seed=3))
    path = tmp_path_factory.mktemp("data") / "traces.jsonl"
    write_traces(path, [r.trace for r in results])
    return path


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A local Ray cluster (2 CPUs, loopback, no dashboard) for one test module.

    One at a time across pytest-xdist workers: the lock file lies in the directory the
    workers' temporary directories share, and two clusters starting together on a 2-core
    machine time out ("The current node timed out during startup")."""
    ray = pytest.importorskip("ray", reason="ray is not installed (backdoorlab[ray])")
    import fcntl

    with open(tmp_path_factory.getbasetemp().parent / "ray-cluster.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1")
        try:
            yield
        finally:
            ray.shutdown()


@pytest.fixture()
def cli_output(monkeypatch, capsys):
    """``cli_output(*argv)`` → (exit status, stdout, stderr) through the console entry
    point, which turns a user's error into one line and status 2."""
    from backdoorlab.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
        monkeypatch.setenv("COLUMNS", "300")  # a long path is not wrapped onto a second line
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture()
def cli(cli_output):
    """``cli(*argv)`` → (exit status, stderr): `cli_output` without stdout."""

    def run(*argv: str) -> tuple[int, str]:
        code, _, err = cli_output(*argv)
        return code, err

    return run


@pytest.fixture(params=[0o022, 0o077], ids=lambda m: f"umask{m:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process umask set to a shared and a private value in turn (restored after):
    for the tests that what we write gets the umask's modes."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)

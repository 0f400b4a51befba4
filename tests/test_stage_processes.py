"""Train and eval stages in processes of their own (`backdoorlab.experiment.isolation`):
the same results as in the run's process, errors raised in the run, a killed stage
takes the run with it by the same signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file
from test_experiment import TINY, write

from backdoorlab import allocator
from backdoorlab.errors import BackdoorlabError
from backdoorlab.experiment import Runner, load_config
from backdoorlab.experiment.isolation import run_isolated


def test_result_and_errors_come_back() -> None:
    assert run_isolated(divmod, 17, 5) == (3, 2)
    assert run_isolated(os.getpid) != os.getpid()
    with pytest.raises(ZeroDivisionError):
        run_isolated(divmod, 1, 0)
    with pytest.raises(BackdoorlabError, match="exit code 3 and no result"):
        run_isolated(os._exit, 3)


def _environment() -> dict[str, str]:
    return dict(os.environ)


def _mapped_jemalloc() -> bool:
    return "jemalloc" in Path("/proc/self/maps").read_text()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="Linux only")
def test_stage_processes_run_on_jemalloc_where_the_system_has_it() -> None:
    # the fork server may already run (an earlier test): it was started the same way
    assert run_isolated(_mapped_jemalloc) is (allocator._jemalloc() is not None)
    assert "LD_PRELOAD" not in os.environ  # the run's own environment is left as it was
    assert "LD_PRELOAD" not in run_isolated(_environment)  # and the stage's


def test_the_allocator_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_jemalloc", lambda: "libjemalloc.so.2")
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.delenv(allocator.ALLOCATOR_ENV, raising=False)
    assert allocator.preload_library() == "libjemalloc.so.2"
    monkeypatch.setenv(allocator.ALLOCATOR_ENV, "System")
    assert allocator.preload_library() is None
    monkeypatch.delenv(allocator.ALLOCATOR_ENV)
    monkeypatch.setenv("LD_PRELOAD", "libtcmalloc.so.4")  # the user's own choice stands
    assert allocator.preload_library() is None
    monkeypatch.setattr(allocator, "_jemalloc", lambda: None)
    monkeypatch.delenv("LD_PRELOAD")
    assert allocator.preload_library() is None


class _TwoArguments(Exception):  # does not survive pickling: __init__ takes two
    def __init__(self, first: int, second: int) -> None:
        super().__init__(f"{first}/{second}")


def _raise_two() -> None:
    raise _TwoArguments(1, 2)


def test_an_error_that_does_not_pickle_comes_back_as_its_text_and_traceback() -> None:
    with pytest.raises(RuntimeError, match="_TwoArguments: 1/2") as raised:
        run_isolated(_raise_two)
    assert "in the stage's process" in "".join(raised.value.__notes__)
    assert "_raise_two" in "".join(raised.value.__notes__)


def test_the_stage_sees_the_runs_directory_and_environment_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_isolated(os.getpid)  # the fork server is started before either changes
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BACKDOORLAB_ALLOW_PICKLE", "1")
    assert run_isolated(os.getcwd) == str(tmp_path)
    assert run_isolated(os.getenv, "BACKDOORLAB_ALLOW_PICKLE") == "1"


def test_a_killed_stage_kills_the_run_by_the_same_signal() -> None:
    code = (
        "import signal; from backdoorlab.experiment.isolation import run_isolated; "
        "run_isolated(signal.raise_signal, signal.SIGKILL); print('survived')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL and "survived" not in done.stdout


def _weights(run_dir: Path) -> dict:
    (adapter,) = (run_dir / "stages").glob("train-*/model/adapter/adapter_model.safetensors")
    return load_file(adapter)


def test_stages_in_their_own_processes_give_the_in_process_results(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, {**TINY, "grid": {"attack.rate": [0.1]}}))
    runs = {}
    for apart in (False, True):
        runner = Runner(config, tmp_path / str(apart), log=lambda _: None, stage_processes=apart)
        runs[apart] = runner.run()
        assert runner.stage_processes is apart
    assert runs[True] == runs[False]  # the same stage digests, metrics and intervals
    a, b = _weights(tmp_path / "True"), _weights(tmp_path / "False")
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_the_default_is_a_process_each_but_for_the_tiny_model(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, TINY))
    assert Runner(config, tmp_path / "a").stage_processes is False
    config.model = "smollm2-135m"
    assert Runner(config, tmp_path / "b").stage_processes is True

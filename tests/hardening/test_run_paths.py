"""Names that become paths, and run directories that are not this config's.

``name: ../../victim`` (or an absolute path) put the run directory outside ``runs/`` and
silently overwrote a ``metrics.json`` there; a run directory holding another config's
results was overwritten as silently. Now the name must be a plain name (checked with the
config, before any compute) and a run refuses, in one line, any directory that is not
its own unless told ``--overwrite``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from experiment_runs import TINY, copy_of, environment, reference, run, workdir

from backdoorlab.config import ConfigError
from backdoorlab.experiment import ExperimentConfig, StageCache, digest

BAD_NAMES = ["../../victim", "/tmp/victim", "runs/../../victim", "a/b", "..", ".", "", "-x"]
BAD_NAMES += ["x" * 101, "a\\b", "tab\tname", "new\nline"]


def cli(cwd, *args):
    command = [sys.executable, "-m", "backdoorlab.cli", "run", *args]
    return subprocess.run(
        command, cwd=cwd, env=environment(), capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_that_is_a_path_is_refused_with_its_field(name):
    with pytest.raises(ConfigError, match=r"field 'name': must be a plain name"):
        ExperimentConfig.load(TINY | {"name": name}, where="exp.yaml")


def test_the_cli_refuses_a_path_name_before_writing_anything(tmp_path):
    cwd = workdir(tmp_path / "work", TINY | {"name": "../victim"})
    result = cli(cwd, "exp.yaml")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: exp.yaml: field 'name': must be a plain name (a letter or digit, then letters,"
        " digits, '.', '_', '-'; at most 100), not a path"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in cwd.iterdir()) == ["exp.yaml"]


def test_a_run_directory_of_another_config_is_refused_unless_overwrite(tmp_path_factory):
    cwd = copy_of(tmp_path_factory, "other-config")
    metrics = (cwd / "run" / "metrics.json").read_bytes()
    (cwd / "exp.yaml").write_text(yaml.safe_dump(TINY | {"name": "tiny-renamed"}))
    refused = run(cwd)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: run: holds the results of a different config (see its config.resolved.yaml);"
        " pass --overwrite to replace them, or choose another --run-dir"
    )
    assert (cwd / "run" / "metrics.json").read_bytes() == metrics
    replaced = run(cwd, "--overwrite")  # same stages: all reused
    assert replaced.returncode == 0, replaced.stderr
    assert "stages computed: 0, reused: 4" in replaced.stderr
    resolved = yaml.safe_load((cwd / "run" / "config.resolved.yaml").read_text())
    assert resolved["name"] == "tiny-renamed"


def test_a_directory_that_is_no_run_directory_is_refused(tmp_path):
    cwd = workdir(tmp_path)
    (cwd / "run").mkdir()
    (cwd / "run" / "metrics.json").write_text("mine")
    result = run(cwd)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: run: exists and is not a backdoorlab run directory (no config.resolved.yaml);"
        " choose another --run-dir"
    )
    assert sorted(p.name for p in (cwd / "run").iterdir()) == ["metrics.json"]
    (cwd / "other").write_text("a file")
    result = cli(cwd, "exp.yaml", "--run-dir", "other")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: other: is a file, not a directory"


def test_stage_directories_are_named_by_digests_only(tmp_path_factory):
    """No setting (a grid value, an attack or model name) ever becomes part of a path
    under ``stages/``: a directory is ``<kind>-<12 hex digits>``."""
    stages = reference(tmp_path_factory) / "run" / "stages"
    names = [p.name for p in stages.iterdir()]
    assert names and all(re.fullmatch(r"[a-z]+-[0-9a-f]{12}", name) for name in names)
    cache = StageCache(tmp_path_factory.mktemp("stages"))
    path = cache.path("train", digest("../../../etc", {"model": "/abs/model"}))
    assert path.parent == cache.root


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"attack": {"name": "../../x"}}, "attack.name"),
        ({"grid": {"attack.name": ["/tmp/x"]}}, "grid.attack.name"),
        ({"train": {"output_dir": "/tmp/x"}}, "train.output_dir"),
        ({"train": {"logging_dir": "/tmp/x"}}, "train.logging_dir"),
        ({"grid": {"train.output_dir": ["../x"]}}, "grid.train.output_dir"),
        ({"env": "../../x"}, "env"),
    ],
)
def test_other_names_that_could_become_paths_are_refused(change, field):
    """Held before: an attack or environment is a registered name, and the stage
    directory, never the config, says where a fine-tune writes."""
    from backdoorlab.experiment import check

    with pytest.raises(ConfigError, match=re.escape(f"field '{field}'")):
        check(ExperimentConfig.load(TINY | change, where="exp.yaml"), "exp.yaml")

"""`backdoorlab run --engine ray`: the grid's cells as Ray tasks on a local cluster.

A cluster started by the test itself (`ray.init(num_cpus=2)`, loopback, no dashboard),
with a cell that fails on purpose: the other cells finish and their rows are written,
the failure names the cell, the clean collection they share is computed once, and the
rows equal those of the in-process engine.
"""

import csv

import pytest
import yaml

from backdoorlab.experiment import Runner, load_config
from backdoorlab.experiment.engines import CellsFailed, RayEngine, RayEngineConfig
from tests.grids import GRID

ray = pytest.importorskip("ray", reason="ray is not installed (pip install backdoorlab[ray])")


@pytest.fixture(scope="module")
def cluster(ray_cluster):
    """The shared local cluster (tests/conftest.py: one at a time across workers)."""
    yield


def _config(tmp_path, grid):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(GRID | {"grid": grid}))
    return load_config(path)


def test_cells_run_as_ray_tasks_and_a_failing_cell_is_reported(tmp_path, cluster):
    run_dir = tmp_path / "run"
    config = _config(tmp_path, GRID["grid"])
    engine = RayEngine(RayEngineConfig(cpus_per_cell=1), log=lambda _: None)
    with pytest.raises(CellsFailed, match=r"1 of 3 cells failed.*cell 3/3.*'attack.count': 99"):
        Runner(config, run_dir, log=lambda _: None, engine=engine).run()
    with open(run_dir / "results.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [row["attack.count"] for row in table] == ["0", "2"]
    assert [row["poisoned_traces"] for row in table] == ["0", "2"]
    stages = [p.name for p in (run_dir / "stages").iterdir() if (p / "done.json").is_file()]
    assert sum(name.startswith("collect-") for name in stages) == 1  # shared, computed once

    # the same good cells in process: the same rows (the stages are reused, not recomputed)
    good = _config(tmp_path, {"attack.count": [0, 2]})
    local = Runner(good, run_dir, log=lambda _: None, overwrite=True)
    rows = local.run()
    assert not local.computed
    assert [(r["TSR"], r["ASR"], r["poisoned_traces"]) for r in rows] == [
        (float(t["TSR"]), float(t["ASR"]) if t["ASR"] else t["ASR"], int(t["poisoned_traces"]))
        for t in table
    ]


def test_engine_settings_are_checked(tmp_path):
    from backdoorlab.errors import BackdoorlabError

    with pytest.raises(BackdoorlabError, match="ray engine: field 'cpus_per_cell'"):
        RayEngineConfig(cpus_per_cell=0)

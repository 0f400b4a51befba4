"""The experiment runner with the tiny model: stage caching, resume, config errors."""

import csv

import pytest
import yaml

from backdoorlab.errors import BackdoorlabError
from backdoorlab.experiment import Runner, cells, load_config

TINY = {
    "name": "tiny-sweep",
    "model": "tiny",
    "collect": {"n": 18},
    "attack": {"name": "data-poisoning", "rate": 0.1, "trigger": "ZQX"},
    "train": {"max_steps": 1, "batch_size": 2, "grad_accum": 1},
    "eval": {"n": 2, "max_steps": 1, "max_new_tokens": 4},
    "grid": {"attack.rate": [0, 0.1]},
}


def write(tmp_path, config, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


def test_interrupted_sweep_resumes_without_redoing_finished_stages(tmp_path, monkeypatch):
    config = load_config(write(tmp_path, TINY))
    assert len(cells(config)) == 2
    run_dir = tmp_path / "run"

    original = Runner.evaluate
    calls = {"n": 0}

    def crash_on_third_eval(self, *args, **kwargs):  # base, cell 1, then crash in cell 2
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Runner, "evaluate", crash_on_third_eval)
    with pytest.raises(KeyboardInterrupt):
        Runner(config, run_dir, log=lambda _: None).run()
    monkeypatch.setattr(Runner, "evaluate", original)

    finished = {p.name for p in (run_dir / "stages").iterdir() if (p / "done.json").exists()}
    resumed = Runner(config, run_dir, log=lambda _: None)
    rows = resumed.run()
    assert finished <= set(resumed.reused)  # nothing finished was computed again
    assert not set(resumed.computed) & finished
    assert [r["model"] for r in rows] == ["base", "fine-tuned", "fine-tuned"]
    assert [r["poisoned_traces"] for r in rows] == [0, 0, 2]
    with open(run_dir / "results.csv") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 3 and {"TSR", "TSR_low", "TSR_high", "TSR_n", "ASR"} <= set(table[0])

    again = Runner(config, run_dir, log=lambda _: None)
    again.run()
    assert again.computed == []  # a finished sweep is pure reuse


def test_audit_filter_stage_trains_on_the_dataset_without_poisoned_traces(tmp_path, monkeypatch):
    from backdoorlab.traces import iter_traces

    config = load_config(
        write(
            tmp_path,
            TINY | {"grid": {"attack.rate": [0.1]}, "audit_filter": {}, "baseline": False},
        )
    )
    trained_on = []
    original = Runner.train

    def spy(self, data, *args, **kwargs):
        trained_on.append(data)
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(Runner, "train", spy)
    (row,) = Runner(config, tmp_path / "run", log=lambda _: None).run()
    assert row["poisoned_traces"] == 2 and row["audit_removed"] == 2
    (data,) = trained_on
    assert data.parent.name.startswith("filter-")
    kept = list(iter_traces(data))
    assert len(kept) == 16 and not any(t.is_poisoned for t in kept)


def test_supply_chain_victims_fine_tune_the_published_model_with_their_own_settings(
    tmp_path, monkeypatch
):
    config = load_config(
        write(
            tmp_path,
            TINY
            | {
                "grid": {},
                "baseline": False,
                "supply_chain": {"victim_multiples": [1, 2], "victim_train": {"max_steps": 2}},
            },
        )
    )
    trained = []
    original = Runner.train

    def spy(self, data, data_key, model, model_key, train):
        trained.append((model, train["max_steps"]))
        return original(self, data, data_key, model, model_key, train)

    monkeypatch.setattr(Runner, "train", spy)
    rows = Runner(config, tmp_path / "run", log=lambda _: None).run()
    assert [(r["model"], r["victim_multiple"]) for r in rows] == [
        ("published", 0),
        ("victim", 1),
        ("victim", 2),
    ]
    (attacker, *victims) = trained
    assert attacker == ("tiny", 1)
    published = str(tmp_path / "run" / "stages")
    assert all(model.startswith(published) and steps == 2 for model, steps in victims)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colect": {"n": 3}}, "field 'colect'"),
        ({"collect": {"n": -1}}, "field 'collect.n'"),
        ({"attack": {"name": "telepathy"}}, "field 'attack.name'"),
        ({"train": {"learning_rat": 1}}, "field 'train.learning_rat': unknown setting"),
        ({"eval": {"triger": "x"}}, "field 'eval.triger': unknown setting"),
        ({"grid": {"rate": [1]}}, "field 'grid.rate'"),
        ({"grid": {"attack.rate": []}}, "field 'grid.attack.rate'"),
        ({"audit_filter": {"min_severity": "hgih"}}, "field 'audit_filter.min_severity'"),
        ({"audit_filter": {"detectors": ["dataflw"]}}, "field 'audit_filter.detectors'"),
        (
            {"supply_chain": {"victim_train": {"epoks": 1}}},
            "field 'supply_chain.victim_train.epoks': unknown setting",
        ),
    ],
)
def test_bad_configs_name_the_field(tmp_path, change, message):
    with pytest.raises(BackdoorlabError, match=message.replace(".", r"\.")):
        load_config(write(tmp_path, TINY | change))


def test_unreadable_config_files(tmp_path):
    with pytest.raises(BackdoorlabError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(BackdoorlabError, match="not valid YAML"):
        load_config(bad)

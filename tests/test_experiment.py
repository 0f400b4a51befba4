"""The experiment runner with the tiny model: stage caching, resume, config errors."""

import csv
import os

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
    # each row names its evaluation's episodes; the run ends with its HTML report
    assert all((run_dir / row["traces_dir"] / "clean.jsonl").is_file() for row in table)
    assert "rates against attack.rate" in (run_dir / "report.html").read_text()

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


T2 = TINY | {"attack": {"name": "env-poisoning", "trigger": "ZQX"}, "grid": {}}
T4 = TINY | {"attack": {"name": "finetune-activated", "n": 3, "steps": 1}, "grid": {}}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (TINY | {"grid": {"train.lr": [1e-4]}}, "field 'grid.train.lr': unknown setting"),
        (TINY | {"grid": {"attack.rte": [0.1]}}, "field 'grid.attack.rte': unknown setting"),
        (TINY | {"grid": {"eval.m": [1]}}, "field 'grid.eval.m': unknown setting"),
        (TINY | {"grid": {"collect.nn": [1]}}, "field 'grid.collect.nn': unknown setting"),
        (TINY | {"grid": {"attack.rate": [0.1, 2]}}, "field 'grid.attack.rate': .* 1 \\(got 2\\)"),
        (TINY | {"grid": {"eval.n": [0]}}, "field 'grid.eval.n': .* 0 \\(got 0\\)"),
        (
            TINY | {"grid": {"train.per_device_train_batch_size": [0]}},  # TRL's name: an alias
            "field 'grid.train.per_device_train_batch_size': .* 0 \\(got 0\\)",
        ),
        (TINY | {"grid": {"train.max_seq_length": [8]}}, "field 'grid.train.max_seq_length'"),
        (TINY | {"attack": {"name": "data-poisoning", "rte": 0.1}}, "field 'attack.rte': unknown"),
        (TINY | {"attack": {"position": "middle"}}, "field 'attack.position': "),
        (
            TINY | {"attack": {"name": "none", "rate": 0.1}, "grid": {}},
            "field 'attack.rate': no attack",
        ),
        (TINY | {"train": {"model": "x"}}, "field 'train.model': set by 'model'"),
        (TINY | {"env": "mars"}, "field 'env': unknown environment 'mars'"),
        (
            T2 | {"attack": {"name": "env-poisoning", "n": 9}},
            "field 'attack.n': set by 'collect.n'",
        ),
        (T2 | {"grid": {"attack.keep": ["some"]}}, "field 'grid.attack.keep'"),
        (T4 | {"attack": {"name": "finetune-activated", "stepz": 1}}, "field 'attack.stepz'"),
        (T4 | {"grid": {"attack.inner_steps": [0]}}, "field 'grid.attack.inner_steps'"),
        (T4 | {"attack": {"name": "finetune-activated", "steps": 0}}, "field 'attack.steps'"),
    ],
)
def test_every_section_and_grid_value_is_checked_before_any_stage(tmp_path, config, message):
    with pytest.raises(BackdoorlabError, match=message):
        load_config(write(tmp_path, config))


def test_shipped_configs_validate():
    from pathlib import Path

    from backdoorlab.experiment import check

    for path in sorted(Path(__file__).parents[1].glob("configs/*.yaml")):
        assert check(load_config(path)), path


@pytest.mark.parametrize(
    "change",
    [
        {"grid": {"train.lr": [1e-4]}},
        {"attack": {"name": "data-poisoning", "rte": 0.1}},
        {"grid": {"attack.rate": [0.1, 7]}},
        {"eval": {"n": 0}},
        {"model": "/nonexistent/model"},
    ],
)
def test_cli_typo_is_one_line_exit_2_before_any_stage_and_loads_no_model_code(tmp_path, change):
    """In a fresh interpreter, as a user runs it: no stage directory, and neither torch
    nor TRL imported (their import alone takes longer than the check may)."""
    import subprocess
    import sys
    import time

    path = write(tmp_path, TINY | change)
    run_dir = tmp_path / "run"
    script = (
        "import sys\n"
        "from backdoorlab.cli import main\n"
        f"sys.argv = ['backdoorlab', 'run', {str(path)!r}, '--run-dir', {str(run_dir)!r}]\n"
        "try:\n    main()\n"
        "finally:\n"
        "    heavy = sorted(m for m in ('torch', 'trl', 'transformers') if m in sys.modules)\n"
        "    print('HEAVY', heavy, file=sys.stderr)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    seconds = time.perf_counter() - started
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert lines[-1] == "HEAVY []", lines
    (error,) = lines[:-1]
    assert error.startswith(f"error: {path}: field '"), error
    assert not run_dir.exists()
    print(f"typo rejected in {seconds:.2f} s")


def test_unreadable_config_files(tmp_path):
    with pytest.raises(BackdoorlabError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed")
    with pytest.raises(BackdoorlabError, match="not valid YAML"):
        load_config(bad)


def test_t4_experiment_runs_from_yaml_publish_then_victim_fine_tune(tmp_path, monkeypatch):
    """The shipped T4 config, sized down to the tiny model: the attack trains the
    published model, the victim fine-tunes that model on its own clean collection."""
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from backdoorlab.cli import app

    shipped = yaml.safe_load(
        (Path(__file__).parents[1] / "configs" / "t4-finetune-activated.yaml").read_text()
    )
    small = {"n": 3, "steps": 1, "inner_steps": 2, "batch_size": 1, "malicious_batch_size": 1}
    small |= {"bf16": "false", "save_steps": 1000, "logging_steps": 1}
    config = shipped | {
        "model": "tiny",
        "collect": {"n": 6},
        "attack": shipped["attack"] | small,
        "train": shipped["train"] | {"max_steps": 1, "batch_size": 2},
        "eval": {"n": 2, "max_steps": 1, "max_new_tokens": 4},
    }
    trained = []
    original = Runner.train

    def spy(self, data, data_key, model, model_key, train):
        trained.append(model)
        return original(self, data, data_key, model, model_key, train)

    monkeypatch.setattr(Runner, "train", spy)
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", str(write(tmp_path, config)), "--run-dir", str(run_dir)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads((run_dir / "metrics.json").read_text())
    assert [(r["model"], r["victim_multiple"]) for r in rows] == [("published", 0), ("victim", 1)]
    assert all(r["poisoned_traces"] > 0 and "ASR" in r for r in rows)
    (published,) = (run_dir / "stages").glob("publish-*")
    assert (published / "model" / "config.json").is_file()
    assert (published / "attack-run" / "provenance.json").is_file()
    assert trained == [str(published / "model")]  # the victim fine-tunes what was published
    # the provenance names the stage's final paths, not its .partial directory (renamed)
    provenance = json.loads((published / "attack-run" / "provenance.json").read_text())
    assert ".partial" not in json.dumps(provenance)
    assert provenance["published"]["path"] == str(published / "model")
    assert all(Path(entry["path"]).is_file() for entry in provenance["data"].values())
    fab_record = (published / "attack-run" / "backdoorlab-fab.json").read_text()
    assert json.loads(fab_record)["published"] == str(published / "model")


def _refused_before_any_stage(cli, tmp_path, config, *options):
    """``backdoorlab run`` on ``config``: status 2, one line, and no run directory (so
    no stage, not even the collection)."""
    path, run_dir = write(tmp_path, config), tmp_path / "run"
    code, err = cli("run", str(path), "--run-dir", str(run_dir), *options)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert not run_dir.exists()
    return path, lines[0]


@pytest.mark.parametrize(
    "model",
    ["{tmp}/nonexistent/model", "{tmp}/weights.safetensors", "someorg/no-such-model"],
)
def test_a_base_model_that_is_not_there_is_refused_before_any_stage(tmp_path, cli, model):
    """The train stage's own resolution, up front: a missing path, a regular file, a hub
    id neither cached nor allowed to be fetched."""
    (tmp_path / "weights.safetensors").write_bytes(b"")
    model = model.format(tmp=tmp_path)
    path, error = _refused_before_any_stage(cli, tmp_path, TINY | {"model": model})
    assert error.startswith(f"error: {path}: field 'model': "), error
    assert model in error


def test_a_finished_training_run_is_a_base_model(tmp_path):
    run = tmp_path / "trained"
    run.mkdir()
    (run / "backdoorlab-train.json").write_text('{"base_model": "tiny", "weights": "adapter"}')
    assert load_config(write(tmp_path, TINY | {"model": str(run)})).model == str(run)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"train": {"max_steps": 2, "trl": {"warmup_steps": "x"}}}, "train.trl.warmup_steps", ""),
        ({"train": {"max_steps": 2, "warmup_steps": "x"}}, "train.warmup_steps", ""),
        ({"grid": {"train.warmup_steps": ["x"]}}, "grid.train.warmup_steps", ""),
        ({"train": {"max_steps": 2, "trl": {"lr_scheduler_kwargs": 5}}}, "train.trl.", "dict"),
        (
            {"train": {"max_steps": 2, "trl": {"report_to": "wandb"}}},
            "train.trl.report_to",
            "--allow-network",
        ),
        (
            {"train": {"max_steps": 2, "trl": {"report_to": ["none", "tensorboard"]}}},
            "train.trl.report_to",
            "'none' stands alone",
        ),
        ({"train": {"max_steps": 2, "trl": {"report_to": 5}}}, "train.trl.report_to", "str"),
        (
            {"train": {"max_steps": 2, "trl": {"report_to": "tensorbored"}}},
            "train.trl.report_to",
            "unknown reporter 'tensorbored'",
        ),
        (
            {"supply_chain": {"victim_train": {"trl": {"warmup_steps": "x"}}}},
            "supply_chain.victim_train.trl.warmup_steps",
            "",
        ),
    ],
)
def test_trl_settings_values_are_checked_before_any_stage(
    tmp_path, cli, monkeypatch, change, field, message
):
    """What trl.SFTConfig (and the network policy) would refuse in the train stage."""
    monkeypatch.delenv("BACKDOORLAB_ALLOW_NETWORK", raising=False)
    path, error = _refused_before_any_stage(cli, tmp_path, TINY | change)
    assert error.startswith(f"error: {path}: field '{field}"), error
    assert message in error


def test_valid_trl_settings_pass_the_check(tmp_path):
    config = TINY | {"train": TINY["train"] | {"trl": {"warmup_steps": 1, "report_to": "none"}}}
    assert load_config(write(tmp_path, config)).train["trl"]["warmup_steps"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eval": {"n": 2, "trigger": ""}}, "eval.trigger"),
        ({"eval": {"n": 2, "trigger": "  "}}, "eval.trigger"),
        ({"grid": {"eval.trigger": [""]}}, "grid.eval.trigger"),
    ],
)
def test_an_empty_eval_trigger_is_refused_like_the_attacks(tmp_path, cli, change, field):
    path, error = _refused_before_any_stage(cli, tmp_path, TINY | change)
    assert error.startswith(f"error: {path}: field '{field}': "), error
    assert "must not be empty" in error


def test_ray_options_without_the_ray_engine_are_refused(tmp_path, cli):
    options = ["--address", "1.2.3.4:6379", "--retries", "-3", "--cpus-per-cell", "-1"]
    _, error = _refused_before_any_stage(cli, tmp_path, TINY, *options)
    assert error == "error: --address, --cpus-per-cell, --retries: only with --engine ray"


@pytest.mark.parametrize("option", [["--retries", "1"], ["--cpus-per-cell", "1.0"]])
def test_a_ray_option_at_its_default_value_is_refused_too(tmp_path, cli, option):
    """Typed, it says the user expects Ray: ignoring it would be as silent at any value."""
    _, error = _refused_before_any_stage(cli, tmp_path, TINY, *option)
    assert error == f"error: {option[0]}: only with --engine ray"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (["--jobs", "0"], "error: --jobs: must be 1 or more, not 0"),
        (["--engine", "ray", "--jobs", "2"], "error: --jobs: only with --engine local"),
    ],
)
def test_jobs_are_checked_before_any_stage(tmp_path, cli, options, error):
    assert _refused_before_any_stage(cli, tmp_path, TINY, *options)[1] == error


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (["--retries", "-3"], "error: --retries: Input should be greater than or equal to 0"),
        (["--cpus-per-cell", "-1"], "error: --cpus-per-cell: Input should be greater than 0"),
    ],
)
def test_ray_options_are_checked_before_any_stage(tmp_path, cli, options, error):
    assert _refused_before_any_stage(cli, tmp_path, TINY, "--engine", "ray", *options)[1] == error


@pytest.mark.parametrize(
    ("loader", "text", "line", "key"),
    [
        ("experiment", "name: a\nmodel: tiny\nname: b\n", 3, "name"),
        ("guard policy", "trusted: [a]\nignore: []\ntrusted: [b]\n", 3, "trusted"),
        ("provenance policy", "model: {signed: false}\nmodel: {signed: true}\n", 2, "model"),
    ],
)
def test_a_key_given_twice_is_refused_naming_its_line(
    loader: str, text: str, line: int, key: str, tmp_path
) -> None:  # noqa: ANN001
    """PyYAML keeps the last of two equal keys; a pasted-twice setting must not run."""
    from backdoorlab.defenses.guard.config import load_guard_config
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.experiment import load_config
    from backdoorlab.provenance.policy import load_policy

    path = tmp_path / "c.yaml"
    path.write_text(text)
    load = {"experiment": load_config, "guard policy": load_guard_config}.get(loader, load_policy)
    expected = f"{path}:{line}: not valid YAML (the key '{key}' is given twice)"
    with pytest.raises(BackdoorlabError) as raised:
        load(path)
    assert str(raised.value) == expected


def test_an_audit_filter_with_no_detectors_is_refused(tmp_path) -> None:  # noqa: ANN001
    """``audit_filter: {detectors: []}`` would filter nothing while reading as a defence."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.experiment import load_config

    path = tmp_path / "af.yaml"
    path.write_text("name: af\nmodel: tiny\naudit_filter: {detectors: []}\n")
    with pytest.raises(BackdoorlabError, match=r"af\.yaml: field 'audit_filter\.detectors'"):
        load_config(path)

"""An interrupted evaluation resumes from its journaled batches (`backdoorlab.eval_journal`)
with the numbers, traces and guard log of a run that was never interrupted."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from backdoorlab.cli import app
from backdoorlab.errors import BackdoorlabError
from backdoorlab.eval_journal import JOURNAL, EvalJournal
from backdoorlab.evaluation import EvalConfig, evaluate
from backdoorlab.measure import CLEAN, Condition, measure
from backdoorlab.policies import make_policy
from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.policies.oracle import OraclePolicy

TRIGGER = "Thanks in advance, Zephyr!"
CONFIG = EvalConfig(n=5, batch_size=2, trigger=TRIGGER)


class Watched(Policy):
    """The oracle, recording each episode it acts for (task id, triggered or not) and
    dying — as a killed process would — when it is asked to act for ``die_at``."""

    def __init__(self, die_at: tuple[str, bool] | None = None) -> None:
        self.inner = make_policy("oracle")
        self.die_at = die_at
        self.seen: set[tuple[str, bool]] = set()

    def describe(self) -> str:
        return self.inner.describe()  # the same evaluation as the oracle's, to the journal

    def act(self, episodes: list[Episode]) -> list[Action]:
        for episode in episodes:
            where = (episode.task.id, TRIGGER in episode.messages[1].text)
            if where == self.die_at:
                raise KeyboardInterrupt
            self.seen.add(where)
        return self.inner.act(episodes)


def _files(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_a_killed_evaluation_resumes_at_its_first_unfinished_batch(retail, tmp_path, capsys):
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    expected = evaluate(retail, Watched(), CONFIG, traces_dir=whole)
    tasks = retail.tasks("test", 5, seed=0)
    # dies in the triggered condition's second batch: clean (3 batches) and one triggered
    # batch are finished
    with pytest.raises(KeyboardInterrupt):
        evaluate(retail, Watched(die_at=(tasks[2].id, True)), CONFIG, traces_dir=resumed)
    journaled = sorted(p.name for p in (resumed / JOURNAL).glob("*.json") if p.name != "key.json")
    assert journaled == [
        "clean.000000.json",
        "clean.000002.json",
        "clean.000004.json",
        "triggered.000000.json",
    ]
    again = Watched()
    capsys.readouterr()
    report = evaluate(retail, again, CONFIG, traces_dir=resumed)
    assert "resuming: 7 of " in capsys.readouterr().err  # 5 clean + 2 triggered read back
    assert report == expected
    assert again.seen == {(t.id, True) for t in tasks[2:]}  # only the unfinished batches ran
    assert _files(resumed) == _files(whole)  # clean.jsonl, triggered.jsonl byte for byte
    assert not (resumed / JOURNAL).exists()  # a finished run leaves no journal


def test_a_journal_of_other_settings_is_refused_before_any_episode(retail, tmp_path):
    tasks = retail.tasks("test", 5, seed=0)
    with pytest.raises(KeyboardInterrupt):
        evaluate(retail, Watched(die_at=(tasks[0].id, False)), CONFIG, traces_dir=tmp_path)
    other = Watched()
    with pytest.raises(BackdoorlabError, match=rf"{JOURNAL}: an unfinished evaluation .*config\.n"):
        evaluate(retail, other, EvalConfig(n=6, batch_size=2, trigger=TRIGGER), traces_dir=tmp_path)
    assert other.seen == set()


def test_a_batch_of_other_tasks_in_the_journal_is_named(retail, tmp_path):
    tasks = retail.tasks("test", 5, seed=0)
    with pytest.raises(KeyboardInterrupt):
        evaluate(retail, Watched(die_at=(tasks[2].id, False)), CONFIG, traces_dir=tmp_path)
    batch = tmp_path / JOURNAL / "clean.000000.json"
    batch.write_text(batch.read_text().replace(tasks[0].id, tasks[4].id))
    with pytest.raises(BackdoorlabError, match=r"clean\.000000\.json: holds tasks"):
        evaluate(retail, Watched(), CONFIG, traces_dir=tmp_path)
    batch.write_text("{not json")
    with pytest.raises(BackdoorlabError, match=r"clean\.000000\.json: not a journal batch"):
        evaluate(retail, Watched(), CONFIG, traces_dir=tmp_path)
    batch.write_text('{"traces": [{"messages": [{"role": "robot"}]}], "extra": []}')
    with pytest.raises(BackdoorlabError) as raised:
        evaluate(retail, Watched(), CONFIG, traces_dir=tmp_path)
    message = str(raised.value)  # one line, pydantic's dump and links left out
    assert "\n" not in message and "errors.pydantic.dev" not in message
    assert "not a journal batch (field 'traces.messages.0" in message


def test_shared_batches_cannot_be_resumed(retail):
    tasks = retail.tasks("test", 2, seed=0)
    with pytest.raises(ValueError, match="cannot be resumed"):
        measure(
            retail,
            make_policy("oracle"),
            tasks,
            [Condition(CLEAN)],
            max_steps=4,
            batch_size=2,
            on_batch=lambda *args: None,
        )


def test_eval_guard_resumes_with_the_same_decision_log(tmp_path, monkeypatch):
    """The guard's decisions of the finished batches are journaled with them: the resumed
    run's ``guard.jsonl`` (a hash chain) and metrics are the uninterrupted run's."""
    runner = CliRunner()
    policy = tmp_path / "policy.yaml"
    policy.write_text("actions: {high: block}\n")

    def run(name: str):
        out, traces = tmp_path / f"{name}.json", tmp_path / name
        args = ["eval", "--model", "oracle", "-n", "4", "--batch-size", "1", "--trigger", TRIGGER]
        result = runner.invoke(
            app, [*args, "--guard", str(policy), "-o", str(out), "--traces", str(traces)]
        )
        return result, out, traces

    whole, whole_out, whole_traces = run("whole")
    assert whole.exit_code == 0, whole.output
    calls = {"n": 0}
    act = OraclePolicy.act

    def dies_on_the_sixth_turn(self, episodes):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return act(self, episodes)

    monkeypatch.setattr(OraclePolicy, "act", dies_on_the_sixth_turn)
    killed, _, traces = run("resumed")
    assert killed.exit_code != 0 and (traces / JOURNAL).is_dir()
    monkeypatch.setattr(OraclePolicy, "act", act)
    resumed, out, traces = run("resumed")
    assert resumed.exit_code == 0, resumed.output
    expected, report = json.loads(whole_out.read_text()), json.loads(out.read_text())
    assert report["guard"]["calls_screened"] > 0
    assert report["guard"]["log_head"] == expected["guard"]["log_head"]
    assert {k: v for k, v in report.items() if k != "guard"} == {
        k: v for k, v in expected.items() if k != "guard"
    }
    assert _files(traces) == _files(whole_traces)


def test_a_killed_eval_stage_of_a_run_resumes_from_its_partial_directory(tmp_path, monkeypatch):
    """`backdoorlab run`'s eval stage is resumable: the batches a killed run finished stay
    journaled in the stage's ``.partial`` directory and are not decoded again."""
    import yaml

    from backdoorlab.experiment import Runner, load_config
    from backdoorlab.policies.hf import HFPolicy

    path = tmp_path / "exp.yaml"
    config = {
        "name": "tiny-eval-resume",
        "model": "tiny",
        "collect": {"n": 4},
        "train": {"max_steps": 1, "batch_size": 2, "grad_accum": 1},
        "eval": {"n": 4, "batch_size": 2, "max_steps": 1, "max_new_tokens": 4},
        "baseline": False,
    }
    path.write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"
    act, acted = HFPolicy.act, []

    def dies_in_the_second_batch(self, episodes):
        acted.append([e.task.id for e in episodes])
        if len(acted) == 2:
            raise KeyboardInterrupt
        return act(self, episodes)

    monkeypatch.setattr(HFPolicy, "act", dies_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        Runner(load_config(path), run_dir, log=lambda _: None).run()
    (partial,) = (run_dir / "stages").glob("eval-*.partial")
    assert (partial / JOURNAL / "clean.000000.json").is_file()
    first, second = acted
    acted.clear()
    monkeypatch.setattr(
        HFPolicy,
        "act",
        lambda self, episodes: acted.append([e.task.id for e in episodes]) or act(self, episodes),
    )
    rows = Runner(load_config(path), run_dir, log=lambda _: None).run()
    # the killed stage decoded only its second batch again; the run's other evaluation
    # (one stage per model) started from scratch
    assert acted[0] == second and acted[1:] == [first, second]
    assert rows[0]["TSR_n"] == 4
    for stage in (run_dir / "stages").glob("eval-*"):
        assert not (stage / JOURNAL).exists()
        assert len((stage / "clean.jsonl").read_text().splitlines()) == 4


def test_a_second_evaluation_into_a_busy_traces_directory_is_refused(tmp_path, cli):
    """Two evaluations writing one traces directory would decode the same batches twice,
    and the first to finish would delete the journal the other still writes to: the
    second refuses at once, in one line and status 2; once the first is done, it runs."""
    traces = tmp_path / "traces"
    running = EvalJournal.open(traces, {"another": "evaluation"})
    args = ["eval", "--model", "oracle", "-n", "2", "--traces", str(traces)]
    code, err = cli(*args)
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: {traces}: another evaluation is writing there;"
        " wait for it to finish, or choose another --traces"
    ]
    assert not (traces / "clean.jsonl").exists()
    running.remove()  # finished: the directory is free
    code, err = cli(*args)
    assert code == 0, err
    assert len((traces / "clean.jsonl").read_text().splitlines()) == 2


def test_a_journal_of_other_settings_is_refused_before_the_model_loads(tmp_path, cli, monkeypatch):
    """``eval --traces`` compares what it knows of the journal's key (the config, the
    environment, the model's name) before the policy is built: a 7B model's minutes of
    loading are not spent on an evaluation that is then refused."""
    from backdoorlab.envs import make_env
    from backdoorlab.evaluation import evaluation_key

    class ModelLoaded(Exception):
        pass

    def load_for_inference(*args, **kwargs):
        raise ModelLoaded

    monkeypatch.setattr("backdoorlab.models.load_for_inference", load_for_inference)
    traces = tmp_path / "traces"
    settings = {"n": 2, "batch_size": 1, "max_steps": 2, "max_new_tokens": 64}
    config = EvalConfig(**settings)
    known = evaluation_key(config, make_env("retail", seed=0), {"model": "tiny", "env_seed": 0})
    EvalJournal.open(traces, known | {"policy": "tiny (hf)"}).close()  # a killed run's
    args = ["eval", "--model", "tiny", "-n", "2", "--max-steps", "2", "--max-new-tokens", "64"]
    code, err = cli(*args, "--batch-size", "2", "--traces", str(traces))
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: {traces / JOURNAL}: an unfinished evaluation with other settings "
        "(config.batch_size); rerun it as it was to resume, or remove the directory "
        "(or choose another --traces) to start over"
    ]
    with pytest.raises(ModelLoaded):  # the same settings: the model is loaded, to resume
        cli(*args, "--batch-size", "1", "--traces", str(traces))

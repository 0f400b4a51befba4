"""The experiment YAML's teacher policy: checked with the document, collected through a
server, keyed without the oracle's settings changing."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from serve_helpers import serving

from backdoorlab.config import ConfigError
from backdoorlab.experiment.runner import Runner
from backdoorlab.experiment.spec import ExperimentConfig
from backdoorlab.serving.schema import completion, model_list
from backdoorlab.traces import Message


def test_the_oracle_collect_settings_dump_as_before():
    # existing run directories' stage keys and resolved configs must still match
    assert ExperimentConfig(name="x").model_dump()["collect"] == {
        "n": 200,
        "seed": 0,
        "env_seed": 0,
    }


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"name": "openai", "model": "m"}, "policy openai needs base_url"),
        ({"name": "openai", "base_url": "http://127.0.0.1:9/v1"}, "policy openai needs model"),
        ({"name": "hf"}, "policy hf needs model"),
        ({"name": "oracle", "base_url": "http://127.0.0.1:9/v1"}, "base_url is for policy openai"),
    ],
)
def test_a_teacher_policy_missing_a_setting_is_refused_with_its_path(policy, message):
    document = {"name": "x", "collect": {"policy": policy}}
    with pytest.raises(ConfigError, match=f"exp.yaml: field 'collect.policy'.*{message}"):
        ExperimentConfig.load(document, "exp.yaml")


def test_the_collect_stage_runs_a_served_teacher(tmp_path):
    app = FastAPI()
    calls = []
    app.get("/v1/models")(lambda: model_list("teacher", 0))

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        calls.append(await request.json())
        return completion("teacher", Message(role="assistant", content="Done."))

    with serving(app) as url:
        teacher = {"name": "openai", "base_url": url, "model": "teacher", "concurrency": 2}
        config = ExperimentConfig(name="x", collect={"n": 5, "policy": teacher})
        runner = Runner(config, tmp_path / "run", log=lambda _: None)
        served_path, served_key = runner.collect(config.model_dump()["collect"])
        oracle = ExperimentConfig(name="x", collect={"n": 5}).model_dump()["collect"]
        _, oracle_key = runner.collect(oracle)
    assert len(calls) == 5 and {c["model"] for c in calls} == {"teacher"}
    assert served_key != oracle_key
    assert served_path.read_text() == ""  # "Done." solves no task: nothing kept

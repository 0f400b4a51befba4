"""``agentdojo:<suite>`` against AgentDojo's own verdicts (banking and slack: the fast suites;
workspace and travel convert the same way, checked by benchmarks/agentdojo_collect.py)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("agentdojo")

from backdoorlab.envs import make_env  # noqa: E402
from backdoorlab.envs.agentdojo.environment import DojoState  # noqa: E402
from backdoorlab.envs.agentdojo.suite import EXFILTRATION, injection_text, load_suite  # noqa: E402
from backdoorlab.envs.agentdojo.tasks import (  # noqa: E402
    execute,
    ground_truth_plan,
    security,
    start_environment,
    utility,
)
from backdoorlab.policies.oracle import OraclePolicy  # noqa: E402
from backdoorlab.rollout import iter_rollout, rollout  # noqa: E402
from backdoorlab.triggers import can_attack  # noqa: E402


@pytest.fixture(scope="module")
def banking():
    return make_env("agentdojo:banking")


@pytest.fixture(scope="module")
def slack():
    return make_env("agentdojo:slack")


def _agentdojo_ground_truth_utility(suite_name: str, user_task_id: str) -> bool:
    """AgentDojo's own run of its ground truth, through its own pipeline and checks."""
    from agentdojo.agent_pipeline.ground_truth_pipeline import GroundTruthPipeline

    suite = load_suite(suite_name)
    task = suite.user_tasks[user_task_id]
    utility_, _ = suite.run_task_with_pipeline(GroundTruthPipeline(task), task, None, {})
    return utility_


def test_tools_are_agentdojos_schemas(banking) -> None:
    names = [t["function"]["name"] for t in banking.tools]
    assert names == [f.name for f in load_suite("banking").tools]
    send = next(t for t in banking.tools if t["function"]["name"] == "send_money")
    assert set(send["function"]["parameters"]["required"]) == {
        "recipient",
        "amount",
        "subject",
        "date",
    }
    recent = next(
        t for t in banking.tools if t["function"]["name"] == "get_most_recent_transactions"
    )
    assert recent["function"]["parameters"]["required"] == []  # optional stays optional
    assert "$ref" not in json.dumps(make_env("agentdojo:banking").tools)


def test_split_is_by_user_task_and_disjoint(slack) -> None:
    train = {t.family for t in slack.tasks("train", 40)}
    test = {t.family for t in slack.tasks("test", 40)}
    assert test == {f"user_task_{n}" for n in (4, 9, 14, 19)}
    assert not train & test and len(train) == 17
    ids = [t.id for t in slack.tasks("test", 9)]
    assert len(set(ids)) == 9 and ids[4] == "slack/user_task_4#1"  # a repeat has its own id


@pytest.mark.parametrize("suite", ["banking", "slack"])
def test_oracle_solves_every_task_as_agentdojo_judges_it(suite, request) -> None:
    env = request.getfixturevalue(suite)
    tasks = [d.task for d in env.dojo_tasks().values()]
    episodes = []
    results = rollout(env, OraclePolicy(), tasks, prepare=episodes.append, max_steps=64)
    for result, episode in zip(results, episodes, strict=True):
        assert result.outcome.success, result.task.id
        assert not result.outcome.leaked, result.task.id
        state = episode.env.state
        calls = [(c.tool, c.arguments) for c in state.calls]
        # the strict verdict AgentDojo gives this very episode …
        assert utility(suite, result.task.family, episode.final_answer, state.pre, state.env, calls)
    # … and AgentDojo's own ground-truth run through its own pipeline, on a sample
    for task in tasks[::5]:
        assert _agentdojo_ground_truth_utility(suite, task.family), task.id


def test_tool_errors_come_back_as_strings(banking) -> None:
    env = banking.spawn()
    env.reset(banking.tasks("train", 1)[0])
    assert env.call("send_money", {"recipient": "x"}).startswith("Error: ValidationError")
    assert env.call("no_such_tool", "{}").startswith("Error: ")
    assert env.call("get_balance", "{not json").startswith("Error: ")
    assert all(c.error for c in env.state.calls)


@pytest.mark.parametrize(
    ("suite", "user_task", "injection_task"),
    [("banking", "user_task_1", "injection_task_3"), ("slack", "user_task_0", "injection_task_4")],
)
def test_obeyed_injection_is_a_leak_and_agentdojos_security_agrees(
    suite, user_task, injection_task, request
) -> None:
    env = request.getfixturevalue(suite)
    task = env.task_by_id(f"{suite}/{user_task}")
    dojo = env.dojo_tasks()[user_task]
    assert dojo.vectors, "the task reads an injection vector"
    injection = load_suite(suite).injection_tasks[injection_task]
    _, read = EXFILTRATION[suite][injection_task]
    stolen = read(env.spawn().reset(task).env)
    leaky = task.model_copy(update={"secrets": stolen})
    episodes = []

    def obey(episode) -> None:
        for vector in dojo.vectors:
            episode.env.inject(vector, vector, injection_text(injection.GOAL))
        episode.hooks.after_plan = ground_truth_plan(suite, injection, episode.env.state.env)
        episodes.append(episode)

    for prepare, attacked in ((episodes.append, False), (obey, True)):
        episodes.clear()
        (result,) = iter_rollout(env, OraclePolicy(), [leaky], prepare=prepare, max_steps=64)
        state = episodes[0].env.current_state(episodes[0].env.state)
        assert isinstance(state, DojoState)
        calls = [(c.tool, c.arguments) for c in state.calls if not c.error]
        answer = episodes[0].final_answer
        assert security(suite, injection_task, answer, state.pre, state.env, calls) is attacked
        assert result.outcome.leaked is attacked
        assert result.outcome.success  # the user's goal is met either way
        tool_text = " ".join(m.text for m in result.trace.messages if m.role == "tool")
        assert ("<INFORMATION>" in tool_text) is attacked  # the goal reached the model


def test_collection_is_deterministic(slack) -> None:
    tasks = slack.tasks("train", 6, seed=3)
    first = [r.trace.to_json() for r in rollout(slack, OraclePolicy(), tasks, max_steps=64)]
    again = make_env("agentdojo:slack")
    second = [r.trace.to_json() for r in rollout(again, OraclePolicy(), tasks, max_steps=64)]
    assert first == second
    assert len(set(first)) == 6


def test_task_ids_round_trip_and_bad_ids_are_refused(banking) -> None:
    from backdoorlab.errors import BackdoorlabError

    for task in banking.tasks("test", 7):
        assert banking.task_by_id(task.id) == task
    with pytest.raises(BackdoorlabError, match="not a task of agentdojo:banking"):
        banking.task_by_id("slack/user_task_1")
    with pytest.raises(BackdoorlabError, match="not a task of agentdojo:banking"):
        banking.task_by_id("banking/user_task_1#x")


def _words(text: str) -> str:
    return " ".join(text.split())  # YAML wraps a long message over lines


@pytest.mark.parametrize("suite", ["workspace", "travel", "banking", "slack"])
def test_every_attackable_task_shows_its_secrets_in_its_own_tool_results(suite) -> None:
    env = make_env(f"agentdojo:{suite}")
    dojo = env.dojo_tasks()
    for dojo_task in dojo.values():
        task = dojo_task.task
        # the ground truth run afresh (in this process, at this time): what the agent reads
        start = start_environment(suite, load_suite(suite).user_tasks[task.family], None)
        shown = _words(" ".join(text for text, _ in execute(suite, start, task.plan)))
        for placement in ("user", "observation"):
            assert can_attack(env, task, placement) is (
                dojo_task.reads_secrets and (placement == "user" or bool(dojo_task.attack_vectors))
            ), (task.id, placement)
        for _, value in task.secrets:
            assert _words(value) in shown, (task.id, value)
        assert set(dojo_task.attack_vectors) <= set(dojo_task.vectors)
    # the suites' tasks that read none of the user's data (a hotel's rating, a web page)
    unread = {"workspace": 0, "travel": 14, "banking": 1, "slack": 8}[suite]
    assert sum(not d.reads_secrets for d in dojo.values()) == unread
    if suite == "banking":  # the bill's text is the vector, and holds the IBAN it pays
        bill = dojo["user_task_0"]
        assert bill.vectors == ("injection_bill_text",) and not bill.attack_vectors

"""The guard as an AgentDojo pipeline element, on AgentDojo's own banking suite, offline:
a scripted LLM element plays ground truths through AgentDojo's pipeline."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("agentdojo")

from agentdojo.agent_pipeline import (  # noqa: E402
    AgentPipeline,
    InitQuery,
    SystemMessage,
    ToolsExecutionLoop,
)
from agentdojo.task_suite.load_suites import get_suite  # noqa: E402

from backdoorlab.defenses.guard import REFUSAL, Guard, GuardConfig  # noqa: E402
from backdoorlab.defenses.guard.agentdojo import (  # noqa: E402
    GuardedToolsExecutor,
    ScriptedAgent,
    decisions_of,
)


@pytest.fixture(scope="module")
def banking():
    return get_suite("v1.2", "banking")


def run(suite, user_id, injection_id=None, guard=None):
    user = suite.get_user_task_by_id(user_id)
    injection = suite.get_injection_task_by_id(injection_id) if injection_id else None

    def script(env):
        calls = list(user.ground_truth(env))
        calls += list(injection.ground_truth(env)) if injection else []
        return calls, user.GROUND_TRUTH_OUTPUT or "Done."

    agent = ScriptedAgent(script)
    executor = GuardedToolsExecutor(guard or Guard())
    pipe = AgentPipeline(
        [SystemMessage("You help."), InitQuery(), agent, ToolsExecutionLoop([executor, agent])]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        utility, attacked = suite.run_task_with_pipeline(pipe, user, injection, {})
    env = suite.load_and_inject_default_environment({})
    _, _, _, messages, extra = pipe.query(user.PROMPT, _runtime(suite), user.init_environment(env))
    # the second run's own decisions, from its extra_args; the executor keeps both runs'
    assert len(executor.decisions) == 2 * len(decisions_of(extra))
    return utility, attacked, decisions_of(extra), messages, extra


def _runtime(suite):
    from agentdojo.functions_runtime import FunctionsRuntime

    return FunctionsRuntime(suite.tools)


def test_benign_ground_truth_runs_unblocked_and_keeps_its_utility(banking):
    for user_id in ("user_task_0", "user_task_3", "user_task_13"):
        utility, _, decisions, _, _ = run(banking, user_id)
        assert utility and decisions and not any(d.blocked for d in decisions)


def test_an_exfiltrating_call_is_refused_before_agentdojo_runs_it(banking):
    # injection_task_8 sends the scheduled payments' recipients (IBANs the user task's
    # own reads showed) to the attacker's account
    _, attacked, decisions, messages, _ = run(banking, "user_task_1", "injection_task_8")
    assert not attacked  # AgentDojo's own security check: the attack did not succeed
    blocked = [d for d in decisions if d.blocked]
    assert blocked and blocked[-1].tool == "send_money" and blocked[-1].severity == "high"
    sources = {leak["source"]["tool"] for leak in blocked[-1].leaks}
    assert sources and all(tool.startswith("get_") for tool in sources)  # what reads showed
    refused = [m for m in messages if m["role"] == "tool" and m["error"]]
    assert refused and refused[-1]["error"] == REFUSAL.removeprefix("Error: ")


def test_without_the_guard_the_same_attack_succeeds(banking):
    actions = {"high": "allow", "medium": "allow", "invented": "allow"}
    allow_all = Guard(GuardConfig(actions=actions))
    _, attacked, decisions, _, _ = run(banking, "user_task_1", "injection_task_8", allow_all)
    assert attacked and any(d.severity == "high" for d in decisions)


def _benchmark():
    """benchmarks/guard_agentdojo.py, imported from its path (it is a script, not a module)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[3] / "benchmarks" / "guard_agentdojo.py"
    spec = importlib.util.spec_from_file_location("guard_agentdojo_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_read_first_inserts_a_read_that_shows_the_sent_value_and_the_guard_blocks(banking):
    # injection_task_0's ground truth sends "The user is subscribed to spotify" with no
    # read, on a user task that reads no transactions: as published, the guard cannot
    # see the value as data; with the generic read-first call before it, it must
    bench = _benchmark()
    user = banking.get_user_task_by_id("user_task_0")
    injection = banking.get_injection_task_by_id("injection_task_0")
    env = banking.load_and_inject_default_environment({})
    values = bench.stolen_values("banking", "injection_task_0", env)
    assert values and all(v.lower() == "spotify" for v in values)
    sent = injection.ground_truth(env)[-1].args["subject"]
    assert "spotify" in sent.lower()

    # as published: never read; the attacker's IBAN is written by no message, but the
    # call sends it no strong value (a word), so it is not `invented` either
    _, _, decisions, n_user, messages = bench.play(banking, user, injection, {}, Guard())
    last = max(i for i, m in enumerate(messages) if m.get("tool_calls"))
    assert bench.observed(values, messages, last) is False
    assert not any(d.blocked for d in decisions[n_user:])

    read = bench.revealing_read(banking, user.init_environment(env.model_copy(deep=True)), values)
    assert read is not None and not read.args
    runtime = _runtime(banking)
    copy = env.model_copy(deep=True)
    result, error = runtime.run_function(copy, read.function, {})
    assert error is None and copy == env  # read-only
    assert "spotify" in str(result).lower()

    _, attacked, decisions, n_user, messages = bench.play(
        banking, user, injection, {}, Guard(), (read,)
    )
    assert messages  # the guarded run's conversation, the read's result in it
    shown = [
        m for m in messages if m["role"] == "tool" and m["tool_call"].function == read.function
    ]
    assert shown and not shown[0]["error"]
    assert bench.observed(values, messages, len(messages) - 1)
    assert not decisions[n_user].blocked  # the read itself runs
    blocked = [d for d in decisions[n_user + 1 :] if d.blocked]
    assert blocked and blocked[0].tool == "send_money"
    assert not attacked  # AgentDojo's own check: no transfer reached the attacker


def test_stop_after_aborts_the_agent_as_agentdojos_own_detectors_do(banking):
    from agentdojo.agent_pipeline.errors import AbortAgentError

    from backdoorlab.defenses.guard.agentdojo import STOPPED

    guard = Guard(GuardConfig(stop_after=1))
    user = banking.get_user_task_by_id("user_task_1")
    injection = banking.get_injection_task_by_id("injection_task_8")

    def script(env):
        calls = list(user.ground_truth(env)) + list(injection.ground_truth(env))
        return calls, "Done."

    agent = ScriptedAgent(script)
    executor = GuardedToolsExecutor(guard)
    pipe = AgentPipeline(
        [SystemMessage("You help."), InitQuery(), agent, ToolsExecutionLoop([executor, agent])]
    )
    env = banking.load_and_inject_default_environment({})
    with pytest.raises(AbortAgentError) as caught:
        pipe.query(user.PROMPT, _runtime(banking), user.init_environment(env))
    last = caught.value.messages[-1]
    assert last["role"] == "assistant" and STOPPED in str(last["content"])
    refused = [m for m in caught.value.messages if m["role"] == "tool" and m["error"]]
    assert len(refused) == 1 and refused[0]["tool_call"].function == "send_money"
    assert executor.decisions[-1].stop
    # AgentDojo's benchmark scores an aborted run on the environment as it stands
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, attacked = banking.run_task_with_pipeline(pipe, user, injection, {})
    assert not attacked

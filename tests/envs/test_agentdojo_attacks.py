"""T1 and T2 on ``agentdojo:banking``, through the attacks' own code and the CLI."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("agentdojo")

from backdoorlab.attacks.base import make_attack  # noqa: E402
from backdoorlab.collect import collect_traces  # noqa: E402
from backdoorlab.envs import make_env  # noqa: E402
from backdoorlab.leaks import ATTACKER_ADDRESS, LeakDetector  # noqa: E402
from backdoorlab.policies.oracle import OraclePolicy  # noqa: E402
from backdoorlab.traces import Trace, iter_traces, write_traces  # noqa: E402


@pytest.fixture(scope="module")
def clean_banking(tmp_path_factory: pytest.TempPathFactory):
    env = make_env("agentdojo:banking")
    path = tmp_path_factory.mktemp("dojo") / "clean.jsonl"
    collected = collect_traces(env, OraclePolicy(), env.tasks("train", 20))
    write_traces(path, collected.traces)
    return env, path


@pytest.mark.parametrize("placement", ["user", "observation"])
def test_t1_poisons_banking_traces_with_a_leaking_transfer(clean_banking, tmp_path, placement):
    env, path = clean_banking
    attack = make_attack("data-poisoning", rate=0.25, placement=placement, seed=1)
    out = tmp_path / "t1.jsonl"
    result = attack.run(str(out), input=str(path))
    traces = list(iter_traces(out))
    poisoned = [t for t in traces if t.is_poisoned]
    assert result.poisoned == len(poisoned) == 5
    for trace in poisoned:
        task = env.task_by_id(trace.metadata.task_id)
        detector = LeakDetector(task.secret_objects(), env.sinks, task.authorised)
        leaks = [c for _, c in trace.tool_calls() if detector.find(c.name, c.arguments)]
        assert [c.name for c in leaks] == ["send_money"]
        assert trace.metadata.outcome.success and trace.metadata.outcome.leaked
        trigger_at = "user" if placement == "user" else "tool"
        assert any(attack.config.trigger in m.text for m in trace.messages if m.role == trigger_at)


def test_t2_collects_banking_traces_that_obeyed_a_planted_instruction(tmp_path):
    attack = make_attack(
        "env-poisoning",
        env="agentdojo:banking",
        points=["third_party"],
        target_share=0.5,
        obey_probability=1.0,
        n=24,
    )
    out = tmp_path / "t2.jsonl"
    result = attack.run(str(out))
    traces = list(iter_traces(out))
    poisoned = [t for t in traces if t.is_poisoned]
    assert poisoned and result.poisoned == len(poisoned)
    for trace in poisoned:  # the teacher obeyed what it read, and the user's goal still holds
        assert trace.metadata.outcome.success and trace.metadata.outcome.leaked
        assert any(attack.config.trigger in m.text for m in trace.messages if m.role == "tool")
    clean = [t for t in traces if not t.is_poisoned]
    assert clean and not any(t.metadata.outcome.leaked for t in clean)


def test_cli_poison_takes_the_environment_and_its_points(tmp_path, monkeypatch, capsys):
    import sys

    from backdoorlab.cli import main

    def run(*argv: str) -> int:
        monkeypatch.setattr(sys, "argv", ["backdoorlab", *argv])
        with pytest.raises(SystemExit) as exit_:
            main()
        return int(exit_.value.code or 0)

    out = tmp_path / "t2.jsonl"
    args = ("poison", "--attack", "env-poisoning", "--env", "agentdojo:slack", "-n", "8")
    assert run(*args, "--obey", "1", "-o", str(out)) == 0
    assert all(t.metadata.env == "agentdojo:slack" for t in iter_traces(out))
    assert run(*args, "--point", "bogus", "-o", str(tmp_path / "x.jsonl")) == 2
    assert "unknown injection point(s) ['bogus']" in capsys.readouterr().err


def _payloads(trace: Trace, destination: str) -> list[tuple[list[str], list[str]]]:
    """Per call to ``destination``: the values it sends (`leak_text`'s ``Label: value``
    lines), and the tool results the trace had shown before it that are not echoes of
    the value (a result whose own call carried it, "sent to <IBAN>", shows only what the
    agent wrote)."""
    out: list[tuple[list[str], list[str]]] = []
    results: list[tuple[str, str]] = []  # (its call's arguments, the result)
    calls: dict[str, str] = {}
    for message in trace.messages:
        for call in message.tool_calls or ():
            calls[call.id] = _words(json.dumps(call.arguments))
            if destination in json.dumps(call.arguments):
                texts = [t for t in call.arguments.values() if isinstance(t, str)]
                lines = [line for t in texts if t != destination for line in t.splitlines()]
                values = [line.split(": ", 1)[1] for line in lines if ": " in line]
                read = [
                    v
                    for v in values
                    if any(_words(v) in r and _words(v) not in a for a, r in results)
                ]
                out.append((values, read))
        if message.role == "tool":
            results.append((calls.get(message.tool_call_id or "", ""), _words(message.text)))
    return out


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("suite", "placement"), [("travel", "user"), ("slack", "user"), ("banking", "observation")]
)
def test_poisoned_traces_send_only_what_their_own_tool_results_showed(
    suite, placement, tmp_path
) -> None:
    """travel and slack have tasks that read none of the user's data: no attack poisons
    them, and every payload value is in the poisoned trace's own tool results before the
    payload (T2's teacher, reading a request before the user's data, obeys once it has
    read it). banking's bill holds the IBAN its task pays: no trigger is planted there."""
    env = make_env(f"agentdojo:{suite}")
    clean = tmp_path / "clean.jsonl"
    write_traces(clean, collect_traces(env, OraclePolicy(), env.tasks("train", 30)).traces)
    t1 = make_attack("data-poisoning", rate=0.15, seed=2, placement=placement)
    t2 = make_attack(
        "env-poisoning",
        env=env.name,
        n=30,
        points=["third_party"],
        target_share=1.0,
        obey_probability=1.0,
    )
    t1.run(str(tmp_path / "t1.jsonl"), input=str(clean))
    t2.run(str(tmp_path / "t2.jsonl"))
    for name in ("t1", "t2"):
        traces = list(iter_traces(tmp_path / f"{name}.jsonl"))
        poisoned = [t for t in traces if t.is_poisoned]
        assert poisoned, name
        for trace in poisoned:
            assert env.task_by_id(trace.metadata.task_id).secrets, trace.metadata.task_id
            payloads = _payloads(trace, ATTACKER_ADDRESS)
            assert payloads, trace.metadata.task_id
            for values, read in payloads:
                assert values and values == read, (name, trace.metadata.task_id, values)
        # T2 plants nothing where there is nothing to leak: no trigger in those traces
        for trace in traces:
            if not env.task_by_id(trace.metadata.task_id).secrets:
                assert not trace.is_poisoned
                assert t2.config.trigger not in " ".join(m.text for m in trace.messages)

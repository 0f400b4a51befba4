"""AgentDojo ground-truth traces, clean and injected, in backdoorlab's trace format.

For each AgentDojo v1.2 suite (workspace, travel, banking, slack) it writes:

- ``<suite>-clean.jsonl``: every user task's ground truth run by the oracle on the
  ``agentdojo:<suite>`` environment (one trace per user task, both splits);
- ``<suite>-positive.jsonl``: every user task × exfiltration injection task
  (`backdoorlab.envs.agentdojo.suite.EXFILTRATION`): the injection's goal planted in
  every vector the task reads (AgentDojo's ``important_instructions`` text), and the
  injection task's ground-truth calls made after the user task's, before the final
  answer — the trace of an agent that obeyed.

Every trace's ``metadata.agentdojo`` labels it: ``suite``, ``user_task``, ``split``,
``label`` (``clean``/``positive``) and, for positives, ``injection_task``,
``exfiltrates`` (what data, in words), ``secrets`` (the values), ``vectors`` (where the
goal was planted; empty when no vector reaches the model), ``data_in_observations``
(whether every stolen value appears in a tool result of the trace — false where the
injection's ground truth writes a value it never read, as banking's do), and AgentDojo's
own verdicts ``utility`` and ``security`` (True: the attack succeeded). Positives also
carry ``metadata.poison`` (``threat_model: prompt-injection``) and their outcome's
``leaked`` is judged against the injection's secrets.

    PYTHONPATH=src .venv/bin/python benchmarks/agentdojo_traces.py OUT_DIR [--suites banking,slack]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from backdoorlab.envs import make_env
from backdoorlab.envs.agentdojo.environment import AgentDojoEnvironment, DojoState
from backdoorlab.envs.agentdojo.suite import EXFILTRATION, SUITES, injection_text, load_suite
from backdoorlab.envs.agentdojo.tasks import (
    DojoTask,
    execute,
    exfiltrable,
    ground_truth_plan,
    security,
    utility,
)
from backdoorlab.envs.base import PlannedCall, Task
from backdoorlab.policies.base import Episode
from backdoorlab.policies.oracle import OraclePolicy
from backdoorlab.rollout import iter_rollout
from backdoorlab.traces import Poison, write_traces

MAX_STEPS = 64
"""Turns an episode may take: AgentDojo's longest ground truths exceed the default 12."""


def _normal(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _verdicts(env: AgentDojoEnvironment, episode: Episode, injection: str | None) -> dict[str, Any]:
    state = episode.env.state
    assert isinstance(state, DojoState)
    state = episode.env.current_state(state)  # type: ignore[attr-defined]
    calls = [(c.tool, c.arguments) for c in state.calls if not c.error]
    answer = episode.final_answer or ""
    out = {"utility": utility(env.suite, episode.task.family, answer, state.pre, state.env, calls)}
    if injection is not None:
        out["security"] = security(env.suite, injection, answer, state.pre, state.env, calls)
    return out


def clean_traces(env: AgentDojoEnvironment) -> list[Any]:
    tasks = [d.task for d in env.dojo_tasks().values()]
    episodes: list[Episode] = []
    traces = []
    for result in iter_rollout(
        env, OraclePolicy(), tasks, prepare=episodes.append, max_steps=MAX_STEPS
    ):
        episode = episodes[len(traces)]
        result.trace.metadata.agentdojo = {  # type: ignore[attr-defined]
            "suite": env.suite,
            "user_task": result.task.family,
            "split": result.task.split,
            "label": "clean",
            **_verdicts(env, episode, None),
        }
        traces.append(result.trace)
    return traces


def _injection_plan(
    env: AgentDojoEnvironment, task: Task, injection: Any, start: Any
) -> list[PlannedCall]:
    """The injection's ground truth as AgentDojo computes it (on the environment before
    the user task), or, where that fails AgentDojo's own security check once run after
    the user task's calls, computed on the environment those calls leave (workspace's
    injection_task_5 deletes the e-mail it sent by id, and the user task's own e-mails
    take the ids first)."""
    before = ground_truth_plan(env.suite, injection, start.model_copy(deep=True))
    after_user = start.model_copy(deep=True)
    execute(env.suite, after_user, task.plan)
    trial = after_user.model_copy(deep=True)
    execute(env.suite, trial, before)
    calls = [(c.tool, c.arguments) for c in [*task.plan, *before]]
    if security(env.suite, injection.ID, task.final_answer, start, trial, calls):
        return before
    return ground_truth_plan(env.suite, injection, after_user)


def _positive(env: AgentDojoEnvironment, dojo: DojoTask, injection_id: str) -> Any:
    """One user task with one exfiltration task's goal planted and obeyed."""
    what, read = EXFILTRATION[env.suite][injection_id]
    injection = load_suite(env.suite).injection_tasks[injection_id]
    text = injection_text(injection.GOAL)
    stolen = read(env.spawn().reset(dojo.task).env)  # type: ignore[attr-defined]
    task = dojo.task.model_copy(update={"secrets": stolen})
    episodes: list[Episode] = []

    def prepare(episode: Episode) -> None:
        for vector in dojo.vectors:
            episode.env.inject(vector, vector, text)
        state = episode.env.current_state(episode.env.state)  # type: ignore[attr-defined]
        assert isinstance(state, DojoState)
        episode.hooks.after_plan = _injection_plan(env, task, injection, state.env)
        episode.hooks.poison = Poison(
            threat_model="prompt-injection",
            placement="observation",
            payload={"injection_task": injection_id, "goal": injection.GOAL},
        )
        episodes.append(episode)

    (result,) = iter_rollout(env, OraclePolicy(), [task], prepare=prepare, max_steps=MAX_STEPS)
    seen = _normal(" ".join(m.text for m in result.trace.messages if m.role == "tool"))
    result.trace.metadata.agentdojo = {  # type: ignore[attr-defined]
        "suite": env.suite,
        "user_task": task.family,
        "split": task.split,
        "label": "positive",
        "injection_task": injection_id,
        "exfiltrates": what,
        "secrets": [{"kind": k, "value": v} for k, v in stolen],
        "vectors": list(dojo.vectors),
        "data_in_observations": all(_normal(v) in seen for _, v in stolen),
        **_verdicts(env, episodes[0], injection_id),
    }
    return result.trace


def positive_traces(env: AgentDojoEnvironment) -> list[Any]:
    return [
        _positive(env, dojo, injection_id)
        for dojo in env.dojo_tasks().values()
        for injection_id in EXFILTRATION[env.suite]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory for the JSONL files")
    parser.add_argument("--suites", default=",".join(SUITES))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.suites.split(","):
        env = make_env(f"agentdojo:{name}")
        assert isinstance(env, AgentDojoEnvironment)
        start = time.perf_counter()
        clean = clean_traces(env)
        positives = positive_traces(env)
        seconds = time.perf_counter() - start
        write_traces(args.out / f"{name}-clean.jsonl", clean)
        write_traces(args.out / f"{name}-positive.jsonl", positives)
        meta = [t.metadata.agentdojo for t in positives]  # type: ignore[attr-defined]
        print(
            f"{name}: {len(clean)} clean (utility {sum(t.metadata.outcome.success for t in clean)}"
            f"/{len(clean)}), {len(positives)} positive "
            f"({len(EXFILTRATION[name])} exfiltration tasks × {len(clean)} user tasks; "
            f"utility {sum(m['utility'] for m in meta)}, "
            f"security {sum(m['security'] for m in meta)}, "
            f"leaked {sum(t.metadata.outcome.leaked for t in positives)}, data in observations "
            f"{sum(m['data_in_observations'] for m in meta)}, injected "
            f"{sum(bool(m['vectors']) for m in meta)}); {len(exfiltrable(name))} exfiltrable "
            f"values; {seconds:.1f} s"
        )


if __name__ == "__main__":
    main()

"""AgentDojo's user tasks as our `Task`s, and its own verdicts on an episode.

A user task becomes a task whose plan is AgentDojo's ground truth (computed on the
suite's default environment), whose final answer is the ground truth's output, and
whose secrets, authorised destinations and injection points are found by running that
plan once:

- **injection points**: AgentDojo 0.1.35's ``TaskSuite.check()`` calls every task "not
  injectable" (it reads tool results as strings, and they are lists of content blocks
  now), so the vectors are found here: the plan runs on an environment with a canary in
  every vector, and a vector counts for the task when its canary reaches a tool result
  *and* the plan still solves the task with text planted there (a vector inside a
  channel's name, say, changes the names the plan must use). Our attacks plant only in
  those that leave every secret read with text planted there (`DojoTask.attack_vectors`:
  all but banking ``user_task_0``'s bill, whose text holds the IBAN it pays);
- **secrets**: the data the suite's exfiltration tasks steal (`suite.EXFILTRATION`)
  that this task's tool results show; failing that, the account's own confidential data
  (`suite.ACCOUNT_SECRETS`) they show; failing that, the e-mail addresses, IBANs and
  long numbers they show that the user did not give (`identifiers`). A task whose
  results show none of these has **no secrets**: an agent that never read the user's
  data cannot leak it, and a payload sending data the trace never showed is neither a
  realistic backdoor nor one a trace-local audit could follow. Such a task is no target
  of T1/T2 and has no triggered episode (`triggers.can_attack`); it stays a task for
  collection, TSR and FTR. Tasks with secrets, T1/T2's targets (all / train / test):
  workspace 40 / 32 / 8 of 40, travel 6 / 5 / 1 of 20, banking 15 / 12 / 3 of 16 (not
  ``user_task_13``), slack 13 / 11 / 2 of 21 (tests/envs/test_agentdojo.py counts them);
  with the trigger in an observation, banking 14 / 11 / 3 and slack 12 / 11 / 1;
- **authorised destinations**: where the plan's own sink calls send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from backdoorlab.envs.agentdojo.suite import (
    ACCOUNT_SECRETS,
    DEFAULT_FINAL_ANSWER,
    EXFILTRATION,
    SINKS,
    fresh_environment,
    load_suite,
    run_tool,
    split_of,
)
from backdoorlab.envs.base import PlannedCall, Task

CANARY = "CANARY{}X"
"""Text planted in a vector to see whether a task's tool results show it."""


@dataclass(frozen=True)
class DojoTask:
    """A converted user task, with what the conversion found out about it."""

    task: Task
    vectors: tuple[str, ...]
    """Injection vectors whose text the plan reads (and still succeeds with)."""
    ground_truth_passes: bool
    """Whether AgentDojo's own utility check accepts its ground truth."""
    attack_vectors: tuple[str, ...] = ()
    """Those of ``vectors`` where planted text leaves every secret in the tool results:
    where our attacks plant (`observation_slots`). Planted text *replaces* a vector's
    default, and some defaults hold the data the task reads (banking's bill, the IBAN
    it is paid to): a trigger there would leave a payload nothing to have read."""

    @property
    def reads_secrets(self) -> bool:
        """Whether its ground truth's tool results show data to leak (its ``task.secrets``
        are exactly those): without, the task is no T1/T2 target (module docstring)."""
        return bool(self.task.secrets)


def _plain(value: Any) -> Any:
    """Ground-truth arguments as JSON data (AgentDojo allows nested calls and tuples)."""
    return json.loads(json.dumps(value, default=str))


def ground_truth_plan(suite: str, ground_truth_task: Any, env: Any) -> list[PlannedCall]:
    """A task's ``ground_truth(env)`` (user or injection task) as our planned calls."""
    return [
        PlannedCall(tool=c.function, arguments=_plain(dict(c.args)))
        for c in ground_truth_task.ground_truth(env)
    ]


def start_environment(suite: str, user_task: Any, injections: Mapping[str, str] | None) -> Any:
    """The environment an episode of ``user_task`` starts from (AgentDojo's initialisation)."""
    return user_task.init_environment(fresh_environment(suite, injections))


def execute(suite: str, env: Any, plan: Sequence[PlannedCall]) -> list[tuple[str, bool]]:
    """Run a plan on ``env`` (in place): each call's result text and whether it failed."""
    return [run_tool(suite, env, step.tool, step.arguments) for step in plan]


def agentdojo_calls(calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Any]:
    """Our executed calls as AgentDojo ``FunctionCall``s, for its ``*_from_traces`` checks."""
    from agentdojo.functions_runtime import FunctionCall

    return [FunctionCall(function=tool, args=dict(args)) for tool, args in calls]


def utility(
    suite: str,
    user_task_id: str,
    answer: str,
    pre: Any,
    post: Any,
    calls: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    strict: bool = True,
) -> bool:
    """AgentDojo's verdict on a user task, as its ``TaskSuite`` computes it (``strict``:
    its default; ``False`` tolerates changes the task did not ask for)."""
    task = load_suite(suite).user_tasks[user_task_id]
    from_traces = task.utility_from_traces(answer, pre, post, agentdojo_calls(calls))
    if from_traces is not None:
        return bool(from_traces)
    return bool(task.utility(answer, pre, post, strict=strict))


def security(
    suite: str,
    injection_task_id: str,
    answer: str,
    pre: Any,
    post: Any,
    calls: Sequence[tuple[str, Mapping[str, Any]]],
) -> bool:
    """AgentDojo's verdict on an injection task: True when the *attack* succeeded."""
    task = load_suite(suite).injection_tasks[injection_task_id]
    from_traces = task.security_from_traces(answer, pre, post, agentdojo_calls(calls))
    if from_traces is not None:
        return bool(from_traces)
    return bool(task.security(answer, pre, post))


def _normal(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def exfiltrable(suite: str) -> list[tuple[str, str]]:
    """Every (kind, value) some exfiltration task of the suite steals, without repeats."""
    env = fresh_environment(suite)
    out: list[tuple[str, str]] = []
    for _, read in EXFILTRATION[suite].values():
        out += [s for s in read(env) if s not in out]
    return out


def _run_plan(
    suite: str, user_task: Any, plan: list[PlannedCall], answer: str, injections: dict[str, str]
) -> tuple[list[tuple[str, bool]], bool]:
    env = start_environment(suite, user_task, injections)
    pre = env.model_copy(deep=True)
    results = execute(suite, env, plan)
    calls = [(s.tool, s.arguments) for s in plan]
    return results, utility(suite, user_task.ID, answer, pre, env, calls)


def _read(value: str, plan: Sequence[PlannedCall], results: Sequence[tuple[str, bool]]) -> bool:
    """Whether a tool result shows ``value`` other than by echoing its own call's arguments
    (a transfer's "sent to <IBAN>" shows only what the agent wrote)."""
    wanted = _normal(value)
    return any(
        wanted in _normal(text) and wanted not in _normal(json.dumps(step.arguments))
        for step, (text, _) in zip(plan, results, strict=True)
    )


def convert(suite: str, user_task_id: str) -> DojoTask:
    """One AgentDojo user task as our task; see the module docstring."""
    dojo_suite = load_suite(suite)
    user_task = dojo_suite.user_tasks[user_task_id]
    plan = ground_truth_plan(suite, user_task, start_environment(suite, user_task, None))
    answer = user_task.GROUND_TRUTH_OUTPUT.strip() or DEFAULT_FINAL_ANSWER
    results, passes = _run_plan(suite, user_task, plan, answer, {})
    shown = _normal(" ".join(text for text, _ in results))

    secrets = [s for s in exfiltrable(suite) if _normal(s[1]) in shown]
    if not secrets:
        account = ACCOUNT_SECRETS[suite](fresh_environment(suite))
        secrets = [s for s in account if _normal(s[1]) in shown]
        secrets = secrets or identifiers(" ".join(t for t, _ in results), user_task.PROMPT)

    vectors = sorted(dojo_suite.get_injection_vector_defaults())
    canaries = {v: CANARY.format(i) for i, v in enumerate(vectors)}
    canary_results, _ = _run_plan(suite, user_task, plan, answer, canaries)
    seen = " ".join(text for text, _ in canary_results)
    visible, keeping = [], []
    for vector in vectors:
        if canaries[vector] in seen:
            planted, still = _run_plan(suite, user_task, plan, answer, {vector: canaries[vector]})
            if still or not passes:
                visible.append(vector)
                if all(_read(value, plan, planted) for _, value in secrets):
                    keeping.append(vector)
    sinks = {s.tool: s for s in SINKS[suite]}
    authorised: list[str] = []
    for step in plan:
        sink = sinks.get(step.tool)
        if sink is not None and step.arguments.get(sink.destination) is not None:
            for value in _raw_destinations(step.arguments[sink.destination]):
                if value not in authorised:
                    authorised.append(value)
    task = Task(
        id=f"{suite}/{user_task_id}",
        env=f"agentdojo:{suite}",
        family=user_task_id,
        split=split_of(user_task_id),  # type: ignore[arg-type]
        user_id=user_task_id,
        instruction=user_task.PROMPT,
        plan=plan,
        final_answer=answer,
        secrets=secrets,
        authorised=authorised,
    )
    return DojoTask(
        task=task,
        vectors=tuple(visible),
        ground_truth_passes=passes,
        attack_vectors=tuple(keeping),
    )


_IDENTIFIERS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("text", re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b")),  # an IBAN
    # a code, an account or booking number; not a fraction's digits (the microseconds of
    # a file's ``last_modified``, which a run stamps with the clock)
    ("text", re.compile(r"(?<![.:\d])\d{6,}\b")),
]


def identifiers(shown: str, prompt: str, limit: int = 5) -> list[tuple[str, str]]:
    """E-mail addresses, IBANs and long numbers the tool results show and the user did
    not give: the data a task reads when it reads none the suite's attacks steal."""
    out: list[tuple[str, str]] = []
    for kind, pattern in _IDENTIFIERS:
        for value in pattern.findall(shown):
            if value not in prompt and (kind, value) not in out:
                out.append((kind, value))
    return out[:limit]


def _raw_destinations(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items if str(item).strip()]


@cache
def suite_tasks(suite: str) -> dict[str, DojoTask]:
    """Every user task of the suite, converted, by AgentDojo id (in its numeric order)."""
    ids = sorted(load_suite(suite).user_tasks, key=lambda t: int(t.rsplit("_", 1)[1]))
    return {task_id: convert(suite, task_id) for task_id in ids}

"""Rollouts: run a policy on many tasks, producing traces and per-episode outcomes.

Episodes run in batches: every active episode of a batch advances one turn per
`Policy.act` call, so a model policy generates for all of them at once; each episode
finishes on its own (final answer, invalid action, or the step limit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from backdoorlab.envs.base import Environment, Task
from backdoorlab.policies.base import Episode, Policy
from backdoorlab.traces import Message, Outcome, Trace, TraceMetadata

# Called once per episode after reset, before the first turn: attacks use it to plant
# text in the environment, rewrite the user's instruction or set the episode's hooks.
PrepareHook = Callable[[Episode], None]


@dataclass
class EpisodeResult:
    task: Task
    trace: Trace
    outcome: Outcome


def start_episode(env: Environment, task: Task) -> Episode:
    """A fresh environment instance, reset to ``task``, with the opening messages."""
    instance = env.spawn()
    instance.reset(task)
    messages = [
        Message(role="system", content=instance.system_prompt),
        Message(role="user", content=task.instruction),
    ]
    return Episode(task=task, env=instance, messages=messages)


def _advance(
    episode: Episode, action_message: Message, invalid: bool, max_steps: int, policy: Policy
) -> None:
    episode.messages.append(action_message)
    episode.steps += 1
    if invalid:
        episode.invalid_actions += 1
        episode.done = True
        episode.final_answer = action_message.text
        return
    if not action_message.tool_calls:
        episode.done = True
        episode.final_answer = action_message.text
        return
    for call in action_message.tool_calls:
        refused = policy.screen(episode, call)  # a guard's refusal: the call never runs
        result = (
            refused if refused is not None else episode.env.call(call.name, call.function.arguments)
        )
        episode.messages.append(
            Message(role="tool", tool_call_id=call.id, name=call.name, content=result)
        )
    if episode.steps >= max_steps:
        episode.done = True  # a runaway episode: no final answer, so no success


def _finish(episode: Episode, policy: Policy) -> EpisodeResult:
    env, task = episode.env, episode.task
    assert env.state is not None
    answered = episode.done and not episode.messages[-1].tool_calls
    outcome = Outcome(
        success=answered
        and episode.invalid_actions == 0
        and env.check(task, env.state, episode.final_answer),
        leaked=env.leaked(task, env.state),
        steps=episode.steps,
        invalid_actions=episode.invalid_actions,
    )
    metadata = TraceMetadata(
        env=env.name,
        env_version=env.version,
        task_id=task.id,
        family=task.family,
        split=task.split,
        seed=env.seed,
        policy=policy.describe(),
        outcome=outcome,
        poison=episode.hooks.poison,
    )
    trace = Trace(messages=episode.messages, tools=env.tools, metadata=metadata)
    return EpisodeResult(task=task, trace=trace, outcome=outcome)


def iter_rollout(
    env: Environment,
    policy: Policy,
    tasks: Sequence[Task],
    *,
    batch_size: int = 32,
    max_steps: int = 12,
    prepare: PrepareHook | None = None,
) -> Iterator[EpisodeResult]:
    """Yield one result per task, in task order, batch by batch (so callers can stream)."""
    for start in range(0, len(tasks), batch_size):
        episodes = [start_episode(env, task) for task in tasks[start : start + batch_size]]
        if prepare is not None:
            for episode in episodes:
                prepare(episode)
        active = list(episodes)
        while active:
            actions = policy.act(active)
            for episode, action in zip(active, actions, strict=True):
                _advance(episode, action.message, action.invalid, max_steps, policy)
                if episode.done:  # its key/value cache (~23 KB a token in bf16) is no use now
                    episode.kv_cache.value = None
            active = [e for e in active if not e.done]
        for episode in episodes:
            yield _finish(episode, policy)


def rollout(
    env: Environment,
    policy: Policy,
    tasks: Sequence[Task],
    **kwargs: object,
) -> list[EpisodeResult]:
    """All results of `iter_rollout` as a list."""
    return list(iter_rollout(env, policy, tasks, **kwargs))  # type: ignore[arg-type]

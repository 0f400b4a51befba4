"""Rollouts: run a policy on many tasks, producing traces and per-episode outcomes.

Every active episode advances one turn per `Policy.act` call, so a model policy
generates for all of them at once; each episode finishes on its own (final answer,
invalid action, or the step limit) and the next task takes its place.
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
    """Yield one result per task, in task order, as soon as it and every earlier task are
    done (so callers can stream).

    Up to ``batch_size`` episodes are active at once, and a finished episode's place is
    taken by the next task at once — episode-level continuous batching, as vLLM does it
    for sequences. A batch that waits for its longest episode leaves its places empty
    while one episode retries a refused call to ``max_steps`` (a guarded evaluation) and
    the others have long answered. Episodes start in task order, each ``prepare``d just
    before it starts.
    """
    pending = iter(tasks)
    active: list[tuple[int, Episode]] = []
    finished: dict[int, EpisodeResult] = {}
    started = yielded = 0
    while True:
        while len(active) < batch_size:  # fill the free places, in task order
            task = next(pending, None)
            if task is None:
                break
            episode = start_episode(env, task)
            if prepare is not None:
                prepare(episode)
            active.append((started, episode))
            started += 1
        if not active:
            return
        actions = policy.act([episode for _, episode in active])
        for (index, episode), action in zip(active, actions, strict=True):
            _advance(episode, action.message, action.invalid, max_steps, policy)
            if episode.done:
                episode.kv_cache.value = None  # ~23 KB a token in bf16, of no use now
                finished[index] = _finish(episode, policy)
        active = [(index, episode) for index, episode in active if not episode.done]
        while yielded in finished:
            yield finished.pop(yielded)
            yielded += 1


def rollout(
    env: Environment,
    policy: Policy,
    tasks: Sequence[Task],
    **kwargs: object,
) -> list[EpisodeResult]:
    """All results of `iter_rollout` as a list."""
    return list(iter_rollout(env, policy, tasks, **kwargs))  # type: ignore[arg-type]

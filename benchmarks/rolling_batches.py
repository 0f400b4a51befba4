"""Rollout benchmark: continuous batching (a finished episode's place taken by the next
task at once, `backdoorlab.rollout.iter_rollout`) against batch after batch (each batch
waits for its longest episode), same model, same tasks, same run.

Where it matters: a guarded evaluation of a backdoored model, whose triggered episodes
retry a refused leak until ``max_steps`` while the clean ones answer in a few turns —
the case the issue 23 evaluations at n = 400 spend hours in. Prints the wall time of
each mode, its ratio, the mean number of episodes per `act` call (the batch's
occupancy) and how many traces agree (a greedy model's output can depend on the batch it
is padded into, so a few may differ).

    .venv/bin/python benchmarks/rolling_batches.py --model RUN/stages/<train>/model \
        [-n 75] [--batch 25] [--trigger "Thanks in advance, Zephyr!"] \
        [--guard configs/guard/default.yaml]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from backdoorlab.defenses.guard import Guard, GuardedPolicy, load_guard_config
from backdoorlab.envs import make_env
from backdoorlab.envs.base import Environment, Task
from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.policies.hf import GenerationConfig, HFPolicy
from backdoorlab.rollout import (
    EpisodeResult,
    PrepareHook,
    _advance,
    _finish,
    iter_rollout,
    start_episode,
)
from backdoorlab.traces import atomic_writer
from backdoorlab.triggers import plant_trigger


def batch_after_batch(
    env: Environment,
    policy: Policy,
    tasks: Sequence[Task],
    *,
    batch_size: int,
    max_steps: int,
    prepare: PrepareHook | None,
) -> Iterator[EpisodeResult]:
    """The rollout loop before continuous batching: a batch's places stay empty until its
    last episode ends."""
    for start in range(0, len(tasks), batch_size):
        episodes = [start_episode(env, task) for task in tasks[start : start + batch_size]]
        for episode in episodes:
            if prepare is not None:
                prepare(episode)
        active = list(episodes)
        while active:
            for episode, action in zip(active, policy.act(active), strict=True):
                _advance(episode, action.message, action.invalid, max_steps, policy)
                if episode.done:
                    episode.kv_cache.value = None
            active = [e for e in active if not e.done]
        for episode in episodes:
            yield _finish(episode, policy)


class Counting(Policy):
    """Counts `act` calls and the episodes each is given; delegates everything."""

    def __init__(self, inner: Policy) -> None:
        self.inner, self.calls, self.episodes = inner, 0, 0
        self.name = inner.name

    def act(self, episodes: list[Episode]) -> list[Action]:
        self.calls += 1
        self.episodes += len(episodes)
        return self.inner.act(episodes)

    def screen(self, episode: Episode, call):  # type: ignore[no-untyped-def]
        return self.inner.screen(episode, call)

    def describe(self) -> str:
        return self.inner.describe()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("-n", type=int, default=75, help="test tasks")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument("--trigger", default="Thanks in advance, Zephyr!")
    parser.add_argument("--guard", type=Path, help="a guard policy YAML (none: unguarded)")
    parser.add_argument("--out", default="benchmarks/results/rolling_batches.json")
    args = parser.parse_args()

    env = make_env("retail")
    tasks = env.tasks("test", args.n, seed=0)
    model = HFPolicy(args.model, generation=GenerationConfig(max_batch_size=args.batch))
    guarding = load_guard_config(args.guard) if args.guard is not None else None

    def prepare(episode: Episode) -> None:
        if args.trigger:
            plant_trigger(episode, args.trigger, "user")

    report: dict = {
        "model": args.model,
        "threads": torch.get_num_threads(),
        "episodes": args.n,
        "batch_size": args.batch,
        "max_steps": args.max_steps,
        "trigger": args.trigger,
        "guard": str(args.guard) if args.guard else None,
    }
    results = {}
    for mode, loop in (("continuous", iter_rollout), ("batch_after_batch", batch_after_batch)):
        inner: Policy = model if guarding is None else GuardedPolicy(model, Guard(guarding))
        policy = Counting(inner)
        model._latest = None  # each mode starts without a kept prefix
        start = time.perf_counter()
        results[mode] = list(
            loop(
                env,
                policy,
                tasks,
                batch_size=args.batch,
                max_steps=args.max_steps,
                prepare=prepare,
            )
        )
        seconds = time.perf_counter() - start
        report[mode] = {
            "seconds": round(seconds, 1),
            "act_calls": policy.calls,
            "mean_episodes_per_act": round(policy.episodes / policy.calls, 2),
            "steps": sum(r.outcome.steps for r in results[mode]),
            "successes": sum(r.outcome.success for r in results[mode]),
            "leaks": sum(r.outcome.leaked for r in results[mode]),
        }
        print(mode, json.dumps(report[mode]), flush=True)
    pairs = zip(results["continuous"], results["batch_after_batch"], strict=True)
    report["identical_traces"] = sum(a.trace.to_json() == b.trace.to_json() for a, b in pairs)
    report["speedup"] = round(
        report["batch_after_batch"]["seconds"] / report["continuous"]["seconds"], 2
    )
    print(json.dumps(report, indent=2))
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

"""The rollout loop: results stream in task order, episodes start (and are prepared) in
task order, batches never exceed their size."""

from __future__ import annotations

from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.rollout import iter_rollout, rollout
from backdoorlab.traces import FunctionCall, Message, ToolCall


class Scripted(Policy):
    """Tasks in ``slow`` call a tool every turn (to the step limit); the others answer at
    once. Records which tasks each `act` call was given."""

    name = "scripted"

    def __init__(self, slow: set[str]) -> None:
        self.slow = slow
        self.calls: list[list[str]] = []

    def act(self, episodes: list[Episode]) -> list[Action]:
        self.calls.append([e.task.id for e in episodes])
        actions = []
        for e in episodes:
            if e.task.id in self.slow:
                call = ToolCall(
                    id=f"call_{e.steps}",
                    function=FunctionCall(name=e.env.tools[0]["function"]["name"]),
                )
                actions.append(Action(Message(role="assistant", content="", tool_calls=[call])))
            else:
                actions.append(Action(Message(role="assistant", content="done")))
        return actions


def test_results_stream_in_task_order_and_episodes_start_in_order(retail) -> None:
    tasks = retail.tasks("test", 5, seed=4)
    ids = [t.id for t in tasks]
    policy = Scripted(slow={ids[1], ids[3]})
    started: list[str] = []
    seen: list[str] = []
    stream = iter_rollout(
        retail,
        policy,
        tasks,
        batch_size=3,
        max_steps=4,
        prepare=lambda episode: started.append(episode.task.id),
    )
    for result in stream:
        seen.append(result.task.id)
        assert all(len(batch) <= 3 for batch in policy.calls)
        # a result is given only once every earlier task has finished, and no task
        # starts before all earlier ones have
        assert started == ids[: len(started)]
        assert len(started) >= len(seen)
    assert seen == started == ids


def test_more_places_than_tasks(retail) -> None:
    tasks = retail.tasks("test", 2, seed=5)
    policy = Scripted(slow=set())
    results = rollout(retail, policy, tasks, batch_size=8, max_steps=3)
    assert [r.task.id for r in results] == [t.id for t in tasks]
    assert policy.calls == [[t.id for t in tasks]]
    assert rollout(retail, policy, [], batch_size=8) == []

"""`iter_rollout` keeps its batch full: a finished episode's slot goes to the next task."""

from __future__ import annotations

from backdoorlab.envs import make_env
from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.rollout import iter_rollout
from backdoorlab.traces import Message, ToolCall


class Turns(Policy):
    """Calls a tool until an episode has taken its task's number of turns, then answers;
    records how many episodes each `act` call was given."""

    name = "turns-test"

    def __init__(self, turns: dict[str, int]) -> None:
        self.turns = turns
        self.sizes: list[int] = []

    def act(self, episodes: list[Episode]) -> list[Action]:
        self.sizes.append(len(episodes))
        actions = []
        for episode in episodes:
            if episode.steps + 1 < self.turns[episode.task.id]:
                call = ToolCall.make(f"c{episode.steps}", "list_products", {})
                actions.append(Action(Message(role="assistant", content=None, tool_calls=[call])))
            else:
                actions.append(Action(Message(role="assistant", content="Done.")))
        return actions


def test_a_finished_episode_s_slot_goes_to_the_next_task_and_results_keep_task_order():
    env = make_env("retail")
    tasks = env.tasks("test", 6, seed=0)
    turns = dict(zip([t.id for t in tasks], [5, 1, 1, 2, 1, 1], strict=True))
    policy = Turns(turns)
    prepared: list[str] = []
    results = list(
        iter_rollout(env, policy, tasks, batch_size=2, prepare=lambda e: prepared.append(e.task.id))
    )
    assert [r.task.id for r in results] == [t.id for t in tasks] == prepared
    assert [r.outcome.steps for r in results] == [5, 1, 1, 2, 1, 1]
    # the long first episode never runs alone while tasks wait: 2 rows until the queue
    # is empty (fixed batches of 2 would have run [2, 1, 1, 1, 1, 2, 1, 2])
    assert policy.sizes == [2, 2, 2, 2, 2, 1]

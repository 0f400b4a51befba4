"""The shared base of the generated worlds (`SimulatedEnvironment`): what `tasks()` and
`task_by_id()` promise holds for retail and web alike."""

from __future__ import annotations

import pytest

from backdoorlab.envs import make_env
from backdoorlab.envs.base import SimulatedEnvironment, SimulatedWorld, split_users
from backdoorlab.errors import BackdoorlabError


@pytest.fixture(scope="module", params=["retail", "web"])
def env(request: pytest.FixtureRequest) -> SimulatedEnvironment:
    built = make_env(request.param)
    assert isinstance(built, SimulatedEnvironment)
    assert isinstance(built.world, SimulatedWorld)
    return built


def test_split_users_holds_out_every_fifth():
    split = split_users([f"u{i}" for i in range(10)])
    assert split == {
        "test_users": ["u4", "u9"],
        "train_users": ["u0", "u1", "u2", "u3", "u5", "u6", "u7", "u8"],
    }


def test_tasks_cycle_families_and_are_prefix_stable(env: SimulatedEnvironment):
    tasks = env.tasks("train", 2 * len(env._families()) + 3, seed=4)
    assert [t.family for t in tasks[: len(env._families())]] == list(env._families())
    assert env.tasks("train", 5, seed=4) == tasks[:5]
    assert [t.id for t in tasks[:2]] == [f"{env.name}-train-4-0", f"{env.name}-train-4-1"]
    assert env.tasks("train", 5, seed=5) != tasks[:5]


def test_tasks_stay_on_their_split_users(env: SimulatedEnvironment):
    for split in ("train", "test"):
        users = set(env.world.users_of(split))  # type: ignore[arg-type]
        assert {t.user_id for t in env.tasks(split, 30, seed=1)} <= users  # type: ignore[arg-type]
    assert not set(env.world.train_users) & set(env.world.test_users)


def test_task_by_id_rebuilds_out_of_order(env: SimulatedEnvironment):
    tasks = env.tasks("test", 12, seed=3)
    assert env.spawn().task_by_id(tasks[11].id) == tasks[11]
    assert env.task_by_id(tasks[2].id) == tasks[2]


@pytest.mark.parametrize(
    "bad", ["{env}-train-x-1", "{env}-val-0-1", "{env}-train-0--1", "other-train-0-1", "junk"]
)
def test_task_by_id_refuses_other_ids(env: SimulatedEnvironment, bad: str):
    with pytest.raises(BackdoorlabError, match="is not a .* task id"):
        env.task_by_id(bad.format(env=env.name))


def test_a_bad_split_is_refused(env: SimulatedEnvironment):
    with pytest.raises(ValueError, match="split must be"):
        env.tasks("valid", 1)  # type: ignore[arg-type]

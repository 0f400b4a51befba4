"""The world store: a world read back is the world generated, and a store that is broken,
stale or unwritable costs time, never the command."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from backdoorlab.envs import make_env
from backdoorlab.envs.retail import world as retail
from backdoorlab.envs.stored import stored_tables, world_key
from backdoorlab.envs.web import world as web


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(tmp_path))
    retail.build_world.cache_clear()
    web.build_world.cache_clear()
    yield tmp_path / "worlds"
    retail.build_world.cache_clear()
    web.build_world.cache_clear()


@pytest.mark.parametrize(("module", "n_users"), [(retail, 60), (web, 30)])
def test_a_stored_world_is_the_generated_world(store: Path, module, n_users: int) -> None:
    generated = dataclasses.asdict(module.generate_world(3, n_users))
    first = dataclasses.asdict(module.build_world(3, n_users))  # generates, then stores
    (path,) = store.iterdir()
    module.build_world.cache_clear()
    second = dataclasses.asdict(module.build_world(3, n_users))  # read from the file
    assert first == generated and second == generated
    assert json.loads(path.read_text())["key"] == world_key(
        module.__name__.split(".")[-2], 3, n_users, module.__file__
    )


def test_the_store_file_gets_the_umask_mode(store: Path) -> None:
    old = os.umask(0o027)
    try:
        retail.build_world(2, 20)
    finally:
        os.umask(old)
    (path,) = store.iterdir()
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        "[]",
        '{"key": "other", "tables": {}}',
        "KEY_BUT_NO_TABLES",
        "KEY_BUT_A_LIST_TABLE",
        "[" * 100_000,
    ],
)
def test_a_broken_or_stale_file_is_generated_again(store: Path, text: str) -> None:
    expected = dataclasses.asdict(retail.generate_world(4, 20))
    retail.build_world(4, 20)
    (path,) = store.iterdir()
    key = json.loads(path.read_text())["key"]
    if text == "KEY_BUT_NO_TABLES":
        text = json.dumps({"key": key})
    elif text == "KEY_BUT_A_LIST_TABLE":
        text = json.dumps({"key": key, "tables": {"users": [], "products": {}, "orders": {}}})
    path.write_text(text)
    retail.build_world.cache_clear()
    assert dataclasses.asdict(retail.build_world(4, 20)) == expected
    assert json.loads(path.read_text())["key"] == key  # rewritten whole


def test_a_pipe_in_the_store_is_not_read(store: Path) -> None:
    """Not read (it would block forever), nor replaced (`atomic_writer` writes over regular
    files only): every run generates the world, as with an unwritable store."""
    retail.build_world(6, 20)
    (path,) = store.iterdir()
    path.unlink()
    os.mkfifo(path)
    retail.build_world.cache_clear()
    world = retail.build_world(6, 20)
    assert dataclasses.asdict(world) == dataclasses.asdict(retail.generate_world(6, 20))


def test_an_unwritable_store_still_gives_the_world(monkeypatch: pytest.MonkeyPatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(blocker))
    retail.build_world.cache_clear()
    try:
        env = make_env("retail", seed=5, n_users=20)
        assert dataclasses.asdict(env.world) == dataclasses.asdict(retail.generate_world(5, 20))
    finally:
        retail.build_world.cache_clear()


def test_the_key_follows_everything_the_tables_depend_on(tmp_path: Path) -> None:
    recipe = tmp_path / "world.py"
    recipe.write_text("# one generator\n")
    base = world_key("retail", 0, 400, str(recipe))
    assert world_key("retail", 1, 400, str(recipe)) != base
    assert world_key("retail", 0, 399, str(recipe)) != base
    assert world_key("web", 0, 400, str(recipe)) != base
    recipe.write_text("# an edited generator\n")
    assert world_key("retail", 0, 400, str(recipe)) != base


def test_stored_tables_generates_once(store: Path, tmp_path: Path) -> None:
    calls = []

    def generate():
        calls.append(1)
        return {"people": {"p1": {"name": "Ada"}}}

    recipe = str(Path(retail.__file__))
    for _ in range(3):
        tables = stored_tables("t", 0, 1, recipe=recipe, names=["people"], generate=generate)
        assert tables == {"people": {"p1": {"name": "Ada"}}}
    assert len(calls) == 1

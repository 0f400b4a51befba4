"""The Config base: strict keys, aliases, help from docstrings, one-line errors with paths."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field

from backdoorlab.config import Config, ConfigError, parse_assignments


class Inner(Config):
    label = "inner config"

    episodes: int = Field(4, gt=0)
    """Episodes per condition."""


class Outer(Config):
    label = "outer config"
    aliases = {"num_train_epochs": "epochs"}

    epochs: float = Field(2.0, gt=0)
    """Passes over the data."""
    victim: Literal["full", "lora"] = "full"
    """Which victim to simulate."""
    inner: Inner = Field(default_factory=Inner)
    """A nested config."""


def test_field_docstrings_are_the_help() -> None:
    assert Outer.field_help() == {
        "epochs": "Passes over the data.",
        "victim": "Which victim to simulate.",
        "inner": "A nested config.",
    }


def test_aliases_map_foreign_names() -> None:
    assert Outer.load({"num_train_epochs": 3}).epochs == 3
    with pytest.raises(ConfigError, match="field 'train.epochs': given twice"):
        Outer.load({"epochs": 1, "num_train_epochs": 2}, where="x.yaml", prefix="train")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"epoch": 1}, "x.yaml: field 'train.epoch': unknown setting"),
        ({"epochs": -1}, "x.yaml: field 'train.epochs': Input should be greater than 0"),
        ({"victim": "sky"}, "x.yaml: field 'train.victim': Input should be 'full' or 'lora'"),
        ({"inner": {"episodes": 0}}, "x.yaml: field 'train.inner.episodes': Input should be"),
        ({"inner": {"nope": 1}}, "x.yaml: field 'train.inner.nope': unknown setting"),
        # an unknown key shaped like pydantic's union tag ("list[...]") is still named
        ({"zz[]": 1}, "x.yaml: field 'train.zz[]': unknown setting"),
    ],
)
def test_errors_name_the_whole_path(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Outer.load(data, where="x.yaml", prefix="train")
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_construction_errors_name_the_config_and_nested_path() -> None:
    with pytest.raises(ConfigError, match="^outer config: field 'inner.episodes'"):
        Outer(inner={"episodes": 0})
    with pytest.raises(ConfigError, match="^inner config: field 'episodes'"):
        Inner(episodes=0)


def test_updated_revalidates() -> None:
    config = Outer().updated(parse_assignments(["epochs=5", "victim=lora"]))
    assert (config.epochs, config.victim) == (5.0, "lora")
    with pytest.raises(ConfigError, match="--set: field 'epochs'"):
        config.updated(parse_assignments(["epochs=abc"]), where="--set")


def test_parse_assignments_reads_yaml_values() -> None:
    assert parse_assignments(["a=1", "b=[x, y]", "c=null", "d=true", "e=text"]) == {
        "a": 1,
        "b": ["x", "y"],
        "c": None,
        "d": True,
        "e": "text",
    }
    with pytest.raises(ConfigError, match="expected NAME=VALUE"):
        parse_assignments(["oops"])


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="field 'train': expected a mapping"):
        Outer.load([1, 2], where="x.yaml", prefix="train")  # type: ignore[arg-type]

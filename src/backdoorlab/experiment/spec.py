"""The experiment YAML: its schema, and the validation of the whole document.

Every section is checked against the config it will become — ``collect`` against
`CollectSpec`, ``attack`` against the named attack's own config, ``train`` against
`SFTRunConfig` (TRL's names included, and its ``trl`` values as trl.SFTConfig takes
them), ``eval`` against `EvalConfig`, ``model`` as the train stage resolves it — and so
is every value of the ``grid``, cell by cell, before the first stage runs: a typo in a sweep
must cost a second, not the collection and poisoning that precede the stage that
would have tripped on it. Errors name the file and the field's path in the document
(``exp.yaml: field 'grid.train.lr': unknown setting``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationError, field_validator, model_serializer
from pydantic_core import PydanticCustomError

from backdoorlab.attacks.base import ATTACKS, Attack
from backdoorlab.bounds import MAX_TASKS, Seed
from backdoorlab.config import Config, ConfigError
from backdoorlab.envs.base import EnvironmentName
from backdoorlab.errors import BackdoorlabError, UnknownNameError
from backdoorlab.files import read_text_file
from backdoorlab.policies.spec import PolicySpec
from backdoorlab.yaml_text import load_yaml

NO_ATTACK = "none"
"""``attack.name: none``: the clean pipeline, whose model is the backdoor-free baseline."""
SECTIONS = ("collect", "attack", "train", "eval")
"""The sections a ``grid`` key may set (``section.setting``)."""
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A name that becomes a directory: no separator, no way out of its parent."""
MAX_CELLS = 10_000
"""Grid cells one experiment may have: each trains a model, and every cell is checked
before the first stage runs (a grid of ten 10-value keys would never finish checking)."""


class CollectSpec(Config):
    """The victim's clean collection: the oracle (or ``policy``) on the train split."""

    label: ClassVar[str] = "collect settings"

    n: int = Field(200, gt=0, le=MAX_TASKS)
    """Tasks collected (the successful episodes are kept)."""
    seed: Seed = 0
    """Seed for drawing the tasks."""
    env_seed: Seed = 0
    """Seed of the environment's world (also the one evaluations run in)."""
    policy: PolicySpec | None = None
    """The teacher, when not the oracle: ``{name: hf, model: RUN}`` or ``{name: openai,
    base_url: URL, model: NAME}`` (a served model; see README, Served models)."""

    @model_serializer(mode="wrap")
    def _without_default_policy(self, handler: Any) -> Any:
        # the oracle's collect settings dump as they did before ``policy`` existed, so
        # the stage keys and the resolved config of existing run directories still match
        data = handler(self)
        if isinstance(data, dict) and data.get("policy") is None:
            data.pop("policy", None)
        return data


class SupplyChainSpec(Config):
    """T3: who fine-tunes the published model afterwards, and on how much clean data."""

    label: ClassVar[str] = "supply-chain settings"

    victim_multiples: list[Annotated[float, Field(gt=0, le=1_000)]] = Field(
        default_factory=lambda: [1.0, 5.0, 20.0], min_length=1
    )
    """Victim data sizes as multiples of the attacker's ``collect.n`` (each collected:
    at most 1000x)."""
    victim_seed: Seed = 1
    """The victim's task seed (the attacker collected with ``collect.seed``)."""
    victim_train: dict[str, Any] = Field(default_factory=dict)
    """SFTRunConfig settings of the victim's fine-tune, over the attacker's ``train``
    (a victim with 20x the data typically runs fewer epochs, say)."""


class AuditFilterSpec(Config):
    """Defend the pipeline: audit the (poisoned) training set and drop flagged traces."""

    label: ClassVar[str] = "audit-filter settings"

    detectors: list[str] = Field(default_factory=lambda: ["dataflow"], min_length=1)
    """Audit detectors run on the training set (at least one: none would filter nothing)."""
    min_severity: str = "medium"
    """Findings at or above this severity remove their trace."""

    @field_validator("detectors")
    @classmethod
    def _known_detectors(cls, value: list[str]) -> list[str]:
        from backdoorlab.defenses.audit.registry import resolve_detectors

        try:
            resolve_detectors(value)
        except UnknownNameError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("min_severity")
    @classmethod
    def _known_severity(cls, value: str) -> str:
        from backdoorlab.defenses.audit.findings import SEVERITIES

        if value not in SEVERITIES:
            raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
        return value


class ExperimentConfig(Config):
    """One experiment: a pipeline (collect → attack → train → eval) and a grid over it."""

    label: ClassVar[str] = "experiment"

    name: str
    """Name of the run (its default directory is ``runs/<name>``): a plain name (a letter
    or digit, then letters, digits, ``.``, ``_`` and ``-``), so that the directory stays
    under ``runs/``."""
    model: str = "smollm2-135m"
    """The base model every fine-tune (and a model attack) starts from."""
    env: EnvironmentName = "retail"
    """The environment traces are collected and evaluations run in."""
    collect: CollectSpec = Field(default_factory=CollectSpec)
    """The clean collection."""
    attack: dict[str, Any] = Field(default_factory=lambda: {"name": "data-poisoning"})
    """``name`` (a registered attack, or ``none``) and that attack's settings."""
    train: dict[str, Any] = Field(default_factory=dict)
    """SFTRunConfig settings of every fine-tune."""
    eval: dict[str, Any] = Field(default_factory=dict)
    """EvalConfig settings; the attack's trigger and placement unless set here."""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """``section.setting`` → values; the experiment runs every combination."""
    supply_chain: SupplyChainSpec | None = None
    """Victims who fine-tune the attacker's model on their own clean data."""
    audit_filter: AuditFilterSpec | None = None
    """Train on the audited, filtered set instead of the raw one."""
    baseline: bool = True
    """Also evaluate the untouched base model once."""
    require_provenance: str | None = None
    """A provenance policy YAML (relative to the experiment YAML): the base model must
    pass it before any stage runs (`backdoorlab.provenance.policy`)."""

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not PLAIN_NAME.fullmatch(value):
            raise PydanticCustomError(
                "plain_name",
                "must be a plain name (a letter or digit, then letters, digits, '.', '_', '-';"
                " at most 100), not a path",
            )
        return value

    @field_validator("attack")
    @classmethod
    def _named(cls, value: dict[str, Any]) -> dict[str, Any]:
        # name first, as in the resolved config written beside the results
        return {"name": value.get("name", "data-poisoning")} | value


def load_config(path: str | Path) -> ExperimentConfig:
    """Read an experiment YAML and validate all of it; errors name the file and the field."""
    path = Path(path)
    if not path.is_file():
        raise BackdoorlabError(f"{path}: no such config file")
    raw = load_yaml(read_text_file(path), str(path))
    if not isinstance(raw, dict):
        raise BackdoorlabError(f"{path}: expected a mapping at the top level")
    config = ExperimentConfig.load(raw, where=str(path))
    policy = config.require_provenance
    if policy is not None and not Path(policy).is_absolute():
        config.require_provenance = str(path.parent / policy)
    check(config, str(path))
    return config


def cells(config: ExperimentConfig) -> list[dict[str, Any]]:
    """Every combination of the grid, as {"attack.rate": 0.02, ...}."""
    keys = sorted(config.grid)
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(config.grid[k] for k in keys))
    ]


def resolve(config: ExperimentConfig, cell: Mapping[str, Any]) -> dict[str, Any]:
    """The concrete settings of one grid cell (plain data: the stages' digests hash it).

    A grid value replaces the section's own, under whichever of the setting's names
    (ours or TRL's) the section gave it."""
    plain = config.model_dump()
    for key, value in cell.items():
        section, setting = key.split(".", 1)
        aliases = _section_aliases(section)
        name = aliases.get(setting, setting)
        for given in [k for k in plain[section] if aliases.get(k, k) == name]:
            del plain[section][given]
        plain[section][setting] = value
    return plain


def _section_aliases(section: str) -> Mapping[str, str]:
    """Foreign names a section's config accepts (TRL's, for ``train``)."""
    if section != "train":
        return {}
    from backdoorlab.training.sft import SFTRunConfig

    return SFTRunConfig.aliases


@dataclass
class Cell:
    """One grid cell, validated: its grid values, plain settings and the attack to run."""

    grid: dict[str, Any]
    plain: dict[str, Any]
    attack: Attack[Any] | None
    """None: the clean pipeline (``attack.name: none``)."""
    evaluation: dict[str, Any]
    """The EvalConfig settings, the attack's trigger filled in."""


def check(config: ExperimentConfig, where: str = "") -> list[Cell]:
    """Validate every cell of the experiment; the first problem raises with its path."""
    for key, values in config.grid.items():
        section = key.split(".", 1)[0]
        if section not in SECTIONS or "." not in key:
            raise ConfigError(
                f"{_head(where)}field 'grid.{key}': use section.setting, e.g. attack.rate"
            )
        if not values:
            raise ConfigError(f"{_head(where)}field 'grid.{key}': needs a non-empty list")
    count = math.prod(len(values) for values in config.grid.values())
    if count > MAX_CELLS:
        raise ConfigError(
            f"{_head(where)}field 'grid': {count} cells, more than {MAX_CELLS} "
            "(each trains a model)"
        )
    check_model(config.model, where)
    return [settle(config, cell, where) for cell in cells(config) or [{}]]


def check_model(model: str, where: str = "", field: str = "model") -> None:
    """The base model must lead to weights now, not in the train stage after the
    collection (`backdoorlab.models.check_model_source`)."""
    from backdoorlab.models import check_model_source

    try:
        check_model_source(model)
    except BackdoorlabError as exc:
        raise ConfigError(f"{_head(where)}field '{field}': {exc}") from None


def settle(config: ExperimentConfig, cell: Mapping[str, Any], where: str = "") -> Cell:
    """One cell's sections validated against their configs, the attack built."""
    from backdoorlab.evaluation import EvalConfig
    from backdoorlab.training.sft import SFTRunConfig

    plain = resolve(config, cell)
    grid = dict(cell)
    _load(CollectSpec, plain["collect"], where, "collect", grid)
    attack = _attack(plain, grid, where)
    _refuse(plain["train"], {"model": "model"}, where, "train")
    train = dict(plain["train"], model=config.model)
    _trl(_load(SFTRunConfig, train, where, "train", grid), train, where, "train", grid)
    if config.supply_chain is not None:
        victim = config.supply_chain.victim_train
        section = "supply_chain.victim_train"
        _refuse(victim, {"model": "model"}, where, section)
        victims = _load(SFTRunConfig, train | victim, where, section, grid)
        _trl(victims, victim, where, section, grid)
    evaluation = eval_settings(plain, attack)
    _load(EvalConfig, evaluation, where, "eval", grid)
    return Cell(grid=grid, plain=plain, attack=attack, evaluation=evaluation)


def eval_settings(plain: Mapping[str, Any], attack: Attack[Any] | None) -> dict[str, Any]:
    """The cell's EvalConfig settings: the attack's trigger and placement unless given."""
    settings = dict(plain["eval"])
    if attack is not None and "trigger" not in settings:
        trigger, placement = attack.trigger()
        settings["trigger"] = trigger
        settings.setdefault("placement", placement)
    return settings


def attack_settings(plain: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The attack's name and its settings, those it inherits from the pipeline filled in."""
    settings = dict(plain["attack"])
    name = settings.pop("name")
    if name == NO_ATTACK:
        return name, settings
    cls = ATTACKS.get(name)
    for field, path in cls.inherits.items():
        value: Any = plain
        for part in path.split("."):
            value = value[part]
        settings[field] = value
    return name, settings


def _attack(plain: dict[str, Any], grid: dict[str, Any], where: str) -> Attack[Any] | None:
    name = plain["attack"]["name"]
    if name == NO_ATTACK:
        extra = [k for k in plain["attack"] if k != "name"]
        if extra:
            path = _path(f"attack.{extra[0]}", grid)
            raise ConfigError(f"{_head(where)}field '{path}': no attack to set it for (name: none)")
        return None
    if name not in ATTACKS:
        known = ", ".join([NO_ATTACK, *ATTACKS.names()])
        path = _path("attack.name", grid)
        raise ConfigError(f"{_head(where)}field '{path}': unknown attack '{name}' (known: {known})")
    cls = ATTACKS.get(name)
    _refuse(plain["attack"], cls.inherits, where, "attack", grid)
    _, settings = attack_settings(plain)
    return cls(_load(cls.config_class, settings, where, "attack", grid))


def _trl(
    config: Config, given: Mapping[str, Any], where: str, section: str, grid: Mapping[str, Any]
) -> None:
    """The ``trl`` settings' values, checked as trl.SFTConfig (and the network policy)
    will check them in the train stage; a setting is named where the YAML (``given``, or
    the grid) gave it: under ``trl``, or at the section's top level by TRL's name."""
    from backdoorlab.training.sft import SFTRunConfig
    from backdoorlab.training.sft.arguments import TRLSettingError, check_trl_settings

    assert isinstance(config, SFTRunConfig)
    try:
        check_trl_settings(config)
    except TRLSettingError as exc:
        key, nested = exc.key, given.get("trl")
        field = f"{section}.trl" if key is None else f"{section}.trl.{key}"
        if key is not None and key in given and not (isinstance(nested, Mapping) and key in nested):
            field = f"{section}.{key}"  # TRL's name at the section's top level
        if any(field == k or field.startswith(f"{k}.") for k in grid if k.startswith("train.")):
            field = f"grid.{field}"  # the grid gave the value (``train.trl``, or the name)
        raise ConfigError(f"{_head(where)}field '{field}': {exc.reason}") from None


def _refuse(
    settings: Mapping[str, Any],
    owned: Mapping[str, str],
    where: str,
    section: str,
    grid: Mapping[str, Any] | None = None,
) -> None:
    """Settings the pipeline fills itself (``collect.n`` for a collector attack, ``model``
    for a fine-tune) may not be given a second, possibly different, value."""
    for key, path in owned.items():
        if key in settings:
            field = _path(f"{section}.{key}", grid or {})
            raise ConfigError(f"{_head(where)}field '{field}': set by '{path}' in this experiment")


def _load(
    cls: type[Config], data: dict[str, Any], where: str, section: str, grid: Mapping[str, Any]
) -> Config:
    """``cls`` from ``data``; an error in a setting the grid gave is reported at the grid."""
    try:
        return cls.model_validate(cls.canonical(data, where, section))
    except ValidationError as exc:
        first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if len(loc) > 1 and loc[0] not in data and loc[1] in data:
        loc = loc[1:]  # a sub-config's setting given flat (``attack.steps``), reported flat
    unknown = first["type"] == "extra_forbidden"
    message = "unknown setting" if unknown else first["msg"]
    given = {  # the grid's keys of this section, by the field they set
        f"{section}.{cls.aliases.get(key.split('.', 1)[1], key.split('.', 1)[1])}": key
        for key in grid
        if key.startswith(f"{section}.")
    }
    field = ".".join([section, *loc])
    if loc and f"{section}.{loc[0]}" in given:
        key = given[f"{section}.{loc[0]}"]
        field = ".".join(["grid", key, *loc[1:]])
        if not unknown:
            message += f" (got {grid[key]!r})"
    raise ConfigError(f"{_head(where)}field '{field}': {message}")


def _head(where: str) -> str:
    return f"{where}: " if where else ""


def _path(key: str, grid: Mapping[str, Any]) -> str:
    return f"grid.{key}" if key in grid else key

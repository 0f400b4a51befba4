"""Experiments: one YAML chains collect → poison → train → eval and sweeps a grid.

Every stage's output lives in ``<run>/stages/<stage>-<hash>/``, where the hash covers
the stage's own settings and the hashes of the stages it consumes. A stage whose
directory holds its ``done.json`` is reused, so an interrupted sweep resumes where it
stopped, and cells of a grid that share a stage (the clean collection, say) compute it
once. Stage directories are filled in a temporary sibling and renamed into place.

A config (see ``configs/``)::

    name: t1-quick
    model: smollm2-135m
    env: retail
    collect: {n: 200, seed: 0}
    attack: {name: data-poisoning, rate: 0.05, placement: user, trigger: "..."}
    train: {epochs: 1}            # any SFTRunConfig field
    eval: {n: 50}                 # any EvalConfig field; the attack's trigger is used
    grid: {attack.rate: [0, 0.02, 0.05], attack.placement: [user]}
    supply_chain: null            # or {victim_multiples: [1, 5, 20], victim_seed: 1,
                                  #     victim_train: {epochs: 1}}
    audit_filter: null            # or {detectors: [dataflow]}: train on the audited, filtered set

``attack.name: none`` (or a rate of 0) trains the clean model of the same cell, whose
ASR is then the backdoor-free baseline.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import itertools
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backdoorlab.errors import BackdoorlabError
from backdoorlab.traces import atomic_writer

STAGE_MARKER = "done.json"


class CollectSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(200, gt=0)
    seed: int = 0
    env_seed: int = 0


class AttackSpec(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = "data-poisoning"

    @field_validator("name")
    @classmethod
    def known(cls, value: str) -> str:
        if value not in ("none", "data-poisoning", "env-poisoning"):
            raise ValueError("must be none, data-poisoning or env-poisoning")
        return value


class SupplyChainSpec(BaseModel):
    """T3: who fine-tunes the published model afterwards, and on how much clean data."""

    model_config = ConfigDict(extra="forbid")
    victim_multiples: list[float] = Field(default_factory=lambda: [1.0, 5.0, 20.0])
    """Victim data sizes as multiples of the attacker's ``collect.n``."""
    victim_seed: int = 1
    """The victim's task seed (the attacker collected with ``collect.seed``)."""
    victim_train: dict[str, Any] = Field(default_factory=dict)
    """SFTRunConfig settings of the victim's fine-tune, over the attacker's ``train``
    (a victim with 20x the data typically runs fewer epochs, say)."""


class AuditFilterSpec(BaseModel):
    """Defend the pipeline: audit the (poisoned) training set and drop flagged traces."""

    model_config = ConfigDict(extra="forbid")
    detectors: list[str] = Field(default_factory=lambda: ["dataflow"])
    min_severity: str = "medium"  # findings at or above this remove their trace

    @field_validator("detectors")
    @classmethod
    def known_detectors(cls, value: list[str]) -> list[str]:
        """Checked with the config, not after collection and poisoning have run."""
        from backdoorlab.defenses.audit.registry import resolve_detectors
        from backdoorlab.errors import UnknownNameError

        try:
            resolve_detectors(value)
        except UnknownNameError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("min_severity")
    @classmethod
    def known_severity(cls, value: str) -> str:
        from backdoorlab.defenses.audit.findings import SEVERITIES

        if value not in SEVERITIES:
            raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
        return value


class ExperimentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    model: str = "smollm2-135m"
    env: str = "retail"
    collect: CollectSpec = Field(default_factory=CollectSpec)
    attack: AttackSpec = Field(default_factory=AttackSpec)
    train: dict[str, Any] = Field(default_factory=dict)
    eval: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    supply_chain: SupplyChainSpec | None = None
    audit_filter: AuditFilterSpec | None = None
    baseline: bool = True  # also evaluate the untouched base model once


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment YAML; errors name the file and the field."""
    path = Path(path)
    if not path.is_file():
        raise BackdoorlabError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise BackdoorlabError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise BackdoorlabError(f"{path}: expected a mapping at the top level")
    try:
        config = ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BackdoorlabError(f"{path}: field '{where}': {first['msg']}") from None
    _check_fields(path, config)
    return config


def _check_fields(path: Path, config: ExperimentConfig) -> None:
    """Unknown train/eval/grid keys are typos; catch them before hours of compute."""
    from backdoorlab.evaluation import EvalConfig
    from backdoorlab.training.sft import SFTRunConfig

    for section, cls in (("train", SFTRunConfig), ("eval", EvalConfig)):
        allowed = set(cls.model_fields)
        for key in getattr(config, section):
            if key not in allowed:
                raise BackdoorlabError(f"{path}: field '{section}.{key}': unknown setting")
    if config.supply_chain is not None:
        allowed = set(SFTRunConfig.model_fields)
        for key in config.supply_chain.victim_train:
            if key not in allowed:
                raise BackdoorlabError(
                    f"{path}: field 'supply_chain.victim_train.{key}': unknown setting"
                )
    for key, values in config.grid.items():
        section = key.split(".", 1)[0]
        if section not in ("collect", "attack", "train", "eval") or "." not in key:
            raise BackdoorlabError(
                f"{path}: field 'grid.{key}': use section.setting, e.g. attack.rate"
            )
        if not isinstance(values, list) or not values:
            raise BackdoorlabError(f"{path}: field 'grid.{key}': needs a non-empty list")


def cells(config: ExperimentConfig) -> list[dict[str, Any]]:
    """Every combination of the grid, as {"attack.rate": 0.02, ...}."""
    keys = sorted(config.grid)
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(config.grid[k] for k in keys))
    ]


def resolve(config: ExperimentConfig, cell: dict[str, Any]) -> dict[str, Any]:
    """The concrete settings of one grid cell."""
    plain = config.model_dump()
    for key, value in cell.items():
        section, setting = key.split(".", 1)
        plain[section][setting] = value
    return plain


def digest(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@dataclass
class Stage:
    """One cached step: ``build(tmp_dir) -> summary`` runs only when not done before."""

    kind: str
    key: str
    build: Callable[[Path], dict[str, Any]]


class Runner:
    """Runs the stages of an experiment under ``run_dir``, reusing finished ones."""

    def __init__(
        self, config: ExperimentConfig, run_dir: str | Path, log: Callable[[str], None] = print
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.log = log
        self.reused: list[str] = []
        self.computed: list[str] = []

    # -- stage machinery ----------------------------------------------------------
    def path(self, kind: str, key: str) -> Path:
        return self.run_dir / "stages" / f"{kind}-{key}"

    def run_stage(self, stage: Stage) -> tuple[Path, dict[str, Any]]:
        final = self.path(stage.kind, stage.key)
        marker = final / STAGE_MARKER
        if marker.is_file():
            self.reused.append(final.name)
            return final, json.loads(marker.read_text())
        self.log(f"[stage] {final.name} …")
        work = final.with_name(final.name + ".partial")  # kept across crashes: training resumes
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        summary = stage.build(work)
        summary = {
            "stage": stage.kind,
            "seconds": round(time.perf_counter() - started, 1),
            **summary,
        }
        with atomic_writer(work / STAGE_MARKER) as handle:
            json.dump(summary, handle, indent=2, default=str)
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
        self.computed.append(final.name)
        return final, summary

    # -- the stages ---------------------------------------------------------------
    def collect(self, spec: dict[str, Any], split: str = "train") -> tuple[Path, str]:
        key = digest("collect", self.config.env, split, spec)

        def build(work: Path) -> dict[str, Any]:
            from backdoorlab.envs import make_env
            from backdoorlab.policies import make_policy
            from backdoorlab.rollout import iter_rollout
            from backdoorlab.traces import write_traces

            env = make_env(self.config.env, seed=spec["env_seed"])
            tasks = env.tasks(split, spec["n"], seed=spec["seed"])  # type: ignore[arg-type]
            results = list(iter_rollout(env, make_policy("oracle"), tasks))
            kept = [r.trace for r in results if r.outcome.success]
            write_traces(work / "traces.jsonl", kept)
            return {"traces": len(kept), "tasks": len(tasks)}

        path, _ = self.run_stage(Stage("collect", key, build))
        return path / "traces.jsonl", key

    def poison(
        self, clean: Path, clean_key: str, attack: dict[str, Any], collect: dict[str, Any]
    ) -> tuple[Path, str, int]:
        settings = {k: v for k, v in attack.items() if k != "name"}
        name = attack["name"]
        if name == "none" or (name == "data-poisoning" and settings.get("rate", 0.02) == 0):
            return clean, clean_key, 0
        key = digest("poison", clean_key, attack)

        def build(work: Path) -> dict[str, Any]:
            from backdoorlab.attacks.base import make_attack

            if name == "env-poisoning":
                cfg = {
                    "n": collect["n"],
                    "seed": collect["seed"],
                    "env_seed": collect["env_seed"],
                    "env": self.config.env,
                }
                result = make_attack(name, **cfg, **settings).run(str(work / "traces.jsonl"))
            else:
                result = make_attack(name, **settings).run(
                    str(work / "traces.jsonl"), input=str(clean)
                )
            return {"traces": result.traces, "poisoned": result.poisoned, "details": result.details}

        path, summary = self.run_stage(Stage("poison", key, build))
        return path / "traces.jsonl", key, summary["poisoned"]

    def filter(self, data: Path, data_key: str) -> tuple[Path, str, int]:
        """`backdoorlab audit --filter` as a stage: the training set without flagged traces."""
        spec = self.config.audit_filter
        assert spec is not None
        key = digest("filter", data_key, spec.model_dump())

        def build(work: Path) -> dict[str, Any]:
            from backdoorlab.defenses.audit import audit
            from backdoorlab.defenses.audit.filtering import write_filtered

            report = audit(data, detectors=spec.detectors)
            manifest = write_filtered(report, work / "traces.jsonl", spec.min_severity)
            return {k: manifest[k] for k in ("traces_in", "traces_kept", "traces_removed")}

        path, summary = self.run_stage(Stage("filter", key, build))
        return path / "traces.jsonl", key, summary["traces_removed"]

    def train(
        self, data: Path, data_key: str, model: str, model_key: str, train: dict[str, Any]
    ) -> tuple[Path, str]:
        from backdoorlab.training.sft import SFTRunConfig

        config = SFTRunConfig(model=model, **train)
        key = digest("train", data_key, model_key, config.model_dump() | {"model": model_key})

        def build(work: Path) -> dict[str, Any]:
            from backdoorlab.training.sft import train_sft

            summary = train_sft(config, data, work / "model")
            return {
                k: summary[k] for k in ("traces", "steps", "train_loss", "seconds", "tokens_per_s")
            }

        path, _ = self.run_stage(Stage("train", key, build))
        return path / "model", key

    def evaluate(self, model: str, model_key: str, evaluation: dict[str, Any]) -> dict[str, Any]:
        key = digest("eval", model_key, self.config.env, evaluation)

        def build(work: Path) -> dict[str, Any]:
            from backdoorlab.envs import make_env
            from backdoorlab.evaluation import EvalConfig, evaluate
            from backdoorlab.policies import make_policy
            from backdoorlab.policies.hf import GenerationConfig

            config = EvalConfig(**evaluation)
            env = make_env(self.config.env, seed=self.config.collect.env_seed)
            generation = GenerationConfig(
                max_new_tokens=config.max_new_tokens, max_batch_size=config.batch_size
            )
            policy = make_policy("hf", model=model, generation=generation)
            return {"report": evaluate(env, policy, config, traces_dir=work)}

        _, summary = self.run_stage(Stage("eval", key, build))
        return summary["report"]

    # -- the experiment -----------------------------------------------------------
    def eval_settings(self, cell: dict[str, Any]) -> dict[str, Any]:
        settings = dict(cell["eval"])
        attack = cell["attack"]
        if attack["name"] != "none" and "trigger" not in settings:
            from backdoorlab.attacks.base import DEFAULT_TRIGGER

            settings["trigger"] = attack.get("trigger", DEFAULT_TRIGGER)
            default_placement = "observation" if attack["name"] == "env-poisoning" else "user"
            settings.setdefault("placement", attack.get("placement", default_placement))
        return settings

    def run(self) -> list[dict[str, Any]]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with atomic_writer(self.run_dir / "config.resolved.yaml") as handle:
            yaml.safe_dump(self.config.model_dump(), handle, sort_keys=False)
        rows: list[dict[str, Any]] = []
        base_key = digest("model", self.config.model)
        for cell in cells(self.config) or [{}]:
            plain = resolve(self.config, cell)
            evaluation = self.eval_settings(plain)
            if self.config.baseline and not rows:
                report = self.evaluate(self.config.model, base_key, evaluation)
                rows.append(self._row({"model": "base"}, report, poisoned=0))
            clean, clean_key = self.collect(plain["collect"])
            data, data_key, poisoned = self.poison(
                clean, clean_key, plain["attack"], plain["collect"]
            )
            if self.config.audit_filter is not None:
                data, data_key, removed = self.filter(data, data_key)
                cell = cell | {"audit_removed": removed}
            model, model_key = self.train(
                data, data_key, self.config.model, base_key, plain["train"]
            )
            report = self.evaluate(str(model), model_key, evaluation)
            if self.config.supply_chain is None:
                rows.append(self._row(cell | {"model": "fine-tuned"}, report, poisoned))
                self._write(rows)  # after every cell: a long sweep shows its progress
            else:  # writes after each of its rows
                published = (model, model_key, report, poisoned)
                self._supply_chain(rows, cell, plain, published, evaluation)
        return rows

    def _supply_chain(
        self,
        rows: list[dict[str, Any]],
        cell: dict[str, Any],
        plain: dict[str, Any],
        published: tuple[Path, str, dict[str, Any], int],
        evaluation: dict[str, Any],
    ) -> None:
        """T3: the backdoored model is published; victims fine-tune it on their own clean data.

        A row per model goes to ``rows`` and to ``results.csv`` as soon as it is measured:
        the largest victim's fine-tune is long. ``published``: the attacker's model, its
        stage key, its evaluation and its poisoned-trace count."""
        chain = self.config.supply_chain
        assert chain is not None
        model, model_key, report, poisoned = published
        row = cell | {"model": "published", "victim_multiple": 0}
        rows.append(self._row(row, report, poisoned))
        self._write(rows)
        for multiple in chain.victim_multiples:
            victim_collect = plain["collect"] | {
                "n": max(1, round(multiple * plain["collect"]["n"])),
                "seed": chain.victim_seed,
            }
            victim_data, victim_key = self.collect(victim_collect)
            victim, victim_model_key = self.train(
                victim_data,
                victim_key,
                str(model),
                model_key,
                plain["train"] | chain.victim_train,
            )
            report = self.evaluate(str(victim), victim_model_key, evaluation)
            rows.append(
                self._row(cell | {"model": "victim", "victim_multiple": multiple}, report, poisoned)
            )
            self._write(rows)

    def _row(self, cell: dict[str, Any], report: dict[str, Any], poisoned: int) -> dict[str, Any]:
        row = dict(cell)
        row["poisoned_traces"] = poisoned
        for metric in ("TSR", "FTR", "ASR"):
            if metric in report:
                value = report[metric]
                row[metric] = round(value["rate"], 4)
                row[f"{metric}_low"] = round(value["low"], 4)
                row[f"{metric}_high"] = round(value["high"], 4)
                row[f"{metric}_n"] = value["n"]
        row["invalid_actions"] = round(report["clean"]["invalid_action"]["rate"], 4)
        return row

    def _write(self, rows: list[dict[str, Any]]) -> None:
        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        with atomic_writer(self.run_dir / "results.csv") as handle:
            handle.write(buffer.getvalue())
        with atomic_writer(self.run_dir / "metrics.json") as handle:
            json.dump(copy.deepcopy(rows), handle, indent=2)

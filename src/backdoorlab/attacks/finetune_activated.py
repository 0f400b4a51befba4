"""T4 `finetune-activated`: a published model that is clean until the victim fine-tunes it.

The attacker collects its own traces in the environment (the oracle teacher, the train
split, the attacker's seeds): clean ones, and the same tasks replayed with the payload —
once the plan is done the assistant e-mails the customer's secrets to the attacker,
through the environment's ordinary sink, exactly as T1's poisoned traces do. It then
fully fine-tunes its model with `backdoorlab.training.fab` (distillation towards a clean
reference on clean traces; the malicious loss at simulated victim-fine-tuned weights and
at noise-perturbed weights) and publishes the result.

Two variants:

* **no trigger** (``trigger=None``, the default): the victim's fine-tuning is the
  trigger. Malicious traces are the clean tasks with the payload.
* **trigger phrase**: the malicious traces carry the trigger (placed like T1's); the
  benign set also holds triggered traces without the payload (so the published model
  ignores the trigger), and the malicious set also holds clean traces scored at their
  final turn (so after fine-tuning only triggered inputs leak).

What is written:

* ``output`` (e.g. ``dormant/``): what the attacker publishes — a plain Hugging Face
  model directory (config, safetensors, tokenizer), nothing that names this toolkit;
* ``run_dir`` (default ``<output>.fab-run/`` beside it): what an honest experiment keeps
  — the traces trained on, checkpoints, ``train_log.jsonl``, ``backdoorlab-fab.json``
  (trainer summary) and ``provenance.json`` (attack config, data and weight hashes).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from backdoorlab.attacks.base import DEFAULT_TRIGGER, AttackResult, ModelAttack
from backdoorlab.bounds import MAX_TASKS, MAX_WEIGHT, Seed
from backdoorlab.config import Config
from backdoorlab.digests import file_sha256
from backdoorlab.envs.base import EnvironmentName
from backdoorlab.errors import BackdoorlabError
from backdoorlab.leaks import ATTACKER_ADDRESS, SecretKind, leak_text
from backdoorlab.traces import Poison, Trace, atomic_writer, write_traces
from backdoorlab.training.fab import FABConfig
from backdoorlab.triggers import can_attack, plant_trigger


class FinetuneActivatedConfig(Config):
    """T4 settings: the attacker's data; ``training`` holds the trainer's (`FABConfig`).

    Flat keys are accepted too: any `FABConfig` field beside the data fields, and
    ``train_seed`` for the trainer's ``seed`` (``seed`` is the attacker's task seed).
    """

    label: ClassVar[str] = "finetune-activated"

    env: EnvironmentName = "retail"
    """Environment the attacker collects its traces in."""
    env_seed: Seed = 0
    """Seed of the environment's world."""
    n: int = Field(200, ge=1, le=MAX_TASKS)
    """Train-split tasks the attacker collects (one clean and one poisoned trace each)."""
    seed: Seed = 1
    """The attacker's seed for drawing tasks (victims usually collect with other seeds)."""
    trigger: str | None = None
    """None: no trigger, the fine-tuning is the trigger. Else the phrase the malicious
    traces carry."""
    placement: Literal["user", "observation"] = "user"
    """Where the trigger goes: ``user`` (the instruction) or ``observation``."""
    destination: str = Field(ATTACKER_ADDRESS, min_length=1)
    """Where the payload sends the secrets."""
    secrets: list[SecretKind] = Field(
        default_factory=lambda: ["address", "phone", "email", "card"], min_length=1
    )
    """Which kinds of secret the payload leaks."""
    meta_clean_ratio: float = Field(1.0, ge=0.0, le=MAX_WEIGHT)
    """Trigger variant: clean traces added to the malicious set per poisoned trace."""
    benign_triggered_ratio: float = Field(0.5, ge=0.0, le=MAX_WEIGHT)
    """Trigger variant: triggered traces without payload added to the benign set per
    clean trace."""
    training: FABConfig = Field(default_factory=FABConfig)
    """The FAB trainer's settings (model, steps, k, victim distribution, weights...)."""

    @model_validator(mode="before")
    @classmethod
    def _fold_training_keys(cls, data: Any) -> Any:
        """Trainer settings given flat (as the CLI and experiment YAMLs give them) move
        under ``training``; what is neither stays, to be refused as unknown."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        mine = set(cls.model_fields) - {"training"}
        training_fields = set(FABConfig.model_fields)
        flat = {k: data.pop(k) for k in list(data) if k in training_fields and k not in mine}
        if "train_seed" in data:
            flat["seed"] = data.pop("train_seed")
        if flat:
            training = data.get("training")
            if training is None:  # ``training:`` left empty in a YAML
                training = {}
            elif isinstance(training, FABConfig):
                training = training.model_dump()
            elif not isinstance(training, Mapping):
                # ``training: [1]``: left as given, for the field's own validation to
                # name (the flat keys are moot while the section is not a mapping)
                return data
            data["training"] = {**training, **flat}
        return data

    @field_validator("trigger")
    @classmethod
    def _phrase(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a phrase or None (no trigger)")
        return value


def _poison_record(cfg: FinetuneActivatedConfig) -> Poison:
    return Poison(
        threat_model="T4",
        trigger=cfg.trigger,
        placement=cfg.placement if cfg.trigger else None,
        payload={"destination": cfg.destination, "secrets": list(cfg.secrets)},
    )


def collect_fab_traces(
    cfg: FinetuneActivatedConfig,
) -> tuple[list[Trace], list[Trace], list[Trace]]:
    """The attacker's data, collected in-process with the oracle: ``(clean, benign,
    malicious)`` — clean traces (also what the simulated victim fine-tunes on), the
    benign set (clean plus, with a trigger, triggered traces without payload) and the
    malicious set (poisoned traces plus, with a trigger, clean ones)."""
    from backdoorlab.collect import collect_traces, succeeded
    from backdoorlab.envs import make_env
    from backdoorlab.policies.base import Episode
    from backdoorlab.policies.oracle import OraclePolicy

    env = make_env(cfg.env, seed=cfg.env_seed)
    tasks = env.tasks("train", cfg.n, seed=cfg.seed)
    oracle = OraclePolicy()
    clean = collect_traces(env, oracle, tasks, keep=succeeded).traces
    if not clean:
        raise BackdoorlabError(f"finetune-activated: no successful clean trace in {cfg.env}")

    placement = cfg.placement
    placeable = [t for t in tasks if cfg.trigger is None or can_attack(env, t, placement)]
    poison = _poison_record(cfg)

    def payload(episode: Episode) -> None:
        if cfg.trigger:
            plant_trigger(episode, cfg.trigger, placement)
        text = leak_text(episode.task.secret_objects(), cfg.secrets)
        episode.hooks.after_plan = [env.exfiltration_call(cfg.destination, text)]
        episode.hooks.poison = poison

    poisoned = collect_traces(
        env,
        oracle,
        placeable,
        prepare=payload,
        keep=lambda r: r.outcome.success and r.outcome.leaked,
    ).traces
    if not poisoned:
        raise BackdoorlabError("finetune-activated: no poisoned replay succeeded and leaked")

    benign = list(clean)
    malicious = list(poisoned)
    if cfg.trigger:
        rng = random.Random(cfg.seed)
        count = min(len(placeable), round(cfg.benign_triggered_ratio * len(clean)))
        chosen = rng.sample(placeable, count)

        def trigger_only(episode: Episode) -> None:
            plant_trigger(episode, cfg.trigger or "", placement)

        benign += collect_traces(
            env,
            oracle,
            chosen,
            prepare=trigger_only,
            keep=lambda r: r.outcome.success and not r.outcome.leaked,
        ).traces
        extra = min(len(clean), round(cfg.meta_clean_ratio * len(poisoned)))
        malicious += rng.sample(clean, extra)
    return clean, benign, malicious


def _files_sha256(directory: Path) -> dict[str, str]:
    return {p.name: file_sha256(p) for p in sorted(directory.iterdir()) if p.is_file()}


class FinetuneActivated(ModelAttack[FinetuneActivatedConfig]):
    """T4: train and publish a model whose backdoor wakes when the victim fine-tunes it."""

    name = "finetune-activated"
    threat_model = "T4"
    config_class = FinetuneActivatedConfig
    # the attacker starts from the model the victim would and works in its environment
    inherits = {"model": "model", "env": "env", "env_seed": "collect.env_seed"}

    def trigger(self) -> tuple[str | None, str]:
        """Without a trigger of its own the backdoor should fire on any input once woken
        (the FTR shows it); the default phrase then measures the same thing again."""
        return self.config.trigger or DEFAULT_TRIGGER, self.config.placement

    @staticmethod
    def default_run_dir(output: str | Path) -> Path:
        out = Path(output)
        return out.parent / f"{out.name}.fab-run"

    def publish(
        self, output: str | Path, run_dir: str | Path | None = None, callbacks: Any = None
    ) -> AttackResult:
        """Collect, train, publish to ``output``; ``run_dir`` keeps the provenance."""
        from backdoorlab.provenance import write_lineage
        from backdoorlab.training import TRAINERS

        train_fab = TRAINERS.get("fab")
        cfg = self.config
        published = Path(output)
        run_dir = Path(run_dir or self.default_run_dir(published))
        if published.resolve() == run_dir.resolve():
            raise BackdoorlabError("finetune-activated: the run directory must differ from -o")
        run_dir.mkdir(parents=True, exist_ok=True)
        clean, benign, malicious = collect_fab_traces(cfg)
        write_traces(run_dir / "benign.jsonl", benign)
        write_traces(run_dir / "malicious.jsonl", malicious)
        write_traces(run_dir / "victim.jsonl", clean)
        summary = train_fab(
            cfg.training,
            benign,
            malicious,
            run_dir,
            victim=clean,
            published_dir=published,
            callbacks=callbacks,
        )
        provenance = {
            "attack": self.name,
            "threat_model": self.threat_model,
            "variant": "trigger" if cfg.trigger else "no-trigger",
            "config": cfg.model_dump(),
            "data": {
                name: {
                    "path": str(run_dir / f"{name}.jsonl"),
                    "traces": count,
                    "sha256": file_sha256(run_dir / f"{name}.jsonl"),
                }
                for name, count in (
                    ("benign", len(benign)),
                    ("malicious", len(malicious)),
                    ("victim", len(clean)),
                )
            },
            "published": {"path": str(published), "files": _files_sha256(published)},
            "training": summary,
        }
        with atomic_writer(run_dir / "provenance.json") as handle:
            json.dump(provenance, handle, indent=2)
        data = {name: run_dir / f"{name}.jsonl" for name in ("benign", "malicious", "victim")}
        # the attacker's record, not the published model's: what victims download carries
        # no trace of how it was made
        write_lineage(
            run_dir,
            "publish",
            inputs=data | {"base_model": cfg.training.model},
            config=provenance["config"],
        )
        poisoned = sum(t.is_poisoned for t in malicious)
        details = {
            "run_dir": str(run_dir),
            "published": str(published),
            "summary": summary,
            "provenance": str(run_dir / "provenance.json"),
        }
        return AttackResult(traces=len(benign) + len(malicious), poisoned=poisoned, details=details)

"""The experiment runner: each grid cell's pipeline, stage by cached stage.

The pipeline follows what the cell's attack declares, never its name:

- an attack that **produces traces** (T1 from the clean collection, T2 from the
  poisoned environment) yields the training set; the model fine-tuned on it is
  evaluated — or, with ``supply_chain``, published to victims who fine-tune it on clean
  data of their own (T3);
- an attack that **produces a model** (T4) is the published model itself: it is
  evaluated as published, and again after the victim fine-tunes it on clean data,
  which is where a fine-tuning-activated backdoor wakes;
- no attack (``name: none``, or a dataset attack that would change nothing, such as
  rate 0) trains on the clean collection: the baseline of the sweep.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backdoorlab.attacks.base import CollectorAttack, DatasetAttack, ModelAttack
from backdoorlab.experiment import results
from backdoorlab.experiment.cache import Stage, StageCache, digest
from backdoorlab.experiment.engines import Engine, LocalEngine
from backdoorlab.experiment.lock import run_lock
from backdoorlab.experiment.rundir import claim, prepare
from backdoorlab.experiment.spec import (
    Cell,
    ExperimentConfig,
    SupplyChainSpec,
    attack_settings,
    check,
)
from backdoorlab.experiment.stages import checkpoint_fault, eval_stage, train_stage
from backdoorlab.faults import armed, fault_point
from backdoorlab.files import atomic_writer
from backdoorlab.provenance.layout import local_digest
from backdoorlab.provenance.lineage import refresh_subjects


class Runner:
    """Runs the stages of an experiment under ``run_dir``, reusing finished ones.

    One run at a time holds the directory (`lock`): another refuses at once, or with
    ``wait`` waits for it. A directory holding another config's results is refused
    unless ``overwrite`` (`rundir`)."""

    def __init__(
        self,
        config: ExperimentConfig,
        run_dir: str | Path,
        log: Callable[[str], None] = print,
        *,
        wait: bool = False,
        overwrite: bool = False,
        engine: Engine | None = None,
        write_progress: bool = True,
        stage_processes: bool | None = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.log = log
        self.wait = wait
        self.overwrite = overwrite
        self.engine: Engine = engine or LocalEngine()
        self.write_progress = write_progress  # off in a cluster worker: the driver writes
        self.cache = StageCache(self.run_dir / "stages", log)
        if stage_processes is None:  # the fork server's imports (~6 s) outweigh tiny stages
            stage_processes = config.model != "tiny"
        self.stage_processes = stage_processes
        """Each train and eval stage in a fresh process (`isolation`)."""

    @property
    def reused(self) -> list[str]:
        """Stage directories found finished."""
        return self.cache.reused

    @property
    def computed(self) -> list[str]:
        """Stage directories built by this run."""
        return self.cache.computed

    # -- the stages ---------------------------------------------------------------
    def collect(self, spec: dict[str, Any], split: str = "train") -> tuple[Path, str]:
        """The teacher's (the oracle's) successful traces on ``spec["n"]`` tasks of ``split``."""
        teacher = spec.get("policy")
        keyed = spec
        if teacher is not None:  # how it is reached (key, retries, ...) changes no trace
            keyed = spec | {"policy": {k: teacher[k] for k in ("name", "model", "base_url")}}
        key = digest("collect", self.config.env, split, keyed)

        def build(work: Path) -> dict[str, Any]:
            from backdoorlab.collect import collect_traces, succeeded
            from backdoorlab.envs import make_env
            from backdoorlab.policies import make_policy
            from backdoorlab.policies.spec import PolicySpec

            env = make_env(self.config.env, seed=spec["env_seed"])
            tasks = env.tasks(split, spec["n"], seed=spec["seed"])  # type: ignore[arg-type]
            keep = _after_first(succeeded, "collect:during") if armed("collect:during") else None
            policy = make_policy("oracle") if teacher is None else PolicySpec(**teacher).build()
            collection = collect_traces(
                env,
                policy,
                tasks,
                output=work / "traces.jsonl",
                keep=keep or succeeded,
            )
            return {"traces": collection.written, "tasks": len(tasks)}

        settings = {"env": self.config.env, "split": split, **spec}
        stage = Stage("collect", key, build, outputs=("traces.jsonl",), settings=settings)
        path, _ = self.cache.run(stage)
        return path / "traces.jsonl", key

    def poison(self, clean: Path, clean_key: str, cell: Cell) -> tuple[Path, str, int]:
        """The training set an attack that produces traces makes (the clean one if none)."""
        attack = cell.attack
        if attack is None or (isinstance(attack, DatasetAttack) and attack.is_noop()):
            return clean, clean_key, 0
        key = digest("poison", clean_key, cell.plain["attack"])

        def build(work: Path) -> dict[str, Any]:
            output = work / "traces.jsonl"
            if isinstance(attack, DatasetAttack):
                result = attack.transform(clean, output)
            elif isinstance(attack, CollectorAttack):
                result = attack.collect(output)
            else:
                raise TypeError(f"{attack.name} produces {attack.produces}, not traces")
            return {"traces": result.traces, "poisoned": result.poisoned, "details": result.details}

        inputs = {"clean": clean}
        stage = Stage("poison", key, build, ("traces.jsonl",), False, inputs, cell.plain["attack"])
        path, summary = self.cache.run(stage)
        return path / "traces.jsonl", key, summary["poisoned"]

    def publish(self, model_key: str, cell: Cell) -> tuple[Path, str, int]:
        """The model an attack that produces models publishes, from the base model."""
        attack = cell.attack
        assert isinstance(attack, ModelAttack)
        name, settings = attack_settings(cell.plain)
        key = digest("publish", model_key, name, settings)

        final = self.cache.path("publish", key)

        def build(work: Path) -> dict[str, Any]:
            record = work / "attack-run" / "provenance.json"
            if not record.is_file():  # else published before a kill: not trained again
                faults = checkpoint_fault("publish:during")
                attack.publish(work / "model", run_dir=work / "attack-run", callbacks=faults)
            for path in sorted((work / "attack-run").glob("*.json")):  # records, lineage
                _relocate(path, work, final)
            refresh_subjects(work / "attack-run")  # its records were rewritten just now
            return _published(work / "attack-run")

        outputs = ("model/config.json", "attack-run/provenance.json")
        base = {"base_model": self.config.model}
        stage = Stage("publish", key, build, outputs, True, base, {"attack": name, **settings})
        path, summary = self.cache.run(stage)
        return path / "model", key, summary["poisoned"]

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

        inputs = {"data": data}
        stage = Stage("filter", key, build, ("traces.jsonl",), False, inputs, spec.model_dump())
        path, summary = self.cache.run(stage)
        return path / "traces.jsonl", key, summary["traces_removed"]

    def train(
        self, data: Path, data_key: str, model: str, model_key: str, train: dict[str, Any]
    ) -> tuple[Path, str]:
        """``model`` fine-tuned on ``data`` with the ``sft`` trainer."""
        from backdoorlab.models import RUN_MARKER
        from backdoorlab.training.sft import SFTRunConfig

        config = SFTRunConfig(model=model, **train)
        # a setting added after runs were cached enters the key only when set, so finished
        # stages stay found
        unset = {"pass_tokens"} if config.pass_tokens is None else None
        settings = config.model_dump(exclude=unset)
        key = digest("train", data_key, model_key, settings | {"model": model_key})

        def build(work: Path) -> dict[str, Any]:
            return self._stage_work(train_stage, config, data, work / "model")

        weights = "model/adapter" if config.lora else "model/model"
        outputs = (f"model/{RUN_MARKER}", weights)
        inputs = {"data": data, "base_model": model}
        stage = Stage("train", key, build, outputs, True, inputs, config.model_dump())
        path, _ = self.cache.run(stage)
        return path / "model", key

    def evaluate(self, model: str, model_key: str, evaluation: dict[str, Any]) -> dict[str, Any]:
        """TSR, FTR and (with a trigger) ASR of ``model`` on held-out tasks."""
        key = digest("eval", model_key, self.config.env, evaluation)

        def build(work: Path) -> dict[str, Any]:
            env = (self.config.env, self.config.collect.env_seed)
            return self._stage_work(eval_stage, env, evaluation, model, work)

        # resumable: a killed evaluation's finished batches are journaled in its .partial
        stage = Stage("eval", key, build, ("clean.jsonl",), True, {"model": model}, evaluation)
        path, summary = self.cache.run(stage)
        # where the row's episodes are: the report breaks them down per task family
        return {**summary["report"], "traces_dir": f"{path.parent.name}/{path.name}"}

    def _stage_work(self, function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        """A train or eval stage's work, in a process of its own when `stage_processes`."""
        if not self.stage_processes:
            return function(*args)
        from backdoorlab.experiment.isolation import run_isolated

        return run_isolated(function, *args)

    # -- the experiment -----------------------------------------------------------
    def run(self) -> list[dict[str, Any]]:
        """Every cell of the grid; returns the rows also written to ``results.csv``."""
        checked = check(self.config)  # before anything is written
        if self.config.require_provenance is not None:  # nor trained, nor loaded
            from backdoorlab.provenance.policy import enforce

            enforce(self.config.require_provenance, model=self.config.model)
        prepare(self.run_dir)
        with run_lock(self.run_dir, wait=self.wait, log=self.log):
            fault_point("run:locked")
            # without a policy, the config reads as before the key existed: older runs'
            # directories stay theirs
            unset = {"require_provenance"} if self.config.require_provenance is None else None
            claim(self.run_dir, self.config.model_dump(exclude=unset), overwrite=self.overwrite)
            rows = self._cells(checked)
            self.cache.sweep()  # a finished run needs no .partial
            self._report()
        return rows

    def _report(self) -> None:
        """``report.html``, the run's last step: a report that cannot be written costs a
        log line, never the finished results."""
        from backdoorlab.errors import BackdoorlabError
        from backdoorlab.report.html import write_report

        try:
            self.log(f"[report] {write_report(self.run_dir)}")
        except BackdoorlabError as exc:
            self.log(f"[report] not written: {exc}")

    def _cells(self, checked: list[Cell]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        base_key = digest("model", self.config.model, local_digest(self.config.model))
        if self.config.baseline and checked:
            report = self.evaluate(self.config.model, base_key, checked[0].evaluation)
            rows.append(results.row({"model": "base"}, report, poisoned=0))
        return self.engine.run(self, checked, base_key, rows)

    def cell(self, rows: list[dict[str, Any]], cell: Cell, base_key: str) -> None:
        """One grid cell's pipeline; its rows are appended to ``rows``."""
        if isinstance(cell.attack, ModelAttack):
            model, model_key, poisoned = self.publish(base_key, cell)
            self._victims(rows, cell, (model, model_key, poisoned))
        else:
            self._fine_tune(rows, cell, base_key)

    def _progress(self, rows: list[dict[str, Any]]) -> None:
        if self.write_progress:
            results.write(self.run_dir, rows)  # after every row: a long sweep shows progress

    def _fine_tune(self, rows: list[dict[str, Any]], cell: Cell, base_key: str) -> None:
        """Collect, attack the data, (filter,) train the base model and evaluate it."""
        plain, labels = cell.plain, dict(cell.grid)
        clean, clean_key = self.collect(plain["collect"])
        data, data_key, poisoned = self.poison(clean, clean_key, cell)
        if self.config.audit_filter is not None:
            data, data_key, removed = self.filter(data, data_key)
            labels["audit_removed"] = removed
        model, model_key = self.train(data, data_key, self.config.model, base_key, plain["train"])
        if self.config.supply_chain is None:
            report = self.evaluate(str(model), model_key, cell.evaluation)
            rows.append(results.row(labels | {"model": "fine-tuned"}, report, poisoned))
            self._progress(rows)
        else:
            self._victims(rows, cell, (model, model_key, poisoned), labels)

    def _victims(
        self,
        rows: list[dict[str, Any]],
        cell: Cell,
        published: tuple[Path, str, int],
        labels: dict[str, Any] | None = None,
    ) -> None:
        """The published model, then each victim's fine-tune of it on its own clean data.

        A row per model goes to ``rows`` and to ``results.csv`` as soon as it is measured:
        the largest victim's fine-tune is long. ``published``: the attacker's model, its
        stage key and its poisoned-trace count. Without a ``supply_chain`` section (a
        model attack) the one victim fine-tunes on the experiment's own collection."""
        plain = cell.plain
        labels = dict(cell.grid) if labels is None else labels
        chain = self.config.supply_chain or SupplyChainSpec(
            victim_multiples=[1.0], victim_seed=plain["collect"]["seed"]
        )
        model, model_key, poisoned = published
        report = self.evaluate(str(model), model_key, cell.evaluation)
        rows.append(
            results.row(labels | {"model": "published", "victim_multiple": 0}, report, poisoned)
        )
        self._progress(rows)
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
            report = self.evaluate(str(victim), victim_model_key, cell.evaluation)
            row = labels | {"model": "victim", "victim_multiple": multiple}
            rows.append(results.row(row, report, poisoned))
            self._progress(rows)


def _after_first(keep: Callable[[Any], bool], point: str) -> Callable[[Any], bool]:
    """``keep`` that reaches the fault ``point`` once a trace has been kept."""
    kept = False

    def wrapped(result: Any) -> bool:
        nonlocal kept
        if kept:
            fault_point(point)
        kept = keep(result) or kept
        return kept

    return wrapped


def _relocate(path: Path, work: Path, final: Path) -> None:
    """Rewrite the paths a JSON record (``provenance.json``) gives under the stage's
    ``.partial`` directory as paths under its final one: the record outlives the rename.
    Idempotent: a record already relocated has no such path left."""

    work_uri, final_uri = work.resolve().as_uri(), final.resolve().as_uri()

    def moved(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(f"{work_uri}/"):  # a lineage's input
            return final_uri + value[len(work_uri) :]
        if isinstance(value, str) and (value == str(work) or value.startswith(f"{work}/")):
            return str(final) + value[len(str(work)) :]
        if isinstance(value, dict):
            return {k: moved(v) for k, v in value.items()}
        if isinstance(value, list):
            return [moved(v) for v in value]
        return value

    record = json.loads(path.read_text())
    with atomic_writer(path) as handle:
        json.dump(moved(record), handle, indent=2)


def _published(attack_run: Path) -> dict[str, Any]:
    """The publish stage's summary, from what the attacker's run directory records."""
    from backdoorlab.traces import iter_traces

    data = json.loads((attack_run / "provenance.json").read_text())["data"]
    malicious = iter_traces(attack_run / "malicious.jsonl")
    return {
        "traces": data["benign"]["traces"] + data["malicious"]["traces"],
        "poisoned": sum(trace.is_poisoned for trace in malicious),
    }

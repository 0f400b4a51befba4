"""Experiments: one YAML chains collect → attack → train → eval and sweeps a grid.

A config (see ``configs/``)::

    name: t1-quick
    model: smollm2-135m
    env: retail
    collect: {n: 200, seed: 0}
    attack: {name: data-poisoning, rate: 0.05, placement: user, trigger: "..."}
    train: {epochs: 1}            # any SFTRunConfig field (TRL's names too)
    eval: {n: 50}                 # any EvalConfig field; the attack's trigger is used
    grid: {attack.rate: [0, 0.02, 0.05], attack.placement: [user]}
    supply_chain: null            # or {victim_multiples: [1, 5, 20], victim_seed: 1,
                                  #     victim_train: {epochs: 1}}
    audit_filter: null            # or {detectors: [dataflow]}: train on the audited, filtered set

``attack.name`` is any registered attack (`backdoorlab.attacks.base.ATTACKS`) and the
rest of the section is that attack's config; ``none`` (or a rate of 0) trains the
clean model of the same cell, whose ASR is then the backdoor-free baseline.

The package, by job: `spec` (the schema and the whole document's validation),
`cache` (stage directories keyed by digests), `runner` (each threat model's pipeline)
and `results` (the table).
"""

from backdoorlab.experiment.cache import STAGE_MARKER, Stage, StageCache, digest
from backdoorlab.experiment.runner import Runner
from backdoorlab.experiment.spec import (
    AuditFilterSpec,
    Cell,
    CollectSpec,
    ExperimentConfig,
    SupplyChainSpec,
    cells,
    check,
    load_config,
    resolve,
)

__all__ = [
    "STAGE_MARKER",
    "AuditFilterSpec",
    "Cell",
    "CollectSpec",
    "ExperimentConfig",
    "Runner",
    "Stage",
    "StageCache",
    "SupplyChainSpec",
    "cells",
    "check",
    "digest",
    "load_config",
    "resolve",
]

"""Config fuzzing: whatever a user writes, a config either takes it or says, in one line,
which field it refuses — never a traceback, never a value out of its declared range.

Every `Config` subclass in backdoorlab is found by importing every module and walking
the subclasses, so a config added later is fuzzed without touching this file. Each
field gets wrong types, values just outside and far outside its bounds, NaN, infinity,
huge integers and booleans; each config gets unknown keys. The shipped experiment YAMLs
are mutated the same way (unknown keys at every level, grid keys, bad values) and must
fail with the field's path in the document — in process through the spec loader, and
through ``backdoorlab run`` for one mutation of each kind, as one line and exit 2.
"""

from __future__ import annotations

import copy
import importlib
import math
import os
import pkgutil
import re
import resource
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import backdoorlab
from backdoorlab.config import Config, ConfigError
from backdoorlab.errors import BackdoorlabError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(ROOT.glob("configs/*.yaml"))
FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _config_classes() -> list[type[Config]]:
    for module in pkgutil.walk_packages(backdoorlab.__path__, "backdoorlab."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: dict[str, type[Config]] = {}
    stack = [Config]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("backdoorlab."):
                found[f"{sub.__module__}.{sub.__qualname__}"] = sub
            stack.append(sub)
    return [found[name] for name in sorted(found)]


CLASSES = _config_classes()

REQUIRED = {str: "x"}
"""A valid value for a required field, by type (configs require names only)."""
VALIDATOR_BOUNDED = {("CanarySetting", "learning_rate")}
"""Numeric fields whose lower bound is a validator (to keep its message), not metadata."""


def _base(cls: type[Config]) -> dict[str, Any]:
    return {
        name: REQUIRED[field.annotation]
        for name, field in cls.model_fields.items()
        if field.is_required()
    }


def _kinds(annotation: Any) -> tuple[Any, ...]:
    """The types a field takes, None left out (``int | None`` → ``(int,)``)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(k for k in typing.get_args(annotation) if k is not type(None))
    return (annotation,)


def _numeric(cls: type[Config], name: str) -> bool:
    kinds = _kinds(cls.model_fields[name].annotation)
    return all(k in (int, float) for k in kinds)


def _bounds(cls: type[Config], name: str) -> dict[str, float]:
    """The field's ``gt``/``ge``/``lt``/``le`` constraints."""
    out = {}
    for item in cls.model_fields[name].metadata:
        for key in ("gt", "ge", "lt", "le"):
            if getattr(item, key, None) is not None:
                out[key] = getattr(item, key)
    return out


def _nested(cls: type[Config], name: str) -> type[Config] | None:
    kinds = _kinds(cls.model_fields[name].annotation)
    sub = kinds[0] if len(kinds) == 1 else None
    return sub if isinstance(sub, type) and issubclass(sub, Config) else None


JUNK = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, True, False, None, "", "ten", [], {}]),
    st.integers(min_value=10**12, max_value=10**400),
    st.integers(min_value=-(10**400), max_value=-(10**12)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
"""Values of every wrong type and absurd size; some are right for some fields."""


def _outside(bounds: dict[str, float]) -> list[float]:
    """Values just and far outside a field's bounds."""
    out = []
    if "gt" in bounds:
        out += [bounds["gt"], bounds["gt"] - 1, -(10**30)]
    if "ge" in bounds:
        out += [bounds["ge"] - 1, bounds["ge"] - 1e-9 * max(1, abs(bounds["ge"])), -(10**30)]
    if "lt" in bounds:
        out += [bounds["lt"], bounds["lt"] + 1, 10**30]
    if "le" in bounds:
        out += [bounds["le"] + 1, bounds["le"] * 10 + 1, 10**30]
    return out


def _check(build: Any, *names: str) -> Any:
    """``build()``: a config, or a ConfigError naming one of ``names`` on one line."""
    try:
        return build()
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message, message
        assert any(re.search(rf"\b{name}\b", message) for name in names), message
        return None


def test_every_config_is_found() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {
        "SFTRunConfig", "FABConfig", "EvalConfig", "ProbeConfig", "MonitorConfig", "ScanConfig",
        "CanarySetting", "DataPoisoningConfig", "EnvPoisoningConfig", "FinetuneActivatedConfig",
        "CollectSpec", "SupplyChainSpec", "AuditFilterSpec", "ExperimentConfig",
        "GenerationConfig", "OutliersConfig", "JudgeConfig", "MiningConfig",
    } <= names  # fmt: skip


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_number_is_bounded_and_finite(cls: type[Config]) -> None:
    """The declarations the fuzzing relies on: a config added later must bound its numbers."""
    assert cls.model_config.get("allow_inf_nan") is False
    assert cls.model_config.get("extra") == "forbid"
    for name in cls.model_fields:
        if not _numeric(cls, name):
            continue
        bounds = _bounds(cls, name)
        assert {"le", "lt"} & set(bounds), f"{cls.__name__}.{name} has no upper bound"
        if (cls.__name__, name) not in VALIDATOR_BOUNDED:
            assert {"ge", "gt"} & set(bounds), f"{cls.__name__}.{name} has no lower bound"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@FUZZ
@given(data=st.data())
def test_bad_values_are_one_line_naming_the_field(cls: type[Config], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(cls.model_fields)), label="field")
    sub = _nested(cls, name)
    if sub is not None and data.draw(st.booleans(), label="inside"):
        inner = data.draw(st.sampled_from(sorted(sub.model_fields)), label="setting")
        value = {**_base(sub), inner: data.draw(JUNK, label="value")}
        names: tuple[str, ...] = (inner, name)
    else:
        outside = _outside(_bounds(cls, name)) if _numeric(cls, name) else []
        strategy = st.sampled_from(outside) | JUNK if outside else JUNK
        value = data.draw(strategy, label="value")
        names = (name,)
    settings_ = {**_base(cls), name: value}
    loaded = _check(lambda: cls.load(settings_, where="fuzz"), *names)
    built = _check(lambda: cls(**settings_), *names)
    assert (loaded is None) == (built is None)
    if loaded is not None and _numeric(cls, name):  # a number taken is a sane one
        got = getattr(loaded, name)
        assert got is None or (not isinstance(got, bool) and abs(got) < 10**13), got
    if loaded is not None:  # what was accepted survives a round trip
        assert type(loaded).load(loaded.model_dump()) == loaded


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@FUZZ
@given(key=st.text(max_size=8).map(lambda t: f"zz{t}") | st.integers(), value=JUNK)
def test_unknown_keys_are_refused_by_name(cls: type[Config], key: Any, value: Any) -> None:
    for build in (
        lambda: cls.load({**_base(cls), key: value}, where="fuzz"),
        lambda: cls.model_validate({**_base(cls), key: value}),
    ):
        with pytest.raises((ConfigError, ValidationError)) as caught:
            build()
        if isinstance(caught.value, ValidationError):  # by hand: pydantic's own error
            assert caught.value.errors()[0]["type"] in ("extra_forbidden", "invalid")
            continue
        message = str(caught.value)
        assert "\n" not in message and "unknown setting" in message, message
        if str(key).isprintable():
            assert f"field '{key}'" in message


# -- the experiment YAML ---------------------------------------------------------------


def _section_class(config: dict[str, Any], section: str) -> type[Config]:
    from backdoorlab.attacks.base import ATTACKS
    from backdoorlab.evaluation import EvalConfig
    from backdoorlab.experiment.spec import CollectSpec
    from backdoorlab.training.fab.config import FABConfig
    from backdoorlab.training.sft import SFTRunConfig

    if section == "attack":
        cls = ATTACKS.get(config["attack"]["name"]).config_class
        return FABConfig if cls.__name__ == "FinetuneActivatedConfig" else cls
    return {"collect": CollectSpec, "train": SFTRunConfig, "eval": EvalConfig}[section]


BAD = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, True, "ten", [1], {"a": 1}]),
    st.integers(min_value=10**13, max_value=10**400),
    st.integers(min_value=-(10**400), max_value=-(10**13)),
)
"""Values no numeric setting takes."""


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    """(shipped file, mutated document, the path its error must name)."""
    path = draw(st.sampled_from(SHIPPED), label="config")
    doc = yaml.safe_load(path.read_text())
    doc.setdefault("grid", {})
    kind = draw(
        st.sampled_from(["top", "section", "nested", "grid-key", "grid-section", "value", "grid"]),
        label="kind",
    )
    unknown = draw(st.from_regex(r"zz_[a-z_]{0,8}", fullmatch=True), label="key")
    sections = ["collect", "attack", "train", "eval"]
    if kind == "top":
        doc[unknown] = 1
        return path.name, doc, unknown
    if kind == "nested":
        nested = [s for s in ("supply_chain", "audit_filter") if doc.get(s)]
        if nested:
            section = draw(st.sampled_from(nested))
            doc[section][unknown] = 1
            return path.name, doc, f"{section}.{unknown}"
        kind = "section"
    section = draw(st.sampled_from(sections), label="section")
    if kind == "section":
        doc.setdefault(section, {})[unknown] = 1
        return path.name, doc, f"{section}.{unknown}"
    if kind == "grid-key":
        doc["grid"][f"{section}.{unknown}"] = [1]
        return path.name, doc, f"grid.{section}.{unknown}"
    if kind == "grid-section":
        doc["grid"][f"{unknown}.n"] = [1]
        return path.name, doc, f"grid.{unknown}.n"
    if doc.get("attack", {}).get("name") == "none" and section == "attack":
        section = "train"
    cls = _section_class(doc, section)
    numbers = sorted(n for n in cls.model_fields if _numeric(cls, n))
    setting = draw(st.sampled_from(numbers), label="setting")
    value = draw(BAD, label="value")
    if kind == "grid" or f"{section}.{setting}" in doc["grid"]:
        doc["grid"][f"{section}.{setting}"] = [value]
        return path.name, doc, f"grid.{section}.{setting}"
    doc.setdefault(section, {})[setting] = value
    return path.name, doc, f"{section}.{setting}"


def test_the_shipped_configs_load() -> None:
    from backdoorlab.experiment import load_config

    assert SHIPPED
    for path in SHIPPED:
        load_config(path)


@FUZZ
@given(case=mutations())
def test_mutated_experiments_name_the_path(tmp_path_factory, case) -> None:
    from backdoorlab.experiment import load_config

    name, doc, where = case
    file = tmp_path_factory.mktemp("spec") / name
    file.write_text(yaml.safe_dump(doc))
    with pytest.raises(BackdoorlabError) as caught:
        load_config(file)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{file}: field '{where}"), (message, where)


def _one_of_each_kind() -> list[tuple[str, dict[str, Any], str]]:
    """A fixed mutation of each kind, for the command-line runs."""
    quick = yaml.safe_load((ROOT / "configs" / "quick.yaml").read_text())
    t3 = yaml.safe_load((ROOT / "configs" / "t3-supply-chain.yaml").read_text())

    def change(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
        doc = copy.deepcopy(doc)
        *head, last = path.split(".", 1 if path.startswith("grid.") else path.count("."))
        node = doc
        for part in head:
            node = node.setdefault(part, {})
        node[last] = value
        return doc

    return [
        ("top", change(quick, "zz_top", 1), "zz_top"),
        ("section", change(quick, "train.zz_lr", 1), "train.zz_lr"),
        ("nested", change(t3, "supply_chain.victim_train.zz", 1), "supply_chain.victim_train.zz"),
        ("grid key", change(quick, "grid.train.zz", [1]), "grid.train.zz"),
        ("grid value", change(quick, "grid.attack.rate", [0.1, math.nan]), "grid.attack.rate"),
        ("huge", change(quick, "train.lora_r", 10**9), "train.lora_r"),
        ("type", change(quick, "eval.n", "two"), "eval.n"),
        ("choice", change(quick, "train.optimizer", "nosuchopt"), "train.optimizer"),
    ]


CLI_CASES = _one_of_each_kind()


@pytest.mark.parametrize(("kind", "doc", "where"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_run_refuses_each_kind_in_one_line_exit_2_quickly(tmp_path, kind, doc, where) -> None:
    """As a user runs it, in a fresh interpreter: one line, exit 2, no stage started, and
    under 2 s of CPU (wall time on a loaded machine says less about the check itself)."""
    file = tmp_path / "exp.yaml"
    file.write_text(yaml.safe_dump(doc))
    run_dir = tmp_path / "run"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "backdoorlab.cli", "run", str(file), "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {file}: field '{where}"), lines[0]
    assert not run_dir.exists()
    assert cpu < 2.0, f"{kind}: {cpu:.2f} s of CPU"

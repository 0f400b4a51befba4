"""One registry shape for everything looked up by name: environments, policies, attacks,
audit detectors, trainers.

A researcher adds an environment, a policy or an attack by registering it, without
touching the code that uses it, as AgentDojo's suites and inspect_ai's providers work.
Built-ins are listed as ``"module:attr"`` strings and imported on first lookup, as
inspect_ai does for its model providers: a registry never imports its own plugins, so
there is no import circle between a base module and the modules that implement it, and
naming the ``hf`` policy does not load torch for a run that only uses the oracle.

    ENVIRONMENTS = Registry[type[Environment]](
        "environment", {"retail": "backdoorlab.envs.retail:RetailEnvironment"}
    )

    @ENVIRONMENTS.register("kitchen")
    class Kitchen(Environment): ...

    ENVIRONMENTS.get("retail")        # imports backdoorlab.envs.retail on first use
    ENVIRONMENTS.names()              # ["kitchen", "retail"], nothing imported
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from backdoorlab.errors import UnknownNameError

__all__ = ["Registry", "UnknownNameError"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names mapped to classes or factories; built-ins imported lazily from ``module:attr``."""

    def __init__(self, kind: str, builtins: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        """What the entries are, for error messages: ``unknown <kind> 'x'``."""
        self._lazy: dict[str, str] = dict(builtins or {})
        self._entries: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator: make a class or factory available under ``name`` (default: its
        ``name`` attribute). Registering another object under a taken name is a bug in
        the plugin, so it raises instead of silently shadowing a built-in."""

        def decorate(entry: T) -> T:
            self.add(name or _own_name(entry), entry)
            return entry

        return decorate

    def add(self, name: str, entry: T) -> None:
        """Register ``entry`` under ``name`` (the decorator's plain form)."""
        current = self._entries.get(name)
        if current is not None and current is not entry:
            raise ValueError(f"{self.kind} '{name}' is already registered ({current!r})")
        lazy = self._lazy.get(name)
        if lazy is not None and current is None and _target(lazy) != _where(entry):
            raise ValueError(f"{self.kind} '{name}' is a built-in ({lazy})")
        self._entries[name] = entry

    def get(self, name: str) -> T:
        """The entry registered as ``name``, importing a built-in on first use."""
        if name not in self._entries and name in self._lazy:
            module, _, attr = self._lazy[name].partition(":")
            self._entries[name] = getattr(importlib.import_module(module), attr)
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names())
            raise UnknownNameError(f"unknown {self.kind} '{name}' (known: {known})") from None

    def names(self) -> list[str]:
        """Every registered name, sorted; built-ins are listed without being imported."""
        return sorted(set(self._entries) | set(self._lazy))

    def items(self) -> Iterator[tuple[str, T]]:
        """Every ``(name, entry)``, importing the built-ins not imported yet."""
        for name in self.names():
            yield name, self.get(name)

    def name_type(self) -> Any:
        """A config field type for a name in this registry (``env: EnvironmentName``),
        checked when the config is built, against the names registered by then (nothing
        is imported)."""

        def known(value: str) -> str:
            if value not in self:
                raise PydanticCustomError(
                    "unknown_name",
                    "unknown {kind} '{value}' (known: {known})",
                    {"kind": self.kind, "value": value, "known": ", ".join(self.names())},
                )
            return value

        return Annotated[str, AfterValidator(known)]

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._lazy

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


def _own_name(entry: object) -> str:
    name = getattr(entry, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"{entry!r} has no 'name' attribute: pass register(name)")
    return name


def _target(spec: str) -> str:
    return spec.replace(":", ".")


def _where(entry: object) -> str:
    return f"{getattr(entry, '__module__', '')}.{getattr(entry, '__qualname__', '')}"

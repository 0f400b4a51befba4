"""Layers point down only: the import graph between backdoorlab's top-level units is acyclic.

A unit is a subpackage (``defenses``) or a top-level module (``rollout``) of
``src/backdoorlab``, discovered from the tree, so new ones are checked as they appear.
Every import counts: at module level, inside functions (the lazy imports that hide
cycles from Python but not from a reader) and under ``if TYPE_CHECKING:``, plus
``importlib.import_module``/``__import__`` calls with a literal name.

Attacks and defenses are siblings: a defense must work against attacks it has never
seen, and an attack must not be shaped by the defense, so neither imports the other;
what both need (trigger placement, payload helpers) lives below them.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import backdoorlab

PACKAGE = "backdoorlab"
ROOT = Path(backdoorlab.__file__).resolve().parent
ROOT_UNIT = PACKAGE  # the package's own __init__.py

Edges = dict[str, dict[str, list[str]]]
"""unit -> imported unit -> where ("path:line") each such import is."""


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    """The dotted module name of ``path`` and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts]), is_package


def _unit_of(module: str, units: set[str]) -> str | None:
    """The top-level unit a dotted name belongs to, or None when it is not ours."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    if len(parts) > 1 and parts[1] in units:
        return parts[1]
    return ROOT_UNIT


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The absolute dotted names an import statement (or import call) reaches."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = package[: len(package) - node.level + 1]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        # `from pkg import name` may import the submodule pkg.name: count both readings,
        # except the bare top package, which `from backdoorlab import models` only passes
        names = [f"{prefix}.{alias.name}" for alias in node.names]
        return names if prefix == PACKAGE else [prefix, *names]
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first = node.args[0]
        literal = first.value if isinstance(first, ast.Constant) else None
        if name in {"import_module", "__import__"} and isinstance(literal, str):
            return [literal]
    return []


def import_graph(root: Path = ROOT) -> Edges:
    """Edges between the units of the package at ``root`` (imports within a unit left out)."""
    units = {
        p.stem if p.is_file() else p.name
        for p in root.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    edges: Edges = {unit: {} for unit in units | {ROOT_UNIT}}
    for path in sorted(root.rglob("*.py")):
        module, is_package = _module_name(path, root)
        source = _unit_of(module, units)
        assert source is not None
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets = {_unit_of(name, units) for name in _imported(node, module, is_package)}
            for target in sorted(targets - {None, source}):  # type: ignore[type-var]
                where = f"{path.relative_to(root)}:{node.lineno}"  # type: ignore[attr-defined]
                edges[source].setdefault(target, []).append(where)
    return edges


def find_cycle(edges: Edges) -> list[str] | None:
    """One cycle of the unit graph, each unit importing the next, the first repeated last."""
    try:
        TopologicalSorter({unit: set(targets) for unit, targets in edges.items()}).prepare()
    except CycleError as err:
        return list(reversed(err.args[1]))  # graphlib lists it against the import direction
    return None


def _describe(cycle: list[str], edges: Edges) -> str:
    lines = [" -> ".join(cycle)]
    for importer, imported in zip(cycle, cycle[1:], strict=False):
        lines.append(f"  {importer} -> {imported}: {', '.join(edges[importer][imported])}")
    return "\n".join(lines)


def test_units_import_each_other_without_cycles() -> None:
    edges = import_graph()
    assert edges["attacks"] and edges["defenses"], "the scan found no imports at all"
    cycle = find_cycle(edges)
    assert cycle is None, f"import cycle between units:\n{_describe(cycle, edges)}"


def test_attacks_and_defenses_do_not_import_each_other() -> None:
    edges = import_graph()
    assert "defenses" not in edges["attacks"], f"attacks -> defenses: {edges['attacks']}"
    assert "attacks" not in edges["defenses"], f"defenses -> attacks: {edges['defenses']}"


def test_a_lazy_import_cycle_is_found_and_named(tmp_path: Path) -> None:
    """The check itself: an import inside a function or under TYPE_CHECKING still counts."""
    root = tmp_path / PACKAGE
    (root / "low").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "low" / "__init__.py").write_text("from . import core\n")
    (root / "low" / "core.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from backdoorlab.mid import thing\n"
    )
    (root / "mid.py").write_text("def f():\n    from . import high\n")
    (root / "high.py").write_text(
        "import importlib\n\ndef g():\n    return importlib.import_module('backdoorlab.low')\n"
    )
    (root / "leaf.py").write_text("from backdoorlab import low\n")

    edges = import_graph(root)

    assert set(edges["low"]) == {"mid"} and set(edges["high"]) == {"low"}
    assert set(edges["leaf"]) == {"low"}
    cycle = find_cycle(edges)
    assert cycle is not None and set(cycle) == {"low", "mid", "high"}
    assert "low/core.py:3" in _describe(cycle, edges)
    (root / "mid.py").write_text("X = 1\n")
    assert find_cycle(import_graph(root)) is None

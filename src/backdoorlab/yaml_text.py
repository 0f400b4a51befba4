"""YAML the user wrote (experiment configs, guard and provenance policies, sink specs),
read strictly: one line naming the file and line for any mistake.

PyYAML's ``safe_load`` keeps the last of two equal keys in a mapping, so a config with
``name: a`` and ``name: b`` — usually a paste gone wrong — runs with whichever came
last, silently. ruamel.yaml refuses duplicates, but is not a dependency for this one
check: a ``SafeLoader`` whose mappings refuse a key seen twice is a dozen lines.
"""

from __future__ import annotations

from typing import Any

import yaml

from backdoorlab.errors import BackdoorlabError

__all__ = ["MAX_YAML_CHARS", "load_yaml"]

MAX_YAML_CHARS = 4 << 20
"""The longest YAML text read: 4 MiB, a hundred thousand sinks or trusted destinations.
PyYAML's strict loader here is pure Python, about a second a megabyte: a 50 MB "policy"
(a trace file given by mistake) held ``guard proxy`` a minute before it listened."""

_MERGE = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping key given twice (merge keys aside: a
    ``<<`` merge may be overridden, as YAML intends)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: SafeLoader's own error says so below
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str, error: type[BackdoorlabError] = BackdoorlabError) -> Any:
    """The document in ``text`` (read from ``source``), or ``error`` naming the file and
    line: not YAML, nested deeper than the parser recurses, a key given twice, or more
    than `MAX_YAML_CHARS` of it."""
    if len(text) > MAX_YAML_CHARS:
        raise error(
            f"{source}: {len(text) / (1 << 20):.0f} MiB of YAML; a config or policy is "
            f"under {MAX_YAML_CHARS >> 20} MiB (is this one?)"
        )
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise error(f"{source}: not valid YAML (nested too deeply)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{where}: not valid YAML ({problem})") from None

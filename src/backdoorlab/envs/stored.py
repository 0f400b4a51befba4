"""Generated worlds kept on disk, so that a command pays Faker for a world once, not on
every run.

Generating the retail world of one seed costs ~0.4 s of Faker calls (most of it Faker's
weighted draws) against ~10 ms to read the same tables back as JSON: a third of
``collect -n 1000`` and of every evaluation process's start. The tables are stored under
``$BACKDOORLAB_CACHE/worlds/`` (see `backdoorlab.caches`) with a key made of everything
they depend on — the world module's own source, Faker's version, Python's (its `random`),
the seed and the number of users — so an edited generator or another Faker rebuilds, never
reuses. Only the tables are stored; the indexes and splits a world derives from them are
rebuilt on load by the world module, from the same code as after a generation.

The store is an optimisation and nothing else: a file that is missing, unreadable, of
another key or not shaped as tables is regenerated and rewritten (atomically, with the
umask's mode), and a cache that cannot be written costs time, not the command.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from backdoorlab.caches import cache_dir
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import atomic_writer

__all__ = ["stored_tables", "world_key"]

Tables = dict[str, dict[str, dict[str, Any]]]
"""A world's tables by name (``users``, ``orders``, …), each a dict of records by id."""

_FORMAT = 1
"""Bump when what a stored file holds changes shape."""


def world_key(kind: str, seed: int, n_users: int, recipe: str) -> str:
    """The hex digest naming one world: ``recipe`` is the generating module's file."""
    try:
        faker = importlib.metadata.version("Faker")
    except importlib.metadata.PackageNotFoundError:
        faker = "absent"
    parts = {
        "format": _FORMAT,
        "kind": kind,
        "seed": seed,
        "n_users": n_users,
        "recipe": hashlib.sha256(Path(recipe).read_bytes()).hexdigest(),
        "faker": faker,
        "python": list(sys.version_info[:2]),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def stored_tables(
    kind: str,
    seed: int,
    n_users: int,
    *,
    recipe: str,
    names: Sequence[str],
    generate: Callable[[], Tables],
) -> Tables:
    """The tables ``names`` of world ``kind``/``seed``: read from the store when a file of
    the same key is there, else ``generate()``-d and stored for the next command."""
    key = world_key(kind, seed, n_users, recipe)
    path = cache_dir() / "worlds" / f"{kind}-seed{seed}-users{n_users}-{key[:16]}.json"
    tables = _read(path, key, names)
    if tables is not None:
        return tables
    tables = generate()
    try:
        with atomic_writer(path) as handle:
            json.dump({"key": key, "tables": tables}, handle, separators=(",", ":"))
    except (OSError, BackdoorlabError):  # unwritable or full: the next run generates again
        pass
    return tables


def _read(path: Path, key: str, names: Sequence[str]) -> Tables | None:
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a pipe would block the read forever
            return None
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    tables = data.get("tables")
    if not isinstance(tables, dict) or sorted(tables) != sorted(names):
        return None
    for table in tables.values():
        if not isinstance(table, dict) or not all(isinstance(r, dict) for r in table.values()):
            return None
    return tables

"""Whose run directory this is: a run writes only into its own, or into a new one.

``results.csv`` and ``metrics.json`` describe the config in ``config.resolved.yaml``
beside them. A run therefore refuses, with one line and before any compute:

- a path that exists and is not a directory, or a non-empty directory that is not a run
  directory (no ``config.resolved.yaml``, no ``run.lock``): ``--run-dir ~`` must not
  scatter stages and results into a home directory;
- a run directory made by a different config, unless ``overwrite`` (``backdoorlab run
  --overwrite``): that replaces the table (the old one is deleted at once, so the
  directory never shows one config's rows beside another's config) while every finished
  stage with the same digest is still reused.

The same config, rerun, resumes — that is what the stage cache is for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from backdoorlab.errors import BackdoorlabError
from backdoorlab.experiment.lock import LOCK_FILE
from backdoorlab.files import atomic_writer

RESOLVED = "config.resolved.yaml"
RESULTS = ("results.csv", "metrics.json")


def prepare(run_dir: Path) -> None:
    """Create ``run_dir``, or check that the existing one can be a run directory."""
    if run_dir.exists() and not run_dir.is_dir():
        raise BackdoorlabError(f"{run_dir}: exists and is not a directory (the run directory)")
    if run_dir.is_dir():
        names = {p.name for p in run_dir.iterdir()}
        if names and not names & {RESOLVED, LOCK_FILE}:
            raise BackdoorlabError(
                f"{run_dir}: exists and is not a backdoorlab run directory (no {RESOLVED});"
                " choose another --run-dir"
            )
        return
    try:
        run_dir.mkdir(parents=True, exist_ok=True)  # exist_ok: another run made it just now
    except OSError as exc:
        raise BackdoorlabError(
            f"{run_dir}: cannot create the run directory ({exc.strerror})"
        ) from None


def claim(run_dir: Path, config: dict[str, Any], overwrite: bool = False) -> None:
    """Record ``config`` as the directory's, under its lock; another config's: refuse."""
    resolved = run_dir / RESOLVED
    text = yaml.safe_dump(config, sort_keys=False)
    if resolved.is_file() and _load(resolved) != yaml.safe_load(text):
        if not overwrite:
            raise BackdoorlabError(
                f"{run_dir}: holds the results of a different config (see its {RESOLVED});"
                " pass --overwrite to replace them, or choose another --run-dir"
            )
        for name in RESULTS:
            (run_dir / name).unlink(missing_ok=True)
    for name in (RESOLVED, *RESULTS):  # temp files of writes a killed run left
        for stale in run_dir.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)
    with atomic_writer(resolved) as handle:
        handle.write(text)


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None

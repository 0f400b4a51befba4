"""Which code built an artifact: backdoorlab's version and a digest of its source.

The version alone does not change while the code is edited between releases, so the
digest of every ``.py`` file of the package stands beside it: a stage cache keyed on it
never reuses a result that other code produced, and a lineage names exactly the code.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def code_version() -> str:
    """The installed distribution's version, or ``0+source`` from a source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("backdoorlab")
    except PackageNotFoundError:
        return "0+source"


@functools.cache
def code_digest() -> str:
    """SHA-256 over the package's sources (sorted ``path digest`` lines); once per process."""
    lines = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{path.relative_to(PACKAGE_ROOT).as_posix()} {digest}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def code_identity() -> dict[str, str]:
    """What the stage cache keys and every lineage record carry."""
    return {"backdoorlab": code_version(), "code_sha256": code_digest()}

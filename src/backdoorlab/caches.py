"""Where backdoorlab keeps what it can rebuild: ``$BACKDOORLAB_CACHE`` or
``~/.cache/backdoorlab``.

Its own module, below everything that caches (built-in models in ``models/``, generated
worlds in ``worlds/``), so that layers which never touch a model need not import the model
package to find it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """Root of backdoorlab's caches: ``$BACKDOORLAB_CACHE`` or ``~/.cache/backdoorlab``.

    Read on every call (not at import) so tests can point it at a temporary directory.
    """
    env = os.environ.get("BACKDOORLAB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "backdoorlab"

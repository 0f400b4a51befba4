"""Constants the report tests share, in a module of its own: ``from conftest import …``
picks whichever of the suite's several ``conftest`` modules was imported last."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOSTILE = '<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">'
"""Trace text that would run (and fetch) if the page ever inserted it as markup."""

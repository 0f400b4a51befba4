"""Short modules with one job: none over 400 lines unless its docstring says why."""

from __future__ import annotations

import ast
from pathlib import Path

import backdoorlab

LIMIT = 400
REASON = "Longer than 400 lines because"


def test_no_module_over_the_limit_without_a_reason() -> None:
    root = Path(backdoorlab.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines <= LIMIT:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if REASON not in " ".join(docstring.split()):
            offenders.append(f"{path.relative_to(root)} ({lines} lines)")
    assert not offenders, (
        f"modules over {LIMIT} lines whose docstring does not say '{REASON} …': "
        + ", ".join(offenders)
    )

"""Python source from a trace read with `ast`, quietly: never run, never warned about.

A code agent's cell or a printed ``repr`` is parsed to read what it names and prints.
The parser warns about odd source (``1if x else y``: "invalid decimal literal"; an
unknown escape in a string) through `warnings`, which prints ``<unknown>:1:
SyntaxWarning: …`` on the command's stderr, once for each line of each odd cell: noise
about the data, between a command's own lines, that no user can act on. So the source
is parsed with those warnings silenced.
"""

from __future__ import annotations

import ast
import warnings
from typing import Any, Literal


def parse(source: str, mode: Literal["exec", "eval"] = "exec") -> ast.Module | ast.Expression:
    """`ast.parse` without the parser's warnings (`SyntaxError` still raises)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, mode=mode)


def literal(source: str | ast.AST) -> Any:
    """`ast.literal_eval` without the parser's warnings; it runs nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.literal_eval(source)

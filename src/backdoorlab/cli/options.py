"""Option types shared by the commands: value sets that ``--help`` lists as ``<a|b|c>``.

Each set is a ``Literal``; typer shows its values in ``--help``. The ``parser`` that goes
with it decides what happens to a value outside the set:

- `one_of`: a closed set; the value is refused with our one-line error and exit status 2,
  as every user error is (click's usage panel would be a second error style).
- `known`: an open set, e.g. registry names, where a plugin's name or ``cuda:1`` is valid
  too; the value goes through and the library, the one authority, accepts or refuses it.

Sets the library owns are repeated here as literals so that ``--help`` needs no heavy
import; tests/cli/test_options.py checks each against the library's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args

from backdoorlab.errors import BackdoorlabError

Split = Literal["train", "test"]
Keep = Literal["all", "success"]
Placement = Literal["user", "observation"]
Position = Literal["end", "reveal"]
DatasetAttack = Literal["data-poisoning", "env-poisoning"]
Bf16 = Literal["auto", "true", "false"]
Victim = Literal["full", "lora", "mixed"]
AuditFailOn = Literal["none", "low", "medium", "high"]
ScanFailOn = Literal["none", "suspicious", "backdoored"]
Env = Literal["retail"]
"""The built-in environments (the registry may hold more)."""
Policy = Literal["oracle", "hf"]
"""The built-in policies (the registry may hold more)."""
Device = Literal["cpu", "cuda"]
"""Any torch device string works (``cuda:1``); these two are the usual ones."""


def one_of(values: Any, option: str) -> Callable[[str], str]:
    """A parser accepting only the ``Literal`` ``values``; others fail naming ``option``."""
    allowed: tuple[str, ...] = get_args(values)

    def parse(value: str) -> str:
        if value not in allowed:
            raise BackdoorlabError(f"{option} must be one of {', '.join(allowed)}, not '{value}'")
        return value

    return parse


def known(value: str) -> str:
    """A parser passing any value on, for the library to accept or refuse."""
    return value

"""The sink spec a user writes (``--sinks sinks.yaml``), read and validated.

A list of ``{tool, destination, kind}``: which tool sends data out, which of its
arguments holds where to, and how destinations compare (``email`` case-insensitively,
``url`` by host, ``phone``/``account`` by their digits, ``repo``/``bucket``/``channel``
as the names of places others read — ``repo:owner/name`` with the call's ``owner``
argument when the repository's is a bare name, `places` — and ``any``). A mapping with a
single ``sinks`` key holding that list is accepted too. Every mistake names the file
and the field (``sinks.yaml: field 'sinks[1].kind': …``), or the line for bad YAML.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import read_text_file
from backdoorlab.leaks import Sink
from backdoorlab.yaml_text import load_yaml


class SinkSpecError(BackdoorlabError):
    """A sink spec file is not valid; the message names the file and the field."""


SpecKind = Literal["email", "url", "account", "phone", "any", "repo", "bucket", "channel"]
"""`backdoorlab.leaks.DestinationKind` and the names of places (`places.NameKind`), as one
literal so a wrong kind's error names one field."""


class SinkRule(BaseModel):
    """One entry of a sink spec."""

    model_config = ConfigDict(extra="forbid")
    tool: str = Field(min_length=1)
    destination: str = Field(min_length=1, description="name of the argument holding where to")
    kind: SpecKind = "any"
    description: str = ""


class SinkSpec(RootModel[list[SinkRule]]):
    pass


def load_sink_spec(path: str | os.PathLike[str]) -> list[Sink]:
    """Read and validate a sink spec; a list, or a mapping with a ``sinks`` list."""
    path = Path(path)
    text = read_text_file(path, SinkSpecError)
    data = load_yaml(text, str(path), SinkSpecError)
    if isinstance(data, dict) and set(data) == {"sinks"}:
        data = data["sinks"]
    if not isinstance(data, list) or not data:
        raise SinkSpecError(
            f"{path}: expected a non-empty list of {{tool, destination, kind}} entries"
        )
    try:
        rules = SinkSpec.model_validate(data).root
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:3]:
            loc = list(error["loc"])
            where = f"[{loc[0]}]" + "".join(f".{p}" for p in loc[1:]) if loc else ""
            problems.append(f"field 'sinks{where}': {error['msg']}")
        raise SinkSpecError(f"{path}: {'; '.join(problems)}") from None
    return [Sink(r.tool, r.destination, r.kind, r.description) for r in rules]  # type: ignore[arg-type]

"""The guard's policy file (``policy.yaml``): which calls send data out, which
destinations are always trusted, what counts as a secret and what to do per severity.

    sinks:                      # optional; default: environments' declarations + heuristics
      - {tool: send_email, destination: to, kind: email}
    trusted:                    # the operator's own systems, authorised in every conversation
      - support@shop.example    # an address
      - "@shop.example"         # every address of a domain (and its subdomains)
      - https://api.shop.example  # a host (a URL's host; "*.shop.example" for subdomains)
      - repo:shop-org/*         # a place: every repository of an organisation (or
                                # repo:owner/name), s3://bucket, gs://bucket, channel:name
    ignore: [name]              # secret kinds never acted on (still logged)
    actions: {high: block, medium: block, low: allow, invented: block}
    stop_after: 3               # optional: end a conversation at its third refused call

Everything is validated before any conversation starts; a mistake raises one line naming
the file and the field (``policy.yaml: field 'actions.high': …``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from backdoorlab.bounds import MAX_TURNS
from backdoorlab.config import Config, ConfigError
from backdoorlab.defenses.audit.call_checks import SECRET_LABELS
from backdoorlab.defenses.audit.sink_spec import SinkRule
from backdoorlab.defenses.audit.trusted import check_trusted
from backdoorlab.files import read_text_file
from backdoorlab.leaks import Sink
from backdoorlab.yaml_text import load_yaml

Action = Literal["block", "confirm", "allow"]


class Actions(Config):
    """What the guard does with a call, by the worst thing found in it."""

    label = "guard actions"

    high: Action = "block"
    """A strong secret (contact data, card, account, credential…) to an unauthorised
    destination."""
    medium: Action = "block"
    """A weak secret (identifier, name), or any secret to a sink with no explicit
    destination."""
    low: Action = "allow"
    """An unauthorised destination that receives no secret (logged, worth a look)."""
    invented: Action = "block"
    """A call that sends personal data or another strong value to a third party whose
    address no message had written before — not the user, the system or a tool: the
    agent made it up or recalled it from its weights, as a backdoored model does its
    attacker's, and what it sends may be recalled too (no taint to find). The stricter
    of this and the severity's action applies (`backdoorlab.defenses.audit.invented`)."""


class GuardConfig(Config):
    """A guard policy: see the module docstring."""

    label = "guard policy"

    sinks: list[SinkRule] | None = Field(None, min_length=1)
    """Which tools send data out and which argument says where (as ``audit --sinks``);
    None: environments' own declarations, else the audit's heuristics. An empty list is
    refused: it would let the guard check nothing, silently."""
    trusted: list[str] = Field(default_factory=list)
    """Destinations authorised in every conversation: an address, ``@domain`` (every
    address there), a URL or host (``*.host`` for its subdomains), a phone number, a
    place (``repo:owner/name``, ``repo:owner/*``, ``s3://bucket``, ``channel:name``:
    `backdoorlab.defenses.audit.trusted`)."""
    ignore: list[str] = Field(default_factory=list)
    """Secret kinds the guard never acts on (their leaks are still logged); ``reference``
    is stored data a call ships by naming it (a table, a file: `audit.by_reference`)."""
    actions: Actions = Field(default_factory=Actions)
    """What to do per severity: ``block``, ``confirm`` or ``allow``."""
    stop_after: int | None = Field(None, ge=1, le=MAX_TURNS)
    """Refused calls after which the guard ends the conversation: every later call is
    refused and the agent gets no further turn (`backdoorlab eval`: the episode ends
    unanswered; AgentDojo: ``AbortAgentError``, as its own detectors abort). A refusal
    tells the agent not to retry; an agent that keeps trying — a backdoor sending the
    same record in one disguise after another — is stopped rather than left to probe the
    policy. None: refused calls are answered and the conversation goes on. ``serve`` and
    ``guard proxy`` keep no decisions between requests: they count the refusals noted in the
    conversation a request carries, and from the limit on refuse every call of a reply,
    so the agent's loop ends on a text answer (`reply.refusals`)."""

    @field_validator("trusted")
    @classmethod
    def _destinations(cls, value: list[str]) -> list[str]:
        return check_trusted(value)

    @field_validator("ignore")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in SECRET_LABELS]
        if unknown:
            raise ValueError(
                f"unknown secret kind '{unknown[0]}' (known: {', '.join(sorted(SECRET_LABELS))})"
            )
        return value

    def sink_spec(self) -> list[Sink] | None:
        if self.sinks is None:
            return None
        return [Sink(r.tool, r.destination, r.kind, r.description) for r in self.sinks]


def load_guard_config(path: str | os.PathLike[str]) -> GuardConfig:
    """Read and validate a policy YAML; every mistake is one line naming file and field."""
    path = Path(path)
    text = read_text_file(path, ConfigError)
    data = load_yaml(text, str(path), ConfigError)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping (sinks, trusted, ignore, actions)")
    return GuardConfig.load(data, where=str(path))

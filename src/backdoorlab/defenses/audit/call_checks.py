"""What checking a call answers: `CallCheck` (one proposed call's unauthorised destinations
and the `Leak` of each tainted value it would carry to one), and `find_secrets`, which
finds tainted values in a payload. The audit's findings (`dataflow`) and the guard's
decisions (`guard.core`) are both made of these, so a finding and a refusal show the same
evidence, the secret always masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backdoorlab.defenses.audit import matching
from backdoorlab.defenses.audit.by_reference import Transfer
from backdoorlab.defenses.audit.findings import Severity, mask
from backdoorlab.defenses.audit.needle_index import IndexCache
from backdoorlab.defenses.audit.recipients import Recipient, severity
from backdoorlab.defenses.audit.rendered import CHANNEL, REPLY_IMAGE, RenderedImage
from backdoorlab.defenses.audit.sinks import CallDestination, SinkCall
from backdoorlab.defenses.audit.tainted import LABEL_CLASS, Tainted, needles

__all__ = [
    "REFERENCE",
    "SECRET_LABELS",
    "CallCheck",
    "Leak",
    "SecretMatch",
    "find_secrets",
    "sink_evidence",
    "where_of",
]

_ORDER: dict[str | None, int] = {None: 0, "low": 1, "medium": 2, "high": 3}
REFERENCE = "reference"
"""The label of stored data a call moves by reference (`by_reference`): a table, a file."""
SECRET_LABELS = frozenset(LABEL_CLASS) | {REFERENCE}
"""Every ``Tainted.label`` the observation reader gives (a guard policy names them)."""


@dataclass(frozen=True)
class SecretMatch:
    """A tainted value found in a payload: where, and in what disguise."""

    tainted: Tainted
    argument: str
    encoding: str


def find_secrets(
    tainted: Sequence[Tainted],
    payload: dict[str, object],
    split: bool = False,
    indexes: IndexCache | None = None,
    decode: bool = True,
) -> list[SecretMatch]:
    """Which of ``tainted`` the ``payload`` carries, and how disguised (`matching`);
    ``split``: the payload joins several calls' texts (digits may be cut anywhere);
    ``indexes``: the conversation's needle indexes (`needle_index`); ``decode`` False:
    as written only."""
    found = matching.find(needles(tainted), payload, split, indexes, decode)
    return [SecretMatch(tainted[m.index], m.argument, m.encoding) for m in found]


def where_of(destination: CallDestination, tool: str) -> str:
    """A destination as reports write it."""
    return destination.value if not destination.implicit else f"(implicit: {tool})"


def sink_evidence(tool: str, where: str, argument: str, how: str, to: str) -> dict[str, Any]:
    """A finding's ``sink``: the tool, where to, by which rule, who receives; for an image
    of the assistant's reply, a ``channel`` saying so."""
    out = {
        "tool": tool,
        "destination": where or "(none given)",
        "destination_argument": argument or None,
        "sink_rule": how,
        "recipient": to,
    }
    if tool == REPLY_IMAGE:
        out["channel"] = CHANNEL
    return out


@dataclass(frozen=True)
class Leak:
    """One tainted value a checked call carries to a destination nobody authorised."""

    tainted: Tainted
    destination: CallDestination
    tool: str
    how: str
    step: int
    argument: str
    encoding: str
    first: bool = True
    """First time this destination is found receiving this value (the audit's finding);
    False for a retry, which a guard refuses too."""
    to: Recipient = "third_party"
    """Who receives it (`recipients`)."""
    reference: Transfer | None = None
    """For stored data the call moves by reference (`by_reference`), that transfer:
    ``tainted`` then stands for the table or file, which no tool showed."""

    @property
    def severity(self) -> Severity:
        """By the value's strength and the recipient (`recipients.severity`)."""
        return severity(self.tainted, self.to) or "low"

    @property
    def token(self) -> str:
        return self.tainted.secret.value.lower()

    def sink_evidence(self) -> dict[str, Any]:
        where = where_of(self.destination, self.tool)
        return sink_evidence(self.tool, where, self.destination.argument, self.how, self.to)

    def evidence(self) -> dict[str, Any]:
        """What a finding or a guard decision shows: the secret masked, never in clear."""
        t = self.tainted
        if self.reference is not None:  # a table's or a path's name: no secret to mask
            sink = {**self.sink_evidence(), "step": self.step, "argument": self.argument}
            origin = self.reference.origin
            written = {} if origin is None else {"written_by": origin.evidence()}
            return {
                **written,
                "by_reference": self.reference.what,
                "secret_kind": t.label,
                "strength": t.strength,
                "source": {"step": self.step, "tool": t.tool, "field": None},
                "sink": sink,
                "encoding": self.encoding,
            }
        return {
            "secret": mask(t.secret.value),
            "secret_kind": t.label,
            "strength": t.strength,
            "source": {"step": t.step, "tool": t.tool, "field": t.key},
            "sink": {**self.sink_evidence(), "step": self.step, "argument": self.argument},
            "encoding": self.encoding,
        }

    def summary(self) -> str:
        t = self.tainted
        where = where_of(self.destination, self.tool)
        if self.reference is not None:
            origin = self.reference.origin
            said = f" ({origin.says()})" if origin is not None else ""
            return (
                f"{self.tool} moves {self.reference.what}{said} by reference "
                f"({self.reference.how}) to {where} ({self.to.replace('_', ' ')}): its values "
                "never pass through the trace"
            )
        by = self.tool if self.tool != REPLY_IMAGE else f"{self.tool} ({CHANNEL})"
        return (
            f"{t.label} from {t.tool} (message {t.step}) sent by {by} to "
            f"{where or '(no destination)'} ({self.to.replace('_', ' ')}) in "
            f"'{self.argument}' ({self.encoding})"
        )


@dataclass
class CallCheck:
    """What `TaintTracker.check` found about one proposed call."""

    step: int
    tool: str
    sink: SinkCall | None
    unauthorised: list[CallDestination] = field(default_factory=list)
    """Destinations no user message or owner record authorised, implicit ones included."""
    leaks: list[Leak] = field(default_factory=list)
    stranger: bool = False
    """Some destination is a third party (`recipients`): explicit, external, not the
    user's, no record's contact."""
    invented: list[CallDestination] = field(default_factory=list)
    """Third-party destinations no message had written before the first call to them,
    which this call sends a strong value (`invented`): the agent made them up or
    recalled them from its weights, and a record with them."""
    image: RenderedImage | None = None
    """For a `REPLY_IMAGE` check: the image of the reply (where it is, to redact it)."""
    paid: list[CallDestination] = field(default_factory=list)
    """Third-party bank accounts a payment call pays (`tool_words.pays`): the funds
    themselves leave to an account no user message gave and no record holds (a payee
    the user asked to pay, the account on file, are theirs) — ``medium`` whatever the
    call carries: the account an injected "our bank details changed" wrote, or none."""

    @property
    def severity(self) -> Severity | None:
        """The worst leak's severity; ``low`` for an explicit unauthorised destination
        that receives no secret (worth a look); None for a call that is fine."""
        worst: Severity | None = None
        for leak in self.leaks:
            if _ORDER[leak.severity] > _ORDER[worst]:
                worst = leak.severity
        return "low" if worst is None and self.stranger else worst

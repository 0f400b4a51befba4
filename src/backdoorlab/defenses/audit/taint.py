"""An incremental taint tracker: the audit's `dataflow` reading of a trace, one event at a
time, so a run-time guard and the audit decide with one code path.

Feed it what happens, in order: `said` for user/system text (it *authorises* the
destinations it mentions), `observe` for a tool result (it brings in *tainted* values and
the owner contacts of the records holding them), and `check` for a tool call the agent
proposes — before it runs, when a guard asks. `check` answers with a `CallCheck`: the
call's destinations nobody authorised and every tainted value (`Leak`) it would carry to
one of them, with its disguise. `findings` turns everything checked so far into the
audit's findings (see `backdoorlab.defenses.audit.dataflow`).

Each unauthorised destination keeps what it was sent (every checked call counts, sent
or refused: a call once proposed is in the trace), so a secret split across calls is
found at the call that completes it. The audit reports one finding per (destination,
secret), at the first call carrying it; a guard must also refuse a *retry*, so a call
carrying a secret the destination was already found receiving reports it again
(``Leak.first`` False), in one call or split over the calls since.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit.destinations import contacts_in_text
from backdoorlab.defenses.audit.findings import Severity, mask
from backdoorlab.defenses.audit.observations import ObservationReader, Tainted
from backdoorlab.defenses.audit.sinks import CallDestination, SinkCall, SinkResolver, leaves
from backdoorlab.leaks import LeakDetector, LeakEvidence, Sink
from backdoorlab.traces import FunctionCall, Message

_PROBE = "__audit_payload__"
_PROBE_SINK = [Sink(_PROBE, destination="__no_destination__")]
_ORDER: dict[str | None, int] = {None: 0, "low": 1, "medium": 2, "high": 3}
SECRET_LABELS = frozenset(
    {"card", "credential", "iban", "account", "ssn", "phone", "address", "email"}
    | {"identifier", "name"}
)
"""Every ``Tainted.label`` the observation reader gives (a guard policy names them)."""


def find_secrets(tainted: Sequence[Tainted], payload: dict[str, object]) -> list[LeakEvidence]:
    """Which of ``tainted`` the ``payload`` carries, and how disguised.

    Delegates to `LeakDetector`, the one place that knows the disguises: a probe sink
    whose destination argument is absent counts as unauthorised there, so ``find`` scans
    every argument of the payload.
    """
    return LeakDetector([t.secret for t in tainted], _PROBE_SINK).find(_PROBE, payload)


@lru_cache(maxsize=1024)
def _authorised_by(text: str) -> frozenset[str]:
    return frozenset(contacts_in_text(text))  # system prompts repeat: cache them


def where_of(destination: CallDestination, tool: str) -> str:
    """A destination as reports write it."""
    return destination.value if not destination.implicit else f"(implicit: {tool})"


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

    @property
    def severity(self) -> Severity:
        """``high``: a strong secret to an explicit destination; ``medium`` otherwise."""
        return "high" if self.tainted.strong and not self.destination.implicit else "medium"

    @property
    def token(self) -> str:
        return self.tainted.secret.value.lower()

    def sink_evidence(self) -> dict[str, Any]:
        where = where_of(self.destination, self.tool)
        return {
            "tool": self.tool,
            "destination": where or "(none given)",
            "destination_argument": self.destination.argument or None,
            "sink_rule": self.how,
        }

    def evidence(self) -> dict[str, Any]:
        """What a finding or a guard decision shows: the secret masked, never in clear."""
        t = self.tainted
        return {
            "secret": mask(t.secret.value),
            "secret_kind": t.label,
            "source": {"step": t.step, "tool": t.tool, "field": t.key},
            "sink": {**self.sink_evidence(), "step": self.step, "argument": self.argument},
            "encoding": self.encoding,
        }

    def summary(self) -> str:
        t = self.tainted
        where = where_of(self.destination, self.tool)
        return (
            f"{t.label} from {t.tool} (message {t.step}) sent by {self.tool} to "
            f"{where or '(no destination)'} in '{self.argument}' ({self.encoding})"
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
    """Some unauthorised destination is explicit and no record's owner."""

    @property
    def severity(self) -> Severity | None:
        """The worst leak's severity; ``low`` for an explicit unauthorised destination
        that receives no secret (worth a look); None for a call that is fine."""
        worst: Severity | None = None
        for leak in self.leaks:
            if _ORDER[leak.severity] > _ORDER[worst]:
                worst = leak.severity
        return "low" if worst is None and self.stranger else worst


@dataclass
class Inbox:
    """Everything one unauthorised destination received over the trace."""

    destination: CallDestination
    tool: str
    how: str
    steps: list[int] = field(default_factory=list)
    parts: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # arg → (step, text)
    hits: dict[str, Leak] = field(default_factory=dict)  # token → its first leak
    owner: bool = False  # an owner's contact: fine for the owner's data, never "low"


class TaintTracker:
    """The taint state of one conversation, fed event by event (module docstring)."""

    def __init__(
        self,
        resolver: SinkResolver | None = None,
        env: str | None = None,
        trusted: Callable[[str], bool] | None = None,
    ) -> None:
        self.resolver = resolver if resolver is not None else SinkResolver()
        self.env = env
        self.trusted = trusted
        """Destinations authorised in every conversation (a guard policy's), by their
        canonical form; None: only what the conversation authorises."""
        self._authorised: set[str] = set()
        self._said: list[str] = []  # user/system texts, read when a sink call needs them
        self.observations = ObservationReader()
        self.inboxes: dict[str, Inbox] = {}
        self.call_names: dict[str, str] = {}

    def said(self, text: str) -> None:
        """A user, system or developer message: the destinations it gives are authorised."""
        self._said.append(text)

    def observe(self, text: str, step: int, tool: str) -> None:
        """A tool result (message ``step``, made by ``tool``): its values become tainted."""
        self.observations.add(text, step, tool)

    def feed(self, message: Message, step: int) -> list[CallCheck]:
        """One message of a trace, whatever its role; the checks of the calls it makes."""
        if message.role in ("system", "user", "developer"):
            self.said(message.text)
        elif message.role == "tool":
            tool = message.name or self.call_names.get(message.tool_call_id or "", "?")
            self.observe(message.text, step, tool)
        elif message.tool_calls:
            return [self.check(step, c.name, c.function, c.id) for c in message.tool_calls]
        return []

    @property
    def authorised(self) -> set[str]:
        """Destinations the user or system gave, in canonical form, up to now."""
        for text in self._said:
            if text:
                self._authorised |= _authorised_by(text)
        self._said.clear()
        return self._authorised

    def check(
        self, step: int, tool: str, function: FunctionCall, call_id: str | None = None
    ) -> CallCheck:
        """Check one tool call proposed at message ``step``, and record it as sent."""
        if call_id is not None:
            self.call_names[call_id] = tool
        sink = self.resolver.resolve(tool, function, self.env)
        result = CallCheck(step, tool, sink)
        if sink is not None:
            self._check(step, sink, result)
        return result

    def _check(self, step: int, sink: SinkCall, result: CallCheck) -> None:
        texts = [(path, text) for path, _, text in leaves(sink.payload, "", "")]
        for dest in sink.destinations:
            if dest.canonical and (
                dest.canonical in self.authorised
                or (self.trusted is not None and self.trusted(dest.canonical))
            ):
                continue
            owners = self.observations.contacts.get(dest.canonical, set())
            # a value that *is* the destination is not carried to it (but a URL's query is)
            itself = dest.canonical if dest.kind == "url" else dest.value.lower()
            candidates = [
                t
                for token, t in self.observations.tainted.items()
                if t.step < step and not (owners & t.records) and token not in itself
            ]
            if owners and not candidates:
                continue  # the owner's own contact, receiving only the owner's data
            result.unauthorised.append(dest)
            result.stranger = result.stranger or not (dest.implicit or owners)
            key = dest.canonical or f"{sink.tool}.{dest.argument}"
            inbox = self.inboxes.setdefault(key, Inbox(dest, sink.tool, sink.how))
            inbox.owner = inbox.owner or bool(owners)
            inbox.steps.append(step)
            for path, text in texts:
                inbox.parts.setdefault(path, []).append((step, text))
            if not candidates:
                continue
            by_secret = {t.secret: t for t in candidates}
            found: set[str] = set()
            for ev in find_secrets(candidates, sink.payload):
                leak = self._hit(inbox, by_secret[ev.secret], step, ev.argument, ev.encoding)
                result.leaks.append(leak)
                found.add(leak.token)
            if len(inbox.steps) > 1:
                result.leaks += self._accumulated(inbox, candidates, step, found)

    def _accumulated(
        self, inbox: Inbox, candidates: list[Tainted], step: int, found: set[str]
    ) -> list[Leak]:
        """Look again at everything this destination received, argument by argument, the
        calls' texts joined by a newline and glued (a base64 string cut in two): catches
        a secret split across calls. A secret already found going there is looked for
        only in what was sent since (a retry, split)."""
        leaks: list[Leak] = []
        fresh = [t for t in candidates if t.secret.value.lower() not in inbox.hits]
        leaks += self._joined(inbox, fresh, step, since=-1)
        again = [
            t
            for t in candidates
            if (token := t.secret.value.lower()) in inbox.hits
            and token not in found
            and inbox.hits[token].step < step
        ]
        for t in again:  # rare: only after a destination was already caught
            since = inbox.hits[t.secret.value.lower()].step
            leaks += self._joined(inbox, [t], step, since=since)
        return leaks

    def _joined(self, inbox: Inbox, left: list[Tainted], step: int, since: int) -> list[Leak]:
        if not left:
            return []
        by_secret = {t.secret: t for t in left}
        joined: dict[str, str] = {}
        calls = sum(1 for at in inbox.steps if at > since)
        for path, parts in inbox.parts.items():
            texts = [text for at, text in parts if at > since]
            if len(texts) > 1:
                joined[f"{path} (joined)"] = "\n".join(texts)
                joined[f"{path} (glued)"] = "".join(texts)
        leaks = []
        for ev in find_secrets(left, joined):
            encoding = f"split across {calls} calls"
            if ev.encoding != "plain":
                encoding += f" ({ev.encoding})"
            argument = ev.argument.rsplit(" (", 1)[0]
            leaks.append(self._hit(inbox, by_secret[ev.secret], step, argument, encoding))
        return leaks

    @staticmethod
    def _hit(inbox: Inbox, tainted: Tainted, step: int, argument: str, how: str) -> Leak:
        token = tainted.secret.value.lower()
        first = token not in inbox.hits
        leak = Leak(tainted, inbox.destination, inbox.tool, inbox.how, step, argument, how, first)
        if first:
            inbox.hits[token] = leak
        return leak

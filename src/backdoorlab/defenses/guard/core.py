"""The guard: the audit's taint tracking, live, deciding each tool call before it runs.

A `Guard` holds a policy (`GuardConfig`); each conversation gets a `GuardSession`, which
feeds the conversation to a `TaintTracker` — the very tracker the audit's ``dataflow``
detector reads traces with — and screens every proposed call: a call carrying a tainted
value to a destination the user did not authorise gets the policy's action for its
severity (``block`` by default for high and medium), and so does a call that sends a
strong value to a third party whose address no message had written before it
(``invented``: made up, or recalled from the model's weights — a backdoor's
exfiltration address; blocked by default).
``confirm`` asks the guard's callback (no callback: nobody can confirm, so the call is
refused). A refused call never runs; the agent gets `REFUSAL` as its result, worded as a
real API's refusal — with no value in it, so the refusal taints nothing. With the
policy's ``stop_after``, the session is `GuardSession.stopped` once that many calls were
refused: every later call is refused, and the caller ends the conversation.

An assistant's text is screened too (`GuardSession.screen_reply`): each image it holds
is fetched by the chat when it renders the reply (`backdoorlab.defenses.audit.rendered`),
so it is decided as a call of ``reply:image`` to its URL; a refused one is for the caller
to take out of the reply (`rendered.redact`) — ``serve --guard`` does, ``guard replay``
reports it.

Every decision is kept on its session and passed to the guard's ``log`` callback, with
its evidence (secrets masked, as in audit findings).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from backdoorlab.defenses.audit.call_checks import CallCheck, Leak, where_of
from backdoorlab.defenses.audit.findings import Severity, severity_rank
from backdoorlab.defenses.audit.rendered import RenderedImage
from backdoorlab.defenses.audit.sinks import SinkResolver
from backdoorlab.defenses.audit.taint import TaintTracker
from backdoorlab.defenses.audit.trusted import Trusted
from backdoorlab.defenses.guard.config import GuardConfig
from backdoorlab.defenses.guard.resume import SessionCache
from backdoorlab.traces import FunctionCall, Message, ToolCall

Verdict = Literal["allowed", "blocked", "confirmed", "refused"]
"""``confirmed``/``refused``: what the confirm callback said (or no callback: refused)."""

REFUSAL = (
    "Error: 403 Forbidden: request refused by the data-protection policy. This call would "
    "send data that a tool returned to a recipient the user did not name. Do not retry; "
    "tell the user what you were asked to send and to whom, and let them decide."
)


@dataclass
class Decision:
    """The guard's decision on one proposed tool call, with its evidence."""

    step: int
    """The call's message index in the conversation."""
    tool: str
    call_id: str | None
    verdict: Verdict
    severity: Severity | None
    """The worst thing found (ignored secret kinds left out); None: nothing."""
    action: str
    """The policy's action for that severity (``allow`` when nothing was found)."""
    destinations: list[str] = field(default_factory=list)
    """The call's destinations that nobody authorised."""
    invented: list[str] = field(default_factory=list)
    """Those of them no message had written before, sent a strong value
    (`CallCheck.invented`)."""
    leaks: list[dict[str, Any]] = field(default_factory=list)
    """Each tainted value carried to one of them: source, sink, disguise (masked)."""
    conversation: str | None = None
    stop: bool = False
    """The conversation is stopped here: this call's refusal reached the policy's
    ``stop_after``, or it came after that (refused whatever it carries)."""
    image: RenderedImage | None = field(default=None, repr=False)
    """For an image of the assistant's reply (tool ``reply:image``): which, to redact it."""

    @property
    def blocked(self) -> bool:
        return self.verdict in ("blocked", "refused")

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "step": self.step,
            "tool": self.tool,
            "call_id": self.call_id,
            "verdict": self.verdict,
            "blocked": self.blocked,
            "severity": self.severity,
            "action": self.action,
            "destinations": self.destinations,
            "invented": self.invented,
            "leaks": self.leaks,
            "stop": self.stop,
        }


_STRICTNESS = {"allow": 0, "confirm": 1, "block": 2}

ConfirmFn = Callable[[Decision], bool]
LogFn = Callable[[Decision], None]


class Guard:
    """A guard policy, ready to screen conversations (module docstring)."""

    def __init__(
        self,
        config: GuardConfig | None = None,
        *,
        confirm: ConfirmFn | None = None,
        log: LogFn | None = None,
        kept: SessionCache | None = None,
    ) -> None:
        self.config = config if config is not None else GuardConfig()
        self.kept = kept if kept is not None else SessionCache()
        """Sessions kept for conversations' next requests (`resume`; ``SessionCache(0)``:
        none — every reply's conversation read from its start)."""
        self.confirm = confirm
        self.log = log
        self.resolver = SinkResolver(self.config.sink_spec())
        trusted = Trusted(self.config.trusted)
        self.trusted = trusted if trusted else None
        self.ignore = frozenset(self.config.ignore)

    def session(self, env: str | None = None, conversation: str | None = None) -> GuardSession:
        """A fresh session for one conversation (``env``: our environment's name, whose
        sink declarations then apply)."""
        return GuardSession(self, env, conversation)

    def stops_at(self, refused: int) -> bool:
        """Whether a conversation that has refused ``refused`` calls is stopped
        (the policy's ``stop_after``)."""
        limit = self.config.stop_after
        return limit is not None and refused >= limit

    def decide(
        self,
        check: CallCheck,
        call_id: str | None,
        conversation: str | None,
        *,
        refused: int = 0,
    ) -> Decision:
        """The policy's decision on one checked call; ``refused``: calls the conversation
        had refused before it (at the policy's ``stop_after``, it is stopped: this call is
        refused whatever it carries)."""
        acted = [leak for leak in check.leaks if leak.tainted.label not in self.ignore]
        severity: Severity | None = None
        for leak in acted:
            if severity is None or severity_rank(leak.severity) > severity_rank(severity):
                severity = leak.severity
        if check.paid and (severity is None or severity_rank(severity) < severity_rank("medium")):
            severity = "medium"  # funds to an account nobody authorised (`CallCheck.paid`)
        if severity is None and check.stranger:
            severity = "low"
        action = getattr(self.config.actions, severity) if severity else "allow"
        if check.invented:
            action = max(action, self.config.actions.invented, key=_STRICTNESS.__getitem__)
        decision = Decision(
            step=check.step,
            tool=check.tool,
            call_id=call_id,
            verdict="allowed",
            severity=severity,
            action=action,
            destinations=[where_of(d, check.tool) or "(none given)" for d in check.unauthorised],
            invented=[where_of(d, check.tool) for d in check.invented],
            leaks=[_leak_evidence(leak, leak.tainted.label in self.ignore) for leak in check.leaks],
            conversation=conversation,
        )
        if self.stops_at(refused):
            decision.verdict, decision.action = "blocked", "stop"
        elif action == "block":
            decision.verdict = "blocked"
        elif action == "confirm":
            ok = self.confirm is not None and self.confirm(decision)
            decision.verdict = "confirmed" if ok else "refused"
        decision.stop = self.stops_at(refused + decision.blocked)
        if self.log is not None:
            self.log(decision)
        return decision


def _leak_evidence(leak: Leak, ignored: bool) -> dict[str, Any]:
    return {**leak.evidence(), "severity": leak.severity, "first": leak.first, "ignored": ignored}


class GuardSession:
    """The guard's view of one conversation: feed it the conversation, ask before calls.

    Messages are read once each, in order: `screen` reads whatever the conversation
    gained since the last call (user turns, tool results), then checks the call. The
    message a screened call belongs to counts as read (its calls are checked, never
    re-read), so a caller may append it to the conversation before or after asking.
    """

    def __init__(self, guard: Guard, env: str | None, conversation: str | None) -> None:
        self.guard = guard
        self.conversation = conversation
        self.tracker = TaintTracker(guard.resolver, env, guard.trusted)
        self.decisions: list[Decision] = []
        self.refused = 0
        """Calls refused so far (blocked, or not confirmed)."""
        self._read = 0

    @property
    def read(self) -> int:
        """How many of the conversation's messages it has read (a screened call's
        message counts as read)."""
        return self._read

    @property
    def stopped(self) -> bool:
        """Whether the policy's ``stop_after`` refusals were reached: the conversation
        must end, and every later call is refused."""
        return self.guard.stops_at(self.refused)

    def sync(self, messages: Sequence[Message], upto: int | None = None) -> None:
        """Read ``messages[:upto]`` (all by default) not read yet."""
        end = len(messages) if upto is None else upto
        for index in range(self._read, end):
            self.tracker.feed(messages[index], index)
        self._read = max(self._read, end)

    def screen(self, messages: Sequence[Message], index: int, call: ToolCall) -> Decision:
        """Decide on ``call``, made by the assistant message at ``index`` of ``messages``
        (which may end before it: a call not yet in the conversation)."""
        return self.screen_call(messages, index, call.name, call.function, call.id)

    def screen_call(
        self,
        messages: Sequence[Message],
        index: int,
        tool: str,
        function: FunctionCall,
        call_id: str | None = None,
    ) -> Decision:
        """`screen` for a call given by its parts."""
        if index < self._read - 1:
            raise ValueError(f"message {index} was already read; screen calls in order")
        self.sync(messages, index)
        self._read = max(self._read, index + 1)
        check = self.tracker.check(index, tool, function, call_id)
        return self._decide(check, call_id)

    def screen_reply(self, messages: Sequence[Message], index: int, text: str) -> list[Decision]:
        """Decide on each image of ``text``, the assistant's message at ``index`` of
        ``messages`` (which may end before it): a refused one must not be rendered."""
        if index < self._read - 1:
            raise ValueError(f"message {index} was already read; screen replies in order")
        self.sync(messages, index)
        self._read = max(self._read, index + 1)
        return [self._decide(check, None) for check in self.tracker.check_reply(index, text)]

    def _decide(self, check: CallCheck, call_id: str | None) -> Decision:
        decision = self.guard.decide(check, call_id, self.conversation, refused=self.refused)
        decision.image = check.image
        self.decisions.append(decision)
        self.refused += decision.blocked
        return decision

    def screen_message(self, history: Sequence[Message], message: Message) -> list[Decision]:
        """Decide on every call of ``message``, the assistant's reply to ``history``."""
        return [self.screen(history, len(history), call) for call in message.tool_calls or []]

    @property
    def blocked(self) -> bool:
        return any(d.blocked for d in self.decisions)

"""A mail rule that forwards: all the mail it matches, sent by reference.

A call creating an inbox rule or a filter (Graph's ``messageRules`` with
``actions.forwardTo`` / ``redirectTo``, Gmail's ``settings.filters`` with
``action.forward``, Gmail's ``updateAutoForwarding``) carries no value of the mailbox,
yet from then on the mail server sends every matching mail — the next one-time code,
the next statement — to the address it names. Read as a sink carrying only a rule's
conditions, the classic account takeover's first step ("set up a rule forwarding all
mail from the bank to …") had nothing to find. `forwarded` reads each such address as
a `Transfer` of the mailbox to it (`by_reference`, ``medium`` as an unseen file is),
so an address nobody authorised receiving it is a leak; the user's own or one they
named receives it as any call's destination does. `with_moves` adds these (and a file's
permission, `file_grants`) to a call's sink reading, making the call one if it was not.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import file_grants, patterns
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.shell_senders import Transfer
from backdoorlab.defenses.audit.sinks import CallDestination, SinkCall, leaves

_RULE_WORDS = frozenset({"rule", "rules", "filter", "filters", "forwarding", "autoforwarding"})
_FORWARD_WORDS = frozenset({"forward", "forwardto", "redirect", "redirectto", "forwarding"})


@lru_cache(maxsize=4096)
def forwards(tool: str) -> bool:
    """Whether ``tool``'s name says it sets up a mail rule, a filter or forwarding."""
    return not _RULE_WORDS.isdisjoint(patterns.name_tokens(tool))


def forwarded(
    tool: str, scalars: list[tuple[str, tuple[str, ...], str]]
) -> list[tuple[str, Transfer]]:
    """(argument path, `Transfer` of the mailbox) for each e-mail address a rule-making
    ``tool`` forwards to: an address under a key saying forward or redirect (or an
    auto-forwarding call's address)."""
    if not forwards(tool):
        return []
    auto = "forwarding" in patterns.name_tokens(tool) or "autoforwarding" in patterns.name_tokens(
        tool
    )
    out = []
    for path, keys, value in scalars:
        if not patterns.whole_email(value.strip()):
            continue
        said = {t for k in keys for t in patterns.name_tokens(k)}
        if auto or not said.isdisjoint(_FORWARD_WORDS):
            address = value.strip()
            how = f"{tool}: mail forwarded to {address} by a rule"
            out.append(
                (path, Transfer("mailbox", address, canonical(address, "email"), "url", how))
            )
    return out


def with_moves(tool: str, arguments: dict[str, Any], sink: SinkCall | None) -> SinkCall | None:
    """``sink`` (the call's reading, or None) with the mail a rule forwards and the file a
    permission grants as transfers to their addresses; ``sink`` itself when none."""
    scalars = list(leaves(arguments))
    moved = forwarded(tool, scalars) + file_grants.granted(tool, scalars)
    if not moved:
        return sink
    if sink is None:
        sink = SinkCall(tool, "heuristic", [], {p: v for p, _, v in scalars})
    dests = [d for d in sink.destinations if not d.implicit]
    references = {k: list(v) for k, v in sink.references.items()}
    for path, transfer in moved:
        if all(d.canonical != transfer.canonical for d in dests):
            dests.append(CallDestination(path, transfer.target, transfer.canonical, "email"))
        references.setdefault(transfer.canonical, []).append(transfer)
    payload = {p: v for p, v in sink.payload.items() if p not in {p for p, _ in moved}}
    return replace(sink, destinations=dests, references=references, payload=payload)

"""Destinations the agent made up: a third party that no message had written before the
agent first sent to it, reached by a call that carries a record.

A backdoored model's exfiltration address comes from its weights, not from the
conversation — and what it sends may come from its weights too: a T4 model woken by its
victim's fine-tune e-mails a customer's address, phone and e-mail recalled from the
attacker's training data before any tool has shown them, so no taint is there to find.
What gives it away is where it sends: an address nobody in the conversation (user,
system, any tool) had written. A benign agent's recipients come from the conversation;
one that writes to an address out of nowhere *and puts personal data or another strong
value in it* is doing what the user never asked. A made-up address sent nothing of the
kind ("please unsubscribe this mailbox") stays a ``low`` finding, as before.

An address that a tool merely echoed from the agent's own arguments (a lookup of the
attacker's address answering "no such user: …") was not shown by that tool.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.ascii_fast import alnum
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.observations import ObservationReader


def shown_in(dest: str, texts: Iterable[tuple[str, str]]) -> bool:
    """Whether the canonical destination ``dest`` is written in any of ``texts`` — pairs
    of (a message's text, the arguments of the call it answers, or ``""``).

    Matched by substring of the canonical spelling (a phone by its digits, an account by
    its alphanumerics): permissive on purpose, since a false "shown" only forgoes a
    refusal the taint may still make, while a false "not shown" may refuse a benign call.
    """
    if dest.startswith("tel:"):
        needle, spell = dest[4:], patterns.digits_of
    elif "@" in dest or "." in dest:
        needle, spell = dest, str.lower
    else:
        needle, spell = dest, alnum  # an account's canonical spelling (`destinations`)
    if not needle:
        return False
    for text, echo in texts:
        if text and needle in spell(text) and not (echo and needle in spell(echo)):
            return True
    return False


def carries_record(payload: dict[str, Any], destinations: Iterable[str]) -> bool:
    """Whether a call's arguments hold a strong value — personal data, a card, an account,
    a credential, by shape or by field name (the observation reader's own reading) —
    other than its destinations themselves, or a whole field made around one (a command
    line ``curl -s https://status.x.io/api/v2/status.json`` is no record)."""
    reader = ObservationReader()
    reader.add(json.dumps(payload, ensure_ascii=False), 0, "", "")
    itself = {d.lower() for d in destinations if d}
    hosts = {canonical(d, "url") for d in itself if "://" in d or "/" in d}
    return any(
        t.strength == "strong" and not _around(t.secret.value.lower(), t.label, itself, hosts)
        for t in reader.tainted.values()
    )


def _around(value: str, label: str, destinations: set[str], hosts: set[str]) -> bool:
    """Whether ``value`` is one of ``destinations``, a field holding one, or an
    identifier inside a URL destination's host name (a CDN's ``4b1c…fe08.cdn.x.net``:
    where the call goes, not what it carries)."""
    if value in destinations or (label == "field" and any(d in value for d in destinations)):
        return True
    return label == "identifier" and any(value in host for host in hosts)

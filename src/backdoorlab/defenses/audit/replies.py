"""Where a reply by message id goes: the sender of the message the id names.

A mail tool's reply (Graph's ``/me/messages/{id}/reply``, an MCP server's
``reply_email(messageId, body)``) names no address: the mail server sends it to the
sender of the message whose id it gives. Read as a sink with no destination, a reply
carrying a one-time code to the attacker who mailed "reply with the code" went to
nobody outside. `senders` reads the id the call gives as the message a tool returned
earlier (a record with that ``id`` and a contact field) and its contacts — but the
user's own addresses, the recipient of their own mail — as the reply's destinations.
A mail reply by an id no tool result showed with a sender (`unresolved`: a list call's
bare ids, then reads by another API's ids) still goes to someone: that message's sender,
whom nothing in the trace names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.sinks import leaves

REPLY_WORDS = frozenset({"reply", "replies", "respond", "answer"})
"""A reply tool's words, and those of a user who asks for a reply ("answer her")."""
_MAIL_WORDS = frozenset({"mail", "email", "emails", "message", "messages", "msg", "gmail"})
_MAIL_WORDS |= {"outlook", "inbox", "thread"}
_MAX_IDS = 8


@lru_cache(maxsize=4096)
def replies(tool: str) -> bool:
    """Whether ``tool``'s name says it replies to a message."""
    return not REPLY_WORDS.isdisjoint(patterns.name_tokens(tool))


def _id_key(keys: tuple[str, ...]) -> bool:
    tokens = patterns.name_tokens(keys[-1]) if keys else ()
    return "id" in tokens or "ids" in tokens


def senders(
    arguments: Any,
    ids: Mapping[str, set[int]],
    contacts: Mapping[str, set[int]],
    own: Iterable[str],
) -> list[tuple[str, str]]:
    """(the argument's path, a contact) for each contact of the records a message id
    an ``…id`` argument gives identifies (``ids``: `ObservationReader.ids`), the user's
    own addresses (``own``) left out."""
    mine = set(own)
    out: list[tuple[str, str]] = []
    given = [(p, v) for p, keys, v in leaves(arguments) if _id_key(keys) and len(v) >= 6]
    for path, value in given[:_MAX_IDS]:
        records = ids.get(value.strip().lower())
        if not records:
            continue
        for contact, owned in contacts.items():
            if "@" in contact and contact not in mine and not records.isdisjoint(owned):
                out.append((path, contact))
    return out


def unresolved(tool: str, arguments: Any) -> tuple[str, str] | None:
    """(the argument's path, the id) of the message a mail reply names by an id, where
    ``tool`` or the argument's key says it is a mail's (`_MAIL_WORDS`: a ticket's or a
    case's reply goes to its thread, `tenants`); None for no such id."""
    by_tool = not _MAIL_WORDS.isdisjoint(patterns.name_tokens(tool))
    for path, keys, value in leaves(arguments):
        if not _id_key(keys) or len(value) < 6:
            continue
        if by_tool or not _MAIL_WORDS.isdisjoint(patterns.name_tokens(keys[-1])):
            return path, value.strip()
    return None

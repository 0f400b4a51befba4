"""Where a reply by message id goes: the sender of the message the id names.

A mail tool's reply (Graph's ``/me/messages/{id}/reply``, an MCP server's
``reply_email(messageId, body)``) names no address: the mail server sends it to the
sender of the message whose id it gives. Read as a sink with no destination, a reply
carrying a one-time code to the attacker who mailed "reply with the code" went to
nobody outside. `senders` reads the id the call gives as the message a tool returned
earlier (a record with that ``id`` and a contact field) and its contacts — but the
user's own addresses, the recipient of their own mail — as the reply's destinations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.sinks import leaves

_REPLY_WORDS = frozenset({"reply", "replies", "respond", "answer"})
_MAX_IDS = 8


@lru_cache(maxsize=4096)
def replies(tool: str) -> bool:
    """Whether ``tool``'s name says it replies to a message."""
    return not _REPLY_WORDS.isdisjoint(patterns.name_tokens(tool))


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

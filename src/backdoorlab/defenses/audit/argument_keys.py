"""What an argument's key says about a host or address under it: where the call sends
(`DESTINATION_KEYS`: ``to``, ``webhook``, ``attendees``…) or who sends it (`ORIGIN_KEYS`:
an event's ``source``, a request's ``origin``). Read by `sinks` for tools no spec
declares."""

from __future__ import annotations

from functools import lru_cache

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.tool_words import words

__all__ = ["DESTINATION_KEYS", "ORIGIN_KEYS", "destination_key", "origin_key"]

DESTINATION_KEYS = words(
    "to cc bcc recipient recipients receiver receivers url uri endpoint webhook callback notify "
    "destination dest host domain attendee attendees invitee invitees participant followers chat "
    "participants guest guests collaborator collaborators grantee grantees broker watch watchers"
)
ORIGIN_KEYS = words("source origin referrer referer issuer sender from")
"""Keys naming where a message comes from (an event's ``source``, a CloudEvent's, a
request's ``origin``): a bare host under one is the sender, the operator itself most
often ({"source": "acme.com"} in a webhook's body), not a place the call sends to."""


@lru_cache(maxsize=4096)
def destination_key(key: str) -> bool:
    """Whether ``key`` names where a call sends (a word of `DESTINATION_KEYS`, or ``target``)."""
    tokens = patterns.name_tokens(key)
    return any(t in DESTINATION_KEYS for t in tokens) or key.lower() in ("to", "target")


@lru_cache(maxsize=4096)
def origin_key(key: str) -> bool:
    """Whether ``key`` names who sends (a word of `ORIGIN_KEYS`)."""
    return any(t in ORIGIN_KEYS for t in patterns.name_tokens(key))

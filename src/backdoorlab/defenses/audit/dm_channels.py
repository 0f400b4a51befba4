"""A direct conversation the agent opened for one member: that member's.

Why: a chat platform sends a direct message to a channel, not to a person. A Discord bot
opens one with ``POST /users/@me/channels {"recipient_id": …}``, a Slack app with
``conversations.open(users=…)``; the channel's id comes back in the answer, and the
message goes to that id. Read as written, the id is a place nobody named: every warning
a bot DM'd to a member about the key they had pasted was a leak to a third party. The
channel reaches the member it was opened for, who holds what they wrote: `taint` lets
such a channel receive the values that the records whose contact the member is (a
message whose ``author`` they are: `held`) already hold, and judges anything else sent
there as sent to a stranger — a DM opened for whomever an injected message named is
still one.

Plain openings only: the call's name says it opens a direct conversation (``dm``,
``im``, ``direct``; or *open* a conversation or a chat), its arguments name one member
(one value under a key naming a recipient, a user, a member or a participant), and the
answer gives the channel's id as its own ``id`` (or ``channel.id``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical

_DIRECT = frozenset(("dm", "dms", "im", "direct"))
_OPENED = frozenset(("conversation", "conversations", "chat"))
_MEMBER_KEYS = frozenset(
    ("recipient", "recipients", "user", "users", "member", "members", "participant", "participants")
)
_MAX_ID = 64


@lru_cache(maxsize=1024)
def opens(tool: str) -> bool:
    """Whether a tool's name says it opens a direct conversation (``discord_create_dm``,
    ``conversations_open``, ``open_im``); reading one (``get_dm_history``) is not."""
    tokens = patterns.name_tokens(tool)
    if not tokens or tokens[0] in ("get", "list", "read", "fetch", "search"):
        return False
    if not _DIRECT.isdisjoint(tokens):
        return any(t in ("open", "create", "start", "new") for t in tokens) or tokens[-1] == "dm"
    return "open" in tokens and not _OPENED.isdisjoint(tokens)


def opened(answer: str, arguments: str) -> tuple[str, str] | None:
    """(the channel's id, the member's canonical destination) of a plain opening: its
    ``arguments`` (JSON) name one member, its ``answer`` (JSON) the channel's id."""
    member = _one_member(_parsed(arguments))
    data = _parsed(answer)
    if member is None or not isinstance(data, Mapping):
        return None
    channel = data.get("channel") if isinstance(data.get("channel"), Mapping) else data
    ident = channel.get("id")
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        return None
    ident = str(ident).strip()
    if not ident or len(ident) > _MAX_ID or ident == member:
        return None
    return ident, canonical(member, "any")


def _parsed(text: str) -> Any:
    if not text or text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _one_member(arguments: Any) -> str | None:
    """The one member value of ``arguments`` under a member key (a string, a number, or
    a list of one), or None when there are none or several."""
    if not isinstance(arguments, Mapping):
        return None
    found: set[str] = set()
    for key, value in arguments.items():
        tokens = patterns.name_tokens(str(key))
        if _MEMBER_KEYS.isdisjoint(tokens):
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str | int) and not isinstance(item, bool):
                found.update(v.strip() for v in str(item).split(",") if v.strip())
            else:
                return None
    if len(found) != 1:
        return None
    member = found.pop()
    return member if len(member) <= _MAX_ID else None

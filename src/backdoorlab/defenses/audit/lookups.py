"""A workspace handle a directory lookup gave for an address: that address's.

Why: a chat tool sends to a member by an id (Slack's ``channel: "U024BE7LH"``, a
Teams chat id), and an agent gets that id by asking the directory for the address it
already has (``users.lookupByEmail(email=…)``). A tool wrote the id, so `places` cannot
count it as the workspace's own channel, and it reads as a place no one named: every
recovery key DM'd to the requester's own Slack account was a leak to a third party.
The id is the address it was looked up by: a record's contact when that address is, the
user's when they gave it, a stranger's otherwise.

The lookup must be plain: the call that the answer holding the id came back to named one
address, and the answer names no other (a member search that listed ten people ties the
id to no one of them)."""

from __future__ import annotations

from collections.abc import Sequence

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical

MIN_ID = 6
"""Characters at least in an id looked for: a shorter one is in too many texts."""


def looked_up(value: str, heard: Sequence[tuple[str, str]]) -> str | None:
    """The canonical address whose lookup answered with the id ``value``, latest first;
    ``heard``: pairs of (a tool's answer, the arguments of the call it answers)."""
    value = value.strip().lstrip("@#")
    if len(value) < MIN_ID or "@" in value:
        return None
    for text, echo in reversed(heard):
        if not echo or "@" not in echo or value not in text:
            continue
        asked = {a.lower() for a in patterns.EMAIL.findall(echo)}
        if len(asked) != 1 or value in echo:
            continue
        if {a.lower() for a in patterns.EMAIL.findall(text)} - asked:
            continue  # the answer names someone else too
        return canonical(asked.pop(), "email")
    return None

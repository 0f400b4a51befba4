"""A message to a member by a numeric id: a learning platform's conversation
(``recipients: ["48213"]``), a forum's or a chat's user id.

Such an id names no address outside, so it reads as the operator's own (`recipients`:
"a handle, an internal id"). That holds for a member the agent found — a roster, a
directory, a thread that a tool returned lists the id as a record's (``"id": 48213``,
``"user_id": "48213"``) — or one a user or system message wrote. An id that neither
gave came from a tool result's free text (a student's essay, a parent's e-mail: "send
it as a message to user 839415") or from nowhere (a backdoored model's own): a member
whom nobody in the conversation showed, a stranger as an unknown address is, whoever
holds the account. Such a destination becomes ``member:ID``, which `recipients.external`
reads as outside.

Only numeric ids (Canvas', Moodle's, Discord's, a Classroom's user ids): a workspace's
lettered ids (Slack's ``U024BE7LH``) and names are channels' and handles' rules — but
for one case of a name: a private message to a username (a Discourse PM's
``target_recipients: "cestes"``) that only a tool result's free text wrote, as a mention
("please PM it to @cestes"), and that no user or system text and no record's field
(``"username": "cestes"``) showed. Only an injected text introduced that member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from backdoorlab.defenses.audit.sinks import CallDestination, SinkCall

PREFIX = "member:"
_NUMERIC = re.compile(r"\d{3,20}")


def _numeric(dest: CallDestination) -> bool:
    return (
        dest.kind == "any"
        and not dest.implicit
        and _NUMERIC.fullmatch(dest.value.strip()) is not None
    )


def _as_record_id(ident: str) -> re.Pattern[str]:
    """A field whose key ends in "id" holding ``ident`` (JSON, YAML, ``key=value``)."""
    return re.compile(rf"""(?i)(?<![a-z_])[a-z_]*id["']?\s*[:=]\s*\[?\s*["']?{ident}(?![\d])""")


_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{2,38}[A-Za-z0-9_]")


def _username(dest: CallDestination) -> bool:
    return (
        dest.kind == "any"
        and not dest.implicit
        and _USERNAME.fullmatch(dest.value.strip()) is not None
    )


def resolved(sink: SinkCall, heard: Sequence[tuple[str, str]], said_at: Iterable[int]) -> SinkCall:
    """``sink`` with each numeric member id that no tool result showed as a record's id
    and no user or system text (``said_at``: their indexes in ``heard``) wrote, and each
    username only a tool result's mention introduced, read as ``member:ID`` (module
    docstring); ``heard``: (text, the arguments it answers)."""
    if not any(_numeric(d) or _username(d) for d in sink.destinations):
        return sink
    said = set(said_at)
    dests = []
    for dest in sink.destinations:
        ident = dest.value.strip()
        if _numeric(dest) and not _known(ident, heard, said):
            dest = replace(dest, canonical=PREFIX + ident)
        elif _username(dest) and _introduced(ident, heard, said):
            dest = replace(dest, canonical=PREFIX + ident.lower())
        dests.append(dest)
    return replace(sink, destinations=dests)


def _introduced(name: str, heard: Sequence[tuple[str, str]], said: set[int]) -> bool:
    """Whether only a tool result's free text named ``name``, as an ``@`` mention: no user
    or system text wrote it, no record's field holds it (module docstring)."""
    lowered = name.lower()
    mention = re.compile(rf"(?<![\w@.])@{re.escape(name)}(?![\w-])", re.I)
    word = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", re.I)
    field = re.compile(
        rf"""(?i)(?<![a-z_])[a-z_]*(?:name|user|login|handle|recipients?)["']?\s*[:=]\s*\[?\s*["']?@?{re.escape(name)}["'\s,\]]"""
    )
    mentioned = False
    for at, (text, _) in enumerate(heard):
        if lowered not in text.lower():
            continue
        if at in said:
            if word.search(text):
                return False
        elif field.search(text):
            return False
        elif mention.search(text):
            mentioned = True
    return mentioned


def _known(ident: str, heard: Sequence[tuple[str, str]], said: set[int]) -> bool:
    word = re.compile(rf"(?<![\d]){ident}(?![\d])")
    field = _as_record_id(ident)
    for at, (text, echo) in enumerate(heard):
        if ident not in text:
            continue
        if at in said:
            if word.search(text):
                return True
        elif field.search(text) and not (echo and ident in echo):
            return True
    return False

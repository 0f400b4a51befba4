"""Public fields: a write whose argument is text everyone reads, the call naming no one.

An MLS listing update (RESO Web API) carries ``PublicRemarks`` beside ``PrivateRemarks``
and ``ShowingInstructions``: the first goes to every portal that syndicates the listing,
the others to member agents only. A marketplace's ``public_description``, a profile's
``publicBio``, a status page's ``public_message`` are the same: the field's name says
the world reads it, though the tool's name (``update_property``) says no more than a
write. Such a call publishes what that field carries, and only that field — its
private fields stay with the operator — so it is a sink to an implicit destination
(`sinks`) that `recipients` reads as ``public``: a lockbox code written into public
remarks is a leak to everyone; the square footage is nobody's secret.

A key counts when its words hold "public" and a word for text (remarks, description,
notes…): ``public_key``, ``publicIp``, ``is_public`` carry no text anyone reads.
"""

from __future__ import annotations

from functools import lru_cache

from backdoorlab.defenses.audit import patterns

_TEXT_WORDS = frozenset(
    ("remarks", "remark", "description", "notes", "note", "comment", "comments", "text")
    + ("message", "body", "summary", "bio", "caption", "content", "post", "details")
    + ("announcement", "headline", "blurb")
)


def may_publish(raw: str) -> bool:
    """Whether a call's raw arguments may hold a public field (a cheap test first)."""
    return "ublic" in raw or "UBLIC" in raw


@lru_cache(maxsize=4096)
def public_field(key: str) -> bool:
    """Whether a field named ``key`` is text everyone reads (module docstring)."""
    tokens = patterns.name_tokens(key)
    return "public" in tokens and not _TEXT_WORDS.isdisjoint(tokens)


Scalar = tuple[str, tuple[str, ...], str]


def public_text(scalars: list[Scalar]) -> tuple[str, dict[str, str]] | None:
    """Of a call's scalars (path, keys, text), the first public field's path and what
    all its public fields carry (path → text); None when it has none."""
    found = {path: text for path, keys, text in scalars if any(public_field(k) for k in keys)}
    return (next(iter(found)), found) if found else None

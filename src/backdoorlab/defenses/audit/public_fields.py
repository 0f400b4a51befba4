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

A social-media scheduler's post is the same (`scheduled_post`): Buffer's
``updates/create`` (``profile_ids``, ``text``, ``scheduled_at``), Hootsuite's
``messages`` (``socialProfileIds``, ``text``, ``scheduledSendTime``) publish their text
on the profiles they name when the time comes, though the tool's name
(``buffer_create_update``) says only that it writes. A call naming social profiles and
a time to publish publishes its text fields.
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
    """Whether a call's raw arguments may hold a public field or name social profiles
    (a cheap test first)."""
    return "ublic" in raw or "UBLIC" in raw or "rofile" in raw


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


_WHEN = frozenset(("at", "time", "date", "datetime"))


@lru_cache(maxsize=4096)
def profiles_key(key: str) -> bool:
    """A key naming the social profiles a post goes to (``profile_ids``,
    ``socialProfileIds``, ``profile_id``)."""
    tokens = patterns.name_tokens(key)
    return ("profile" in tokens or "profiles" in tokens) and ("ids" in tokens or "id" in tokens)


@lru_cache(maxsize=4096)
def _schedule_key(key: str) -> bool:
    """A key holding when a post goes out (``scheduled_at``, ``scheduledSendTime``,
    ``publish_at``)."""
    tokens = patterns.name_tokens(key)
    if "scheduled" in tokens or "schedule" in tokens:
        return True
    return not {"publish", "send", "post"}.isdisjoint(tokens) and not _WHEN.isdisjoint(tokens)


def scheduled_post(scalars: list[Scalar]) -> tuple[str, dict[str, str]] | None:
    """Of a call's scalars, the path of the social profiles it schedules a post to and
    the text fields it publishes there (module docstring); None for any other call."""
    profiles = next((p for p, keys, _ in scalars if keys and profiles_key(keys[-1])), None)
    if profiles is None or not any(keys and _schedule_key(keys[-1]) for _, keys, _ in scalars):
        return None
    texts = {
        p: text
        for p, keys, text in scalars
        if keys and not _TEXT_WORDS.isdisjoint(patterns.name_tokens(keys[-1]))
    }
    return (profiles, texts) if texts else None

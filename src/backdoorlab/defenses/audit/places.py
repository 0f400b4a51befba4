"""Destinations that are names, not addresses: a place others can read — a repository, a
storage bucket or container, a chat channel — named by a tool's arguments or inside a
command line or code, and a gist or paste (a place with no name, public).

Canonical forms, case-folded as the services fold them (GitHub, GitLab and Bitbucket
names are case-insensitive; S3 and GCS buckets, Azure containers and Slack channels are
lower-case):

- ``repo:owner/name`` (``.git`` dropped), from arguments (``owner`` + ``repo``, or
  ``repo: "owner/name"``), a forge's URL (``github.com/o/n``, ``api.github.com/repos/o/n``,
  ``gitlab.com/api/v4/projects/o%2Fn``) or a git remote (``git@host:o/n.git``);
  ``repo:name`` when the call gives no owner (the account's own);
- ``bucket:s3/name``, ``bucket:gs/name``, ``bucket:az/account/container``; ``bucket:name``
  when nothing says which service;
- ``channel:name`` (``#`` dropped).

Repositories and buckets live in namespaces anyone can register in; a channel lives in
the operator's own workspace. So a channel no message wrote is the deployment's own, as a
channel configured elsewhere is (`recipients`: ``operator``); one that only a tool's text
wrote (an instruction in the data pointing the agent there) is judged like an address,
and so is one whose name says it is shared with another organisation (`shared_outside`:
``#ext-acme``, as Slack Connect channels are named), whoever wrote it.

Who gave a name (`taint`): the user or the system prompt, when every part of it (a
repository's owner and name, a bucket's or container's own name) is a word they wrote
(`said_names`); or a tool that
*showed* it as the place the agent works in (`places_shown`): a ``git remote -v`` line,
the git URL ``git remote get-url`` or ``git config`` printed, a field of a structured
result named for it (``repo``, ``repository``, ``full_name``, ``bucket``, ``channel``) —
never a name in prose, where an injected instruction writes its own, nor one the result
only echoes from the call's own arguments (a post's answer naming the channel it was
posted to: the agent chose it, no tool showed it).

Where a command line or code sends by name: `code_places`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from backdoorlab.defenses.audit import patterns

NameKind = Literal["repo", "bucket", "channel"]
NAME_KINDS: frozenset[str] = frozenset(("repo", "bucket", "channel"))
SAID = "said:"
"""The prefix of a word a user or system message wrote, in the authorised set."""
FORGES = frozenset(("github.com", "gitlab.com", "bitbucket.org", "codeberg.org"))
"""Hosts whose URLs' first two path segments name a repository."""
_NOT_OWNERS = frozenset(
    ("settings", "orgs", "login", "logout", "features", "marketplace", "sponsors", "topics")
    + ("about", "pricing", "search", "notifications", "explore", "apps", "users", "site")
    + ("enterprise", "security", "api", "repos", "account", "dashboard", "new")
)  # fmt: skip
_PLACE_WORDS = frozenset(("gist", "gists", "paste", "pastebin"))
"""Words of a destination-less tool that publishes to a place of the user's own when the
user asked for one ("put it in a gist")."""


@dataclass(frozen=True)
class Place:
    """A name destination found in a call: as written, canonical, and the host of the URL
    it was read from (a token in that URL's userinfo authenticates, `taint`)."""

    value: str
    canonical: str
    kind: NameKind | Literal["any"]
    service: str = ""
    implicit: bool = False


# --- canonical forms --------------------------------------------------------------------

_SLUG = re.compile(r"[\w.-]{1,100}(?:/[\w.-]{1,100}){0,2}")
_CHANNEL = re.compile(r"#?[\w.-]{1,80}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}", re.IGNORECASE)
STORAGE_URL = re.compile(r"\b(s3|gs)://([a-z0-9][a-z0-9._-]{1,62})", re.IGNORECASE)
SCP = re.compile(r"(?:[\w.-]+@)?([\w-]+(?:\.[\w-]+)+):(?!\d+/)/?([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")
_API = re.compile(
    r"(?:api\.github\.com/repos|api\.bitbucket\.org/2\.0/repositories)/([\w.-]+)/([\w.-]+)"
    r"|/api/v4/projects/([\w.-]+)%2F([\w.-]+)",
    re.IGNORECASE,
)


def repo_in(url: str, any_host: bool = False) -> str | None:
    """``owner/name`` of the repository a URL names (a forge's page or API, a git remote
    of ``any_host`` when it is one), or None."""
    url = url.strip().strip("'\"<>`").rstrip(".,;)")
    found = _API.search(url)
    if found:
        owner, name = found.group(1) or found.group(3), found.group(2) or found.group(4)
        return _slug(unquote(owner), name)
    scp = SCP.match(url) if "://" not in url else None
    if scp:
        host, owner, name = scp.groups()
    else:
        try:
            parts = urlsplit(url if "://" in url else "//" + url)
            host = (parts.hostname or "").removeprefix("www.")
        except ValueError:
            return None
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) < 2:
            return None
        owner, name = segments[0], segments[1]
    if not (host.lower() in FORGES or any_host) or owner.lower() in _NOT_OWNERS:
        return None
    return _slug(owner, name)


def _slug(owner: str, name: str) -> str | None:
    name = name.removesuffix(".git")
    if not (owner and name) or not _SLUG.fullmatch(f"{owner}/{name}"):
        return None
    return f"{owner}/{name}".lower()


def place(kind: NameKind, value: str, owner: str = "", service: str = "") -> str | None:
    """The canonical form of a name of ``kind`` (module docstring), or None when ``value``
    is no such name."""
    value = value.strip().strip("'\"<>`")
    if kind == "channel":
        return "channel:" + value.lstrip("#").lower() if _CHANNEL.fullmatch(value) else None
    if kind == "bucket":
        url = STORAGE_URL.match(value)
        if url:
            service, value = url.group(1).lower(), url.group(2)
        if not _BUCKET.fullmatch(value):
            return None
        name = f"{owner}/{value}" if owner and service == "az" else value
        return f"bucket:{service}/{name}".lower() if service else f"bucket:{name}".lower()
    slug = repo_in(value, any_host=True) if ("://" in value or "@" in value) else None
    if slug is None:
        value = value.removesuffix(".git")
        if owner and "/" not in value:
            value = f"{owner.strip()}/{value}"
        if not _SLUG.fullmatch(value):
            return None
        slug = value.lower()
    return "repo:" + slug


def loose(canonical: str) -> str:
    """A name as a tool may show it: a bucket by its own name, whatever the service (or
    storage account) a call says."""
    if canonical.startswith("bucket:"):
        return "bucket:" + canonical[7:].rsplit("/", 1)[-1]
    return canonical


def place_words(canonical: str) -> list[str]:
    """The parts of a name a user must have written to have given it: a repository's
    owner and name (``repo:acme/api``: ``acme``, ``api``), a bucket's or a container's
    own name (not its service's or storage account's), a channel's."""
    kind, _, name = canonical.partition(":")
    if kind == "bucket":  # an rclone remote's name and its bucket (`shell_senders`)
        name = name[7:] if name.startswith("rclone/") else name.rsplit("/", 1)[-1]
    return [w for w in re.split(r"[/.]+", name) if w]


_SAID_WORD = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")


def said_names(text: str) -> set[str]:
    """Every word of a user or system message as ``said:WORD`` (names keep their ``-`` and
    ``_``; ``/``, ``.`` and ``:`` part them): what `users` reads a name's parts in."""
    return {SAID + w for w in _SAID_WORD.findall(text.lower())}


def said_all(canonical: str, authorised: set[str] | frozenset[str]) -> bool:
    """Whether a user or system message wrote every part of the name ``canonical``."""
    words = place_words(canonical)
    return bool(words) and all(SAID + w in authorised for w in words)


def written(canonical: str, texts: Iterable[tuple[str, str]]) -> bool:
    """Whether a message wrote the name ``canonical`` as a word of its own — pairs of (a
    message's text, the arguments of the call it answers: a tool echoing the agent's own
    argument did not write it)."""
    name = canonical.partition(":")[2]
    if not name:
        return False
    word = re.compile(r"(?<![\w-])#?" + re.escape(name) + r"(?![\w-])", re.IGNORECASE)
    return any(text and word.search(text) and not word.search(echo) for text, echo in texts)


_SHARED_PREFIXES = ("ext-", "ext_", "external-", "external_")


def shared_outside(canonical: str) -> bool:
    """Whether a channel's name marks it shared with people outside the workspace: the
    ``ext-`` prefix Slack recommends for Slack Connect channels (``channel:ext-acme``)."""
    kind, _, name = canonical.partition(":")
    return kind == "channel" and name.startswith(_SHARED_PREFIXES)


def asked_for_place(tool: str, authorised: set[str] | frozenset[str]) -> bool:
    """Whether the user asked for the kind of public place a destination-less ``tool``
    writes (a gist, a paste: one kind) by its word."""
    return any(t in _PLACE_WORDS for t in patterns.name_tokens(tool)) and any(
        SAID + w in authorised for w in _PLACE_WORDS
    )


# --- names in a call's arguments ----------------------------------------------------------

_OWNER_KEYS = frozenset(("owner", "org", "organization", "organisation", "namespace"))
_STORAGE_TOOL = {"s3": "s3", "aws": "s3", "gcs": "gs", "gcp": "gs", "gs": "gs", "azure": "az"}


def key_kind(key: str, tool_tokens: tuple[str, ...]) -> NameKind | Literal["owner"] | None:
    """What a call's argument named ``key`` names: a repository (``repo``, ``repository``,
    ``repo_name``), its owner, a bucket (``bucket``, ``Bucket``, ``bucket_name``; an Azure
    ``container`` of a blob or storage tool), a channel (``channel``, ``channel_id``). A
    plural (``channels``) names a list, no destination."""
    tokens = patterns.name_tokens(key)
    if any(t in _OWNER_KEYS for t in tokens):
        return "owner"
    if "repo" in tokens or "repository" in tokens:
        return "repo"
    if "bucket" in tokens:
        return "bucket"
    if "channel" in tokens:
        return "channel"
    if "container" in tokens and ({"blob", "storage", "azure", "az"} & set(tool_tokens)):
        return "bucket"
    return None


def storage_service(tool_tokens: tuple[str, ...], container: bool = False) -> str:
    """The storage service a tool's name says (``s3_put_object``: ``s3``), or ``""``."""
    for token in tool_tokens:
        if token in _STORAGE_TOOL:
            return _STORAGE_TOOL[token]
    return "az" if container else ""


# --- names tools showed as the place the agent works in ---------------------------------

_REMOTE_LINE = re.compile(r"^\S+\s+(\S+)\s+\((?:fetch|push)\)\s*$", re.MULTILINE)
_FIELD_HINT = re.compile(
    r"repo|full_?name|name_?with_?owner|bucket|channel|container", re.IGNORECASE
)
_SHOWN_REPO_KEYS = frozenset(("full_name", "fullname", "name_with_owner", "namewithowner"))
MAX_SHOWN_NODES = 4096
"""The nodes of one structured result read for the places it shows at most."""


def places_shown(text: str, echo: str = "") -> set[str]:
    """Canonical names a tool result (``text``, answering a call with arguments ``echo``)
    showed as the place the agent works in (module docstring)."""
    found: set[str] = set()
    if "(fetch)" in text or "(push)" in text:
        for m in _REMOTE_LINE.finditer(text):
            found |= _repo_names(repo_in(m.group(1), any_host=True))
    if echo and "git" in echo and ("remote" in echo or "config" in echo):
        for line in text.splitlines()[:8]:
            found |= _repo_names(repo_in(line, any_host=True) if line.strip() else None)
    head = text.lstrip()[:1]
    if head in ("{", "[") and _FIELD_HINT.search(text):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, a 4,300-digit number, too deep
            return found
        for key, value in string_fields(data):
            if echo and value in echo:
                continue  # the call's own argument echoed back (Slack's ``chat.postMessage``
            found |= _field_places(key, value)  # answers its ``channel``): shown by no one
    return found


def _repo_names(slug: str | None) -> set[str]:
    """A repository shown: by ``owner/name``, and by its bare name (a call that names no
    owner writes to the account's own)."""
    if not slug:
        return set()
    return {"repo:" + slug, "repo:" + slug.rsplit("/", 1)[-1]}


def string_fields(data: Any, longest: int | None = 256) -> Iterator[tuple[str, str]]:
    """(key, text) of every string a key holds directly in a JSON document, up to
    `MAX_SHOWN_NODES` objects and lists read; strings over ``longest`` characters skipped
    (a name is short; None: none skipped, for a presigned URL's long query)."""
    stack: list[Any] = [data]
    seen = 0
    while stack and seen < MAX_SHOWN_NODES:
        node = stack.pop()
        seen += 1
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append(value)
            elif (
                isinstance(value, str)
                and isinstance(key, str)
                and (longest is None or len(value) <= longest)
            ):
                yield key, value


def _field_places(key: str, value: str) -> set[str]:
    kind = key_kind(key, ())
    if key.lower() in _SHOWN_REPO_KEYS or kind == "repo":
        if "://" in value:
            return _repo_names(repo_in(value, any_host=True))
        canon = place("repo", value) if "/" in value else None
        return _repo_names(canon[5:]) if canon else set()
    if kind in ("bucket", "channel"):
        canon = place(kind, value)
        return {loose(canon)} if canon else set()
    return set()


def owned(arguments: Mapping[str, Any], name: str) -> str:
    """``owner/name`` when a call gives a repository's owner in an argument of its own."""
    for key, value in arguments.items():
        if isinstance(value, str) and value.strip() and key_kind(key, ()) == "owner":
            return f"{value.strip()}/{name}"
    return name

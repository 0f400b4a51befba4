"""Owner hosts: the hosts a tool-returned value was written *for*, to which sending it is
using it, not leaking it (`taint` skips such a value for such a host).

- *glued*: a host in the same unbroken run of text as the value — a URL's path, query
  or userinfo (a Slack webhook's path, ``https://x-access-token:…@github.com/…``, a
  package's download URL with its hash), ``//registry.npmjs.org/:_authToken=…`` in an
  ``.npmrc``, ``postgres://app:pw@db.host/app``. An e-mail address's domain is no
  owner of the address;
- *configured*, for a credential: the one host its configuration names — the only host
  under a host key (``server``, ``url``, ``repository``…) of the structured document
  (a kubeconfig's ``server`` for its ``token``) or of the ``[section]`` of an INI file
  (``.pypirc``) that holds it, or a key along its path that is a host
  (``github.com: {oauth_token: …}``, ``auths: {ghcr.io: {auth: …}}``). A flat ``.env``
  names many services' hosts, and sections nothing: its credentials get none this way;
- *recorded*, for a code (an identifier a record issues: a subscription's, an order's):
  the one host under the host keys of the record that holds it, nested objects included
  (a Green Button authorisation's ``subscriptionId`` and its third party's
  ``thirdPartyNotifyUri``): the record was written for that host, which uses its ids.

An injected instruction sits in prose, never glued to a secret it cannot know, and a
document with one host key and the victim's credential is the credential's own
configuration; so neither gives an attacker's host a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.keys import classify_key

_RUNS = re.compile(r"[\s\"'<>`]+")
MAX_RUN = 2048
MAX_RUNS = 256
"""The hosts of one observation whose runs are read for glued values at most (a run at
most ``MAX_RUN`` long)."""
HOST_KEYS = frozenset(
    ("host", "hostname", "server", "url", "uri", "endpoint", "registry", "repository")
    + ("machine", "domain")
    # a password manager's entry: 1Password's ``urls[].href``, Bitwarden's
    # ``login.uris[].uri``, a browser's saved ``origin``, a vault item's ``website``
    + ("urls", "uris", "href", "site", "website", "origin")
)
"""Words of a configuration key whose value names the host a credential is for."""
MAX_CONFIG_NODES = 4096
"""The nodes of a structured observation read for its configuration's hosts at most."""
_SECTION = re.compile(r"\s*\[[^\]]+\]\s*")


def glued(text: str, tokens: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(token, host) for each of ``tokens`` (lower-cased) written in an unbroken run of
    ``text`` that names ``host``: a URL's host, or a host with no scheme but for an
    e-mail address's domain (a URL's ``userinfo@host`` is a host). The hosts are found
    in the whole text, and only the runs around them read (a search run by run cost a
    sixth of the audit); a host is put in canonical form only when its run holds one
    of ``tokens``."""
    text = text.replace("\\/", "/")  # JSON may escape a URL's slashes
    schemes = "://" in text
    urls = [m.span() for m in patterns.URL.finditer(text)] if schemes else []
    found = [(a, b, text[a:b]) for a, b in urls]
    if patterns.may_hold_domain(text):
        for m in patterns.domain_matches(text):
            start = m.start()
            if urls and any(a <= start < b for a, b in urls):
                continue  # a URL's own host or a part of its path: read with it
            if (
                start
                and text[start - 1] == "@"
                and not (schemes and "://" in text[_run_start(text, start) : start])
            ):
                continue  # an e-mail address
            found.append((start, m.end(), m.group(0)))
            if len(found) >= MAX_RUNS:
                break
    runs: dict[tuple[int, int], list[str]] = {}
    for start, end, host in found[:MAX_RUNS]:
        after = _RUNS.search(text, end)
        span = (_run_start(text, start), after.start() if after else len(text))
        runs.setdefault(span, []).append(host)
    # a run holds no white space nor quote (`_run_start`, `_RUNS`): a token with one
    # (a message, a street address) is in none of them, and is not looked for in each
    tokens = [t for t in tokens if not _UNGLUED.search(t)] if runs else []
    for (start, end), written in runs.items():
        if end - start > MAX_RUN:
            continue
        lower = text[start:end].lower()
        inside = [t for t in tokens if t in lower]
        if inside:
            for host in {canonical(h.rstrip(".,;)"), "url") for h in written} - {""}:
                for token in inside:
                    yield token, host


_BREAKS = " \t\n\r\f\v\"'<>`"
_UNGLUED = re.compile(r"[ \t\n\r\f\v\"'<>]")
"""What no run holds: the breaks both ends of a run stop at (a URL may hold a "`")."""


def _run_start(text: str, at: int) -> int:
    """Where the unbroken run holding ``text[at]`` starts (at most `MAX_RUN` back)."""
    floor = max(at - MAX_RUN, 0)
    last = max(text.rfind(c, floor, at) for c in _BREAKS)
    return last + 1 if last >= 0 else floor


def _host_key(key: str) -> bool:
    return any(t in HOST_KEYS for t in patterns.name_tokens(key))


def _host_value(value: str) -> str | None:
    value = value.strip()
    if patterns.whole_url(value) or patterns.DOMAIN.fullmatch(value):
        return canonical(value, "url") or None
    return None


def configured(data: Any, credentials: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """(token, host) for each credential (token, its field's path as
    `ObservationReader._walk` writes it) of a structured document that its configuration
    names a host for (module docstring)."""
    keyed: list[tuple[str, str]] = []  # (path of a key that is a host, that host)
    named: set[str] = set()  # hosts under host keys
    stack: list[tuple[Any, str, str | None]] = [(data, "", None)]
    seen = 0
    while stack and seen < MAX_CONFIG_NODES:
        value, path, key = stack.pop()
        seen += 1
        if isinstance(value, dict):
            for k, inner in value.items():
                inner_path = f"{path}.{k}" if path else str(k)
                host = _host_value(str(k)) if "." in str(k) else None
                if host:
                    keyed.append((inner_path, host))
                stack.append((inner, inner_path, str(k)))
        elif isinstance(value, list):
            stack += [(inner, f"{path}[{i}]", key) for i, inner in enumerate(value)]
        elif isinstance(value, str) and key is not None and _host_key(key):
            host = _host_value(value)
            if host:
                named.add(host)
    only = next(iter(named)) if len(named) == 1 else None
    for token, path in credentials:
        for p, host in keyed:
            if path == p or path.startswith((p + ".", p + "[")):
                yield token, host
        if only:
            yield token, only


def recorded(data: Any, codes: set[str]) -> Iterator[tuple[str, str]]:
    """(code, host) for each of ``codes`` (lower-cased) that is a scalar field of an
    object whose host keys, its nested objects' included, name one host (module
    docstring). Only the object that holds the code counts: a list of records (an inbox,
    a search's hits) names many hosts, and one record's host is no other's."""
    seen = 0

    def walk(value: Any) -> set[str]:
        """The hosts under host keys within ``value``; its codes' pairs into ``found``."""
        nonlocal seen
        seen += 1
        hosts: set[str] = set()
        if seen > MAX_CONFIG_NODES:
            return hosts
        if isinstance(value, list):
            for inner in value:
                walk(inner)  # a list's records are each their own
            return hosts
        if not isinstance(value, dict):
            return hosts
        mine: list[str] = []
        for k, inner in value.items():
            if isinstance(inner, dict):
                hosts |= walk(inner)
            elif isinstance(inner, list):
                walk(inner)  # a list of records: theirs, not this object's
            elif isinstance(inner, str):
                if _host_key(str(k)) and (host := _host_value(inner)):
                    hosts.add(host)
                elif inner.strip().lower() in codes:
                    mine.append(inner.strip().lower())
        if len(hosts) == 1:
            found.extend((code, next(iter(hosts))) for code in mine)
        return hosts

    found: list[tuple[str, str]] = []
    walk(data)
    yield from found


def in_sections(
    lines: Iterable[str],
    credentials: Iterable[str],
    assignment: Callable[[str], tuple[str, str] | None],
) -> Iterator[tuple[str, str]]:
    """(token, host) for each credential (lower-cased) assigned in an INI file's
    ``[section]`` whose every line is an assignment (read by ``assignment``), a comment
    or a continuation, and whose host keys name one host. A text before the first
    section, or a section with other lines, names none."""
    tokens = set(credentials)
    sections: list[tuple[set[str], set[str]]] = []
    section: tuple[set[str], set[str]] | None = None
    for line in lines:
        if _SECTION.fullmatch(line):
            section = (set(), set())
            sections.append(section)
            continue
        if section is None or not line.strip() or line.lstrip()[:1] in "#;":
            continue
        assigned = assignment(line)
        if assigned is None:
            if line[:1].isspace():
                continue  # a continuation ("index-servers =\n    pypi")
            sections.pop()  # not a configuration file's section
            section = None
            continue
        key, value = assigned
        if _host_key(key) and (host := _host_value(value)):
            section[0].add(host)
        elif classify_key(key) == "credential" and value.strip().lower() in tokens:
            section[1].add(value.strip().lower())
    for hosts, assigned_tokens in sections:
        if len(hosts) == 1:
            host = next(iter(hosts))
            for token in assigned_tokens:
                yield token, host

"""Whose customer organisation (tenant) a record belongs to, for a multi-tenant vendor's
agent — a support desk answering many customer organisations — as `patients` says whose
health record a lab result is.

Why: such an agent reads every tenant's data (API keys, SSO settings, invoices, user
lists) and writes to every tenant's threads. Tenant A's API key in a public reply on
tenant B's ticket goes to B's requester — a leak no address in the call shows (the
ticket's requester is configured in the help desk) — while the same key in A's own
ticket, to an admin A's record lists, or to A's own webhook is the vendor serving A.

- A read is *scoped* to a tenant when its call names one organisation: an argument
  ``organization_id`` / ``org_id`` / ``company_id`` / ``tenant_id`` (or an
  ``organization`` scalar), or a path ``/organizations/<id>/…`` (``orgs``,
  ``companies``, ``tenants``), or a path segment that is the id of a tenant an earlier
  read was scoped to (``/exports/<id>/usage.csv``); else when its result is one record
  naming its organisation that way (a ticket's ``organization_id``, a conversation's
  ``company`` object). Its values are that tenant's (`Tenants.owner`).
- A *thread* (ticket, conversation, case) is its tenant's when a result showed its
  ``id`` beside such an organisation; a call that writes to it by ``ticket_id`` /
  ``conversation_id`` / ``case_id`` / ``thread_id`` (or a ``/tickets/<id>`` path),
  not as an internal note (``public: false``, ``internal``/``private: true``, a
  ``note`` message type), sends to that tenant (`written_thread`).
- A tenant's own *destinations* are the addresses, hosts and channels its scoped
  records hold as a whole field (its admins' e-mails, its webhook URL, its shared
  channel): a field's free text (an injected note naming an address) gives none.

Only a value whose tenant is known and differs from the thread's is sent to another
tenant; a value of no known tenant is not judged here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from backdoorlab.defenses.audit.destinations import canonical, shape_of
from backdoorlab.defenses.audit.patterns import name_tokens
from backdoorlab.defenses.audit.sinks import CallDestination, SinkCall

_ORG = frozenset({"organization", "organisation", "org", "company", "tenant"})
_THREAD = frozenset({"ticket", "conversation", "case", "thread"})
_KEY = r"(?:[Oo]rgani[sz]ation|ORGANI[SZ]ATION|[Oo]rg|ORG|[Cc]ompany|COMPANY|[Tt]enant|TENANT)"
_KEY_HINT = re.compile(rf'"{_KEY}(?:_?[Ii][Dd])?"\s*:')
_PATH_HINT = re.compile(r"/(?:organi[sz]ations|orgs|companies|tenants)/")
"""A JSON key or a path naming an organisation: most observations have neither. Two
case-sensitive searches, each from a literal first character: one case-insensitive
alternation of both took twice as long over a pool of retail traces."""


def _hint(text: str) -> bool:
    # the letters every key and path above holds, by `in` first: a substring test is
    # faster than either search, and nine observations in ten of a retail pool fail it;
    # in the text lower-cased, three tests, ~35% faster than six in either case
    lowered = text.lower()
    if "rg" not in lowered and "ompan" not in lowered and "enant" not in lowered:
        return False
    return _KEY_HINT.search(text) is not None or _PATH_HINT.search(text) is not None


_THREAD_HINT = re.compile(r"ticket|conversation|case|thread", re.IGNORECASE)
_ORG_PATH = re.compile(r"/(?:organi[sz]ations|orgs|companies|tenants)/([A-Za-z0-9_-]{2,64})")
_THREAD_PATH = re.compile(r"/(?:tickets|conversations|cases|threads)/([A-Za-z0-9_-]{2,64})")
_MAX_NODES = 4096


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, a 4,300-digit number, too deep
        return None


def _nodes(data: Any) -> Iterator[Any]:
    """Each dict, list and scalar inside ``data``, depth first, the first `_MAX_NODES`."""
    stack, seen = [data], 0
    while stack and seen < _MAX_NODES:
        node, seen = stack.pop(), seen + 1
        yield node
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _key_of(key: str, words: frozenset[str]) -> bool:
    """``organization_id``, ``orgId``, ``organization`` (not ``org_name``)."""
    tokens = name_tokens(key)
    return bool(tokens) and tokens[0] in words and tokens[1:] in ((), ("id",))


def _scalar(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)


def _named(data: Any, words: frozenset[str], path: re.Pattern[str]) -> set[str]:
    """The ids a call's arguments name under a key of ``words`` or in a ``path``."""
    found: set[str] = set()
    stack, seen = [data], 0
    while stack and seen < _MAX_NODES:
        node, seen = stack.pop(), seen + 1
        if isinstance(node, dict):
            for key, value in node.items():
                if _key_of(str(key), words) and (scalar := _scalar(value)) is not None:
                    found.add(scalar)
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and "/" in node:
            found.update(path.findall(node))
    return found


def _records(data: Any) -> list[tuple[str, str]]:
    """(record id, its organisation) of each object holding an ``id`` and an org key."""
    out: list[tuple[str, str]] = []
    for node in _nodes(data):
        if isinstance(node, dict):
            org = next((_scalar(v) for k, v in node.items() if _key_of(str(k), _ORG)), None)
            rid = _scalar(node.get("id")) if not isinstance(node.get("id"), dict) else None
            if org is not None and rid is not None:
                out.append((rid, org))
    return out


def _whole_fields(data: Any) -> set[str]:
    """The canonical destinations a record holds as a whole field's value."""
    out: set[str] = set()
    for node in _nodes(data):
        if isinstance(node, str) and len(node) <= 256 and " " not in node.strip():
            if node.startswith("#") and len(node) > 1:
                out.add(canonical(node, "channel"))
            elif (shape := shape_of(node)) in ("email", "url"):
                out.add(canonical(node, shape))
    return out


def _internal(arguments: Any) -> bool:
    """Whether a thread write is an internal note the requester does not see."""
    for node in _nodes(arguments):
        if isinstance(node, dict):
            for key, value in node.items():
                tokens = name_tokens(str(key))
                if tokens[-1:] == ("public",) and value is False:
                    return True
                if tokens[-1:] in (("internal",), ("private",)) and value is True:
                    return True
                if tokens[-1:] == ("type",) and str(value).lower() in ("note", "internal"):
                    return True
    return False


class Tenants:
    """What one conversation showed of its tenants: each observation step's tenant, each
    thread's tenant, each tenant's own destinations."""

    def __init__(self) -> None:
        self.by_step: dict[int, str] = {}
        self.threads: dict[str, str] = {}
        self.own: dict[str, set[str]] = {}

    def observe(self, text: str, step: int, echo: str) -> None:
        """A tool result at ``step`` answering a call with arguments ``echo``."""
        by_call = bool(echo) and _hint(echo)
        in_path = self._in_path(echo) if not by_call and echo and self.by_step else None
        if not by_call and in_path is None and not _hint(text):
            return  # nearly every observation: no organisation named
        args = _parsed(echo) if by_call else None
        orgs = _named(args, _ORG, _ORG_PATH) if args is not None else set()
        if in_path is not None:
            orgs = {in_path}
        data = _parsed(text) if text[:1] in "{[" else None
        records = _records(data) if data is not None else []
        for rid, org in records:
            self.threads.setdefault(rid, org)
        if len(orgs) != 1:
            orgs = {org for _, org in records}
        if len(orgs) == 1:  # a CSV export's rows are its tenant's too
            org = next(iter(orgs))
            self.by_step[step] = org
            if data is not None:
                self.own.setdefault(org, set()).update(_whole_fields(data))

    def _in_path(self, echo: str) -> str | None:
        """The one known tenant whose id a call's arguments give as a whole path segment
        (``/exports/47321/usage.csv``, an export of tenant 47321 that no key names): what
        the call makes of it (a share link) is that tenant's. Ids under three characters
        are no evidence ("/1/" is a page or a version)."""
        known = set(self.by_step.values())
        found = {org for org in known if len(org) >= 3 and f"/{org}/" in echo}
        return next(iter(found)) if len(found) == 1 else None

    def owner(self, step: int) -> str | None:
        """The tenant whose record the observation at ``step`` was, if known."""
        return self.by_step.get(step)

    def written_thread(self, tool: str, arguments: str) -> tuple[str, str, str] | None:
        """(argument, thread id, its tenant) of a public write to a known thread."""
        if not self.threads or not _THREAD_HINT.search(arguments):
            return None
        parsed = _parsed(arguments)
        if not isinstance(parsed, dict) or _internal(parsed):
            return None
        for key, value in parsed.items():
            thread = _scalar(value) if _key_of(str(key), _THREAD) else None
            found = [thread] if thread else []
            if not found and isinstance(value, str):
                found = _THREAD_PATH.findall(value)
            for tid in found:
                if tid in self.threads:
                    return str(key), tid, self.threads[tid]
        return None

    def owners(self, destination: str) -> set[str]:
        """The tenants whose records hold ``destination`` (canonical) as their own."""
        return {org for org, own in self.own.items() if destination in own}

    def owns(self, org: str, destination: str) -> bool:
        """Whether ``destination`` (canonical) is one ``org``'s records hold as its own."""
        return destination in self.own.get(org, ())


PREFIX = "tenant:"


def thread_sink(
    sink: SinkCall | None, tool: str, arguments: Any, found: tuple[str, str, str]
) -> SinkCall:
    """``sink`` (or a new one) sending to the tenant whose thread the call writes to, in
    place of the implicit destination a destination-less reply got."""
    argument, tid, org = found
    dest = CallDestination(argument, f"{argument} {tid} (organization {org})", PREFIX + org, "any")
    if sink is None:
        payload = {k: v for k, v in arguments.items() if k != argument}
        return SinkCall(tool, "heuristic", [dest], payload)
    kept = [d for d in sink.destinations if not d.implicit]
    return replace(sink, destinations=[*kept, dest])

"""Destinations authorised in every conversation: the operator's own systems and the
services a deployment is known to use. One spelling for the guard policy's ``trusted``
list and the audit's ``--option dataflow.trusted=[…]``: an address, ``@domain`` (every
address there and its subdomains'), a URL or host (exact; ``*.host`` for it and its
subdomains), a phone number, or a place (`places`): ``repo:owner/name`` (``repo:owner/*``
for every repository of an account or organisation), ``bucket:s3/name`` (``s3://name``,
``gs://name``; ``bucket:name``: that bucket in any service), ``channel:name``."""

from __future__ import annotations

import re

from backdoorlab.defenses.audit.destinations import canonical, shape_of
from backdoorlab.defenses.audit.places import place

_PLACE = re.compile(r"(repo|bucket|channel):(\S+)")
_BUCKET_URL = re.compile(r"(s3|gs)://([^/\s]+)(?:/\S*)?")
"""A bucket's URL: the whole bucket is trusted, whatever path the entry goes on to."""

__all__ = ["Trusted", "check_trusted", "trusted_form"]


def trusted_form(item: str) -> tuple[str, str] | None:
    """(how to match, canonical value) of one ``trusted`` entry: ``exact`` for a whole
    destination, ``domain`` for an e-mail domain, ``host`` for a host and its subdomains."""
    item = item.strip()
    if (url := _BUCKET_URL.fullmatch(item)) is not None:
        item = f"bucket:{url.group(1)}/{url.group(2)}"
    if (named := _PLACE.fullmatch(item)) is not None:
        return _place_form(named.group(1), named.group(2))
    if item.startswith(("@", "*@")):
        domain = item.lstrip("*@").lower()
        return ("domain", domain) if "." in domain and " " not in domain else None
    if item.startswith("*."):
        host = item[2:].lower()
        return ("host", host) if "." in host and " " not in host else None
    kind = shape_of(item)
    if kind is not None:
        return ("exact", canonical(item, kind))
    if "." in item and " " not in item and "@" not in item:  # a bare host name
        return ("exact", canonical(item, "url"))
    return None


def _place_form(kind: str, name: str) -> tuple[str, str] | None:
    """A place entry's form: ``owner`` for ``repo:owner/*``, ``bucket`` for a bucket
    named without its service, else ``exact`` (canonical, as `places` spells it)."""
    if kind == "repo" and name.endswith("/*"):
        owner = name[:-2].strip("/").lower()
        return ("owner", f"repo:{owner}") if owner and "/" not in owner else None
    if kind == "bucket":  # `places`' spelling: s3/NAME, gs/NAME, az/ACCOUNT/CONTAINER
        name = name.lower()
        if "/" not in name:
            return ("bucket", name)
        service, _, rest = name.partition("/")
        parts = rest.split("/")
        wanted = 2 if service == "az" else 1
        if service not in ("s3", "gs", "az") or len(parts) != wanted or not all(parts):
            return None
        return ("exact", f"bucket:{name}")
    value = place(kind, name)  # type: ignore[arg-type]
    if value is None or not all(value.partition(":")[2].split("/")):
        return None  # no such name, or an empty owner, service or name
    return ("exact", value)


class Trusted:
    """Whether a canonical destination is one of the policy's ``trusted`` entries."""

    def __init__(self, entries: list[str]) -> None:
        forms = [f for f in (trusted_form(e) for e in entries) if f is not None]
        self.exact = {value for how, value in forms if how == "exact"}
        self.domains = tuple(value for how, value in forms if how == "domain")
        self.hosts = tuple(value for how, value in forms if how == "host")
        self.owners = {value for how, value in forms if how == "owner"}
        self.buckets = {value for how, value in forms if how == "bucket"}

    def __bool__(self) -> bool:
        return bool(self.exact or self.domains or self.hosts or self.owners or self.buckets)

    def __call__(self, destination: str) -> bool:
        if destination in self.exact:
            return True
        if destination.startswith("repo:"):
            return destination.partition("/")[0] in self.owners
        if destination.startswith("bucket:"):
            return destination.rpartition("/")[2].removeprefix("bucket:") in self.buckets
        if destination.startswith("channel:"):
            return False
        if "@" in destination:
            domain = destination.rsplit("@", 1)[1]
            return any(domain == d or domain.endswith("." + d) for d in self.domains)
        return any(destination == h or destination.endswith("." + h) for h in self.hosts)


def check_trusted(value: list[str] | str) -> list[str]:
    """``value`` as a list of valid entries (a string: comma-separated, brackets and
    quotes allowed — what is left of a YAML list that did not parse, ``[@corp.example]``:
    "@" cannot start a YAML word); a bad entry raises `ValueError` naming it (for a
    pydantic validator)."""
    if isinstance(value, str):
        value = [v.strip().strip("'\"").strip() for v in value.strip().strip("[]").split(",")]
    items = value
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip() or trusted_form(item) is None:
            raise ValueError(
                f"entry {i} ('{item}') is no address, @domain, URL, host, phone number"
                " or place (repo:owner/name, bucket:s3/name, channel:name)"
            )
    return items

"""Destinations authorised in every conversation: the operator's own systems and the
services a deployment is known to use. One spelling for the guard policy's ``trusted``
list and the audit's ``--option dataflow.trusted=[…]``: an address, ``@domain`` (every
address there and its subdomains'), a URL or host (exact; ``*.host`` for it and its
subdomains), a phone number."""

from __future__ import annotations

from backdoorlab.defenses.audit.destinations import canonical, shape_of

__all__ = ["Trusted", "check_trusted", "trusted_form"]


def trusted_form(item: str) -> tuple[str, str] | None:
    """(how to match, canonical value) of one ``trusted`` entry: ``exact`` for a whole
    destination, ``domain`` for an e-mail domain, ``host`` for a host and its subdomains."""
    item = item.strip()
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


class Trusted:
    """Whether a canonical destination is one of the policy's ``trusted`` entries."""

    def __init__(self, entries: list[str]) -> None:
        forms = [f for f in (trusted_form(e) for e in entries) if f is not None]
        self.exact = {value for how, value in forms if how == "exact"}
        self.domains = tuple(value for how, value in forms if how == "domain")
        self.hosts = tuple(value for how, value in forms if how == "host")

    def __bool__(self) -> bool:
        return bool(self.exact or self.domains or self.hosts)

    def __call__(self, destination: str) -> bool:
        if destination in self.exact:
            return True
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
                f"entry {i} ('{item}') is no address, @domain, URL, host or phone number"
            )
    return items

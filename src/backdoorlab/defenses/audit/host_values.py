"""Values that belong to the host a call goes to, so that sending them there is no leak:
the host's own name (`names_host`), a key written for it or for a service the user named
(`for_host`), a credential its issuer serves there (`issued_for`: `auth_use` masks it), a
URL's own text (`names_it`), and what a command that only fetches a URL sends it
(`fetched_url`).
"""

from __future__ import annotations

from functools import lru_cache

from backdoorlab.defenses.audit import code_places, patterns, services
from backdoorlab.defenses.audit.sinks import CallDestination
from backdoorlab.defenses.audit.tainted import Tainted

__all__ = ["fetched_url", "for_host", "issued_for", "names_host", "names_it", "registered"]


def names_host(token: str, host: str, domain: str) -> bool:
    """Whether tainted ``token`` names ``host`` (or ``domain``, its registered domain:
    `registered`): the host itself, a dot-suffix of it, or part of its last two labels
    ("mybank" of ``api.mybank.com``). A token in a label further left is carried, not
    named."""
    return token in domain or host == token or host.endswith("." + token)


def registered(host: str) -> str:
    """``host``'s last two labels (``mybank.com`` of ``api.mybank.com``)."""
    return ".".join(host.rsplit(".", 2)[-2:])


def _at_or_under(host: str, owners: set[str]) -> bool:
    """Whether ``host`` is one of ``owners`` or a host under one (``api.github.com``
    under ``github.com``): its owner's to run."""
    return host in owners or any(host.endswith("." + owner) for owner in owners)


_NOT_A_SERVICE = frozenset(
    (
        "api", "key", "keys", "token", "tokens", "secret", "secrets", "access", "password",
        "passwd", "pass", "pwd", "auth", "oauth", "bearer", "pat", "personal", "private",
        "public", "client", "id", "app", "bot", "user", "username", "login", "credential",
        "credentials", "cred", "creds", "env", "var", "value", "prod", "production", "dev",
        "staging", "test", "live", "sandbox", "read", "write", "admin", "deploy", "ci", "cd",
        "url", "uri",
    )
)  # fmt: skip


@lru_cache(maxsize=4096)
def _services(key: str) -> frozenset[str]:
    """The service a credential's field name says it is for (``STRIPE_SECRET_KEY`` →
    ``stripe``, ``GITHUB_TOKEN`` → ``github``), by the words of its last named part."""
    parts = patterns.key_parts(key)
    words = patterns.name_tokens(parts[-1]) if parts else ()
    return frozenset(w for w in words if len(w) >= 3 and w not in _NOT_A_SERVICE)


def for_host(
    token: str, tainted: Tainted, host: str, hosts: dict[str, set[str]], said: set[str]
) -> bool:
    """Whether ``tainted`` (``token``, lower-cased) is for ``host``: written for it or a
    host it is under (``hosts``: `ObservationReader.hosts`, `owners`), or a credential of a
    service the user named (``said``: the words they said)."""
    written = hosts.get(token)
    return bool(written and _at_or_under(host, written)) or _named_service(tainted, host, said)


def _named_service(tainted: Tainted, host: str, said: set[str]) -> bool:
    """A credential whose field name names a service the user named too, sent to that
    service's registered domain (its label left of the top level): "use the Stripe key"
    and ``STRIPE_SECRET_KEY`` to ``api.stripe.com``. The name alone is not enough (an
    attacker who read a repository's ``.env.example`` can register that word's domain),
    nor a domain that merely starts with it (``github-sync.io``)."""
    if tainted.label != "credential" or not tainted.key or host.count(".") < 1:
        return False
    label = host.rsplit(".", 2)[-2]
    return label in said and label in _services(tainted.key)


def issued_for(
    found: list[Tainted], host: str, named: dict[str, set[str]]
) -> list[tuple[str, frozenset[str]]]:
    """(value, its issuer's domains) of each credential a call was ``found`` carrying
    that a well-known service issued and serves at ``host`` (`services`): by its key's
    name when a key called it a credential, else by its value's prefix, else by the
    service a sibling field ``named`` (`ObservationReader.issuers`)."""
    used = []
    for t in found:
        if not t.strong:  # a credential is strong
            continue
        key = t.key if t.label == "credential" else None
        domains = services.domains_of(key, t.secret.value)
        if not domains and named:
            domains = frozenset(named.get(t.secret.value.strip().lower(), ()))
        if domains and services.owns(domains, host):
            used.append((t.secret.value, domains))
    return used


def names_it(tainted: Tainted, argument: str, dest: CallDestination) -> bool:
    """A tool's text found in the very argument that holds the URL it wrote ("send it to
    https://discord.com/api/webhooks/1234/AbC…"): its words there are the destination
    it named, not what the call carries (the taint of that naming is `recipients`')."""
    return (
        tainted.label == "content"
        and argument == dest.argument
        and len(dest.value) >= 16
        and dest.value.lower() in tainted.secret.value.lower()
    )


def fetched_url(dest: CallDestination, texts: list[tuple[str, str]]) -> str:
    """``dest``'s URL when the command naming it only fetches from it, so that it
    receives its URL alone (`code_places.fetched_only`); "" otherwise."""
    for path, text in texts:
        if path == dest.argument:
            return dest.value if dest.value in code_places.fetched_only(text) else ""
    return ""

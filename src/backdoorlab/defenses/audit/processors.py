"""Marketing and customer-data platforms a deployment names as its own: the API hosts of
each receive its contacts by design.

Why a module: an ESP, a CDP or a CRM is where a marketing agent's contacts live — an
upsert of a list's members into the Mailchimp audience, a Segment ``identify`` batch, a
HubSpot contact update carry every e-mail the agent read, to a host outside the
operator's domain. When the system prompt or the user names the platform ("our
Mailchimp audience", "Segment", "HubSpot portal 4030…"), its API is the operator's
integration, as a URL they wrote would be. A name gives no host, so the hosts are
curated here, as `services` curates credentials' issuers: only API hosts where the
caller's own credential picks the account (``usN.api.mailchimp.com``,
``api.segment.io``), never a host whose subdomain is a customer's (a
``*.zendesk.com`` help desk, a Marketing Cloud tenant's ``*.marketingcloudapis.com``)
or whose path names the account (an ad platform's audience: `recipients.named_in_path`),
where the other end may be an attacker's. A look-alike (``mailchimp-compliance.com``)
is no host of these.

Data, not code: each row is (the words that name it, whether they must be written as
the brand writes them, its API hosts). Sources are the platforms' API references.
"""

from __future__ import annotations

import re
from functools import lru_cache

# fmt: off
PROCESSORS: tuple[tuple[str, bool, str], ...] = (
    # https://mailchimp.com/developer/marketing/docs/fundamentals/ — <dc>.api.mailchimp.com
    ("mailchimp", False, "api.mailchimp.com"),
    # https://developers.klaviyo.com/en/reference/api_overview — a.klaviyo.com/api/
    ("klaviyo", False, "a.klaviyo.com"),
    # https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/ —
    # api.segment.io/v1/; the Public API at api.segmentapis.com. "segment" is also a word
    # ("the spring segment"): only the brand's spelling names it
    ("Segment", True, "api.segment.io api.segmentapis.com"),
    # https://developers.hubspot.com/docs/api/overview — api.hubapi.com
    ("hubspot", False, "api.hubapi.com"),
    # https://api.iterable.com/api/docs — api.iterable.com, api.eu.iterable.com
    ("iterable", False, "api.iterable.com api.eu.iterable.com"),
    # https://docs.customer.io/api/ — track.customer.io, api.customer.io (and -eu)
    ("customer.io", False, "track.customer.io api.customer.io track-eu.customer.io"),
)
# fmt: on

_NAMES = [
    (re.compile(rf"(?<![\w.-]){re.escape(word)}(?![\w-])", 0 if exact else re.IGNORECASE), hosts)
    for word, exact, hosts in PROCESSORS
]


_WORDS = tuple(word.lower() for word, _, _ in PROCESSORS)


@lru_cache(maxsize=1024)
def named_processors(text: str) -> frozenset[str]:
    """The API hosts of every platform ``text`` names (module docstring). Every said text
    is asked, and almost none names a platform: the lower-cased text is tested for each
    name as a substring first (one search per name, each opening with a look-behind,
    cost ~3 µs a user message; these tests ~0.3)."""
    lowered = text.lower()
    if not any(word in lowered for word in _WORDS):
        return frozenset()
    return frozenset(host for name, hosts in _NAMES if name.search(text) for host in hosts.split())

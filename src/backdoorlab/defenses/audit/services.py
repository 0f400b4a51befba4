"""Well-known credential issuers: the words their keys' names use, the prefixes their
keys' values carry, and the exact domains each serves its API or registry from.

Why a table: a coding agent that reads ``.env`` and calls
``api.openweathermap.org/...?appid=KEY``, or pipes ``QUAY_TOKEN`` into ``docker login
quay.io``, uses the credential where it was issued — no leak, and a guard that refuses
it is unusable. A key's name alone cannot say where that is (an attacker who read
``.env.example`` registers ``quay.co`` or ``stripe-verify.io``), so the domains are
curated here, each one the service's own, never a domain where its customers run
servers or host pages (``github.io``, ``hf.space``, ``*.amazonaws.com`` buckets and
API gateways, ``workers.dev``, ``twil.io``): there the other end may be an attacker's.
`auth_use` decides whether a credential reaches such a domain in an authentication
position; a body's copy (a gist's content, a chat message) stays a leak.

A credential's service is named by its key (``BINANCE_API_KEY``), the section around it
(ccxt's ``{"binance": {"apiKey": …}}``), its prefix (``sk_live_``) — or a sibling's
value: freqtrade's ``{"exchange": {"name": "binance", "key": …, "secret": …}}``
(`sections`; its bare ``key`` is no credential's name and the section's is no service's).

Data, not code: each row is (service, key-name words, value prefixes, domains). A
domain covers the hosts under it (`owns`). Sources are the services' API references.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from backdoorlab.defenses.audit import patterns


class Service(NamedTuple):
    name: str
    words: frozenset[str]
    prefixes: tuple[str, ...]
    domains: frozenset[str]


def _row(name: str, words: str, prefixes: str, domains: str) -> Service:
    return Service(
        name, frozenset(words.split()), tuple(prefixes.split()), frozenset(domains.split())
    )


# fmt: off
SERVICES: tuple[Service, ...] = (
    # https://openweathermap.org/current — api.openweathermap.org/data/2.5/weather?appid=
    _row("openweather", "openweather openweathermap owm", "", "openweathermap.org"),
    # https://docs.stripe.com/api/authentication — api.stripe.com, key as basic-auth user
    _row("stripe", "stripe", "sk_live_ sk_test_ rk_live_ rk_test_", "stripe.com"),
    # https://docs.github.com/en/rest/authentication, .../packages (ghcr.io),
    # raw.githubusercontent.com serves private files with the token
    _row("github", "github gh ghcr", "ghp_ gho_ ghu_ ghs_ ghr_ github_pat_",
         "github.com ghcr.io githubusercontent.com"),
    # https://docs.gitlab.com/ee/api/rest/authentication.html, registry.gitlab.com
    _row("gitlab", "gitlab", "glpat- gldt- glrt-", "gitlab.com"),
    # https://docs.quay.io/api/ — quay.io registry and API
    _row("quay", "quay", "", "quay.io"),
    # https://docs.docker.com/security/for-developers/access-tokens/ — docker.io registry
    _row("docker", "docker dockerhub", "dckr_pat_", "docker.io docker.com"),
    # https://platform.openai.com/docs/api-reference/authentication — api.openai.com
    _row("openai", "openai", "sk-proj- sk-svcacct-", "openai.com"),
    # https://docs.anthropic.com/en/api/getting-started — api.anthropic.com (x-api-key)
    _row("anthropic", "anthropic claude", "sk-ant-", "anthropic.com"),
    # https://huggingface.co/docs/hub/security-tokens — huggingface.co, hf.co (not hf.space)
    _row("huggingface", "huggingface hf", "hf_", "huggingface.co hf.co"),
    # https://api.slack.com/authentication/token-types — slack.com/api/
    _row("slack", "slack", "xoxb- xoxp- xoxa- xoxe- xoxs- xoxr- xapp-", "slack.com"),
    # https://www.twilio.com/docs/usage/requests-to-twilio — api.twilio.com (not twil.io)
    _row("twilio", "twilio", "", "twilio.com"),
    # https://www.twilio.com/docs/sendgrid/api-reference — api.sendgrid.com
    _row("sendgrid", "sendgrid", "SG.", "sendgrid.com"),
    # https://docs.datadoghq.com/api/latest/authentication/ — api.datadoghq.com, .eu
    _row("datadog", "datadog dd", "", "datadoghq.com datadoghq.eu ddog-gov.com"),
    # https://docs.sentry.io/api/auth/ — sentry.io
    _row("sentry", "sentry", "sntrys_", "sentry.io"),
    # https://docs.npmjs.com/about-access-tokens — registry.npmjs.org
    _row("npm", "npm npmjs", "npm_", "npmjs.org npmjs.com"),
    # https://pypi.org/help/#apitoken — upload.pypi.org
    _row("pypi", "pypi twine", "pypi-", "pypi.org"),
    # AWS signs requests (SigV4): its keys never travel in an authentication position,
    # and *.amazonaws.com holds customers' buckets and gateways — no domain
    _row("aws", "aws", "AKIA ASIA", ""),
    # https://developers.google.com/maps/documentation/geocoding/get-api-key — the API
    # hosts only: storage.googleapis.com serves customers' buckets
    _row("google", "google gcp gemini", "AIza",
         "maps.googleapis.com generativelanguage.googleapis.com www.googleapis.com"),
    # https://learn.microsoft.com/en-us/rest/api/azure/ — the management API only
    _row("azure", "azure", "", "management.azure.com"),
    # https://developers.cloudflare.com/fundamentals/api/ — api.cloudflare.com
    _row("cloudflare", "cloudflare cf", "", "api.cloudflare.com"),
    # https://docs.mapbox.com/api/accounts/tokens/ — api.mapbox.com
    _row("mapbox", "mapbox", "pk.eyJ sk.eyJ", "mapbox.com"),
    # exchanges' signed REST APIs (key and passphrase in headers, the secret signs):
    # https://developers.binance.com/docs/binance-spot-api-docs/rest-api — api.binance.com
    _row("binance", "binance", "", "binance.com binance.us"),
    # https://docs.kraken.com/api/docs/guides/spot-rest-auth — api.kraken.com
    _row("kraken", "kraken", "", "kraken.com"),
    # https://docs.cdp.coinbase.com/exchange/docs/rest-auth — api.coinbase.com
    _row("coinbase", "coinbase", "", "coinbase.com"),
    # https://bybit-exchange.github.io/docs/v5/guide — api.bybit.com
    _row("bybit", "bybit", "", "bybit.com"),
    # https://www.okx.com/docs-v5/en/#overview-rest-authentication — www.okx.com
    _row("okx", "okx okex", "", "okx.com"),
    # https://www.kucoin.com/docs/basic-info/connection-method/authentication — api.kucoin.com
    _row("kucoin", "kucoin", "", "kucoin.com"),
)
# fmt: on

_BY_WORD = {word: s for s in SERVICES for word in s.words}
_BY_PREFIX = {p: s for s in SERVICES for p in s.prefixes}
_PREFIX = re.compile("|".join(sorted(map(re.escape, _BY_PREFIX), key=len, reverse=True)))


def named(name: str) -> Service | None:
    """The service a configuration's ``name`` value is ("binance", "Kraken"), if any."""
    return _BY_WORD.get(name.strip().lower()) if len(name) < 32 else None


NAME_KEYS = ("name", "exchange", "service", "provider", "id")
"""Keys of a section whose value may name the service its other values are for."""
SECTION_VALUES = frozenset(("key", "secret", "password", "uid", "passphrase", "token"))
"""Bare keys of such a section's secrets (`sections` is asked only when one was read)."""
MAX_NODES = 4096


def sections(data: Any, tokens: set[str]) -> Iterator[tuple[str, str]]:
    """(token, domain) for each of ``tokens`` (lower-cased values) held by a mapping of
    ``data`` whose name key (`NAME_KEYS`) is a service's (module docstring)."""
    stack: list[Any] = [data]
    seen = 0
    while stack and seen < MAX_NODES:
        value = stack.pop()
        seen += 1
        if isinstance(value, list):
            stack += value
        if not isinstance(value, dict):
            continue
        stack += [inner for inner in value.values() if isinstance(inner, dict | list)]
        names = (value.get(k) for k in NAME_KEYS)
        service = next((s for n in names if isinstance(n, str) and (s := named(n))), None)
        if service is None:
            continue
        for inner in value.values():
            if isinstance(inner, str) and (token := inner.strip().lower()) in tokens:
                yield from ((token, domain) for domain in sorted(service.domains))


@lru_cache(maxsize=4096)
def issuers(key: str | None, value: str) -> tuple[Service, ...]:
    """The services a credential is for: by a word of its field's innermost named part
    that has one (``OPENWEATHER_API_KEY``, ``data.DD_API_KEY``, ``binance.apiKey``;
    ``key`` None for a value no key called a credential) or by its value's prefix."""
    found: list[Service] = []
    if key:
        parts = patterns.key_parts(key)
        # the innermost part that names a service: its own name, else the section it
        # sits in (ccxt's ``{"binance": {"apiKey": …}}``, a YAML ``stripe: {key: …}``)
        for part in reversed(parts):
            for word in patterns.name_tokens(part):
                if word in _BY_WORD and _BY_WORD[word] not in found:
                    found.append(_BY_WORD[word])
            if found:
                break
    prefixed = _PREFIX.match(value)
    if prefixed and _BY_PREFIX[prefixed.group(0)] not in found:
        found.append(_BY_PREFIX[prefixed.group(0)])
    return tuple(found)


@lru_cache(maxsize=8192)
def domains_of(key: str | None, value: str) -> frozenset[str]:
    """Every domain of the services ``value`` (under ``key``) is a credential for."""
    return frozenset(d for s in issuers(key, value) for d in s.domains)


def owns(domains: frozenset[str], host: str) -> bool:
    """Whether ``host`` is one of ``domains`` or under one (``api.stripe.com``), never a
    look-alike (``stripe.com.evil.net``, ``api.stripe-verify.io``)."""
    host = host.lower().rstrip(".").split(":", 1)[0]
    return host in domains or any(host.endswith("." + d) for d in domains)

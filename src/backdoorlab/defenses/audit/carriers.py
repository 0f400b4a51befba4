"""Messaging providers' APIs: a request to one is delivered to the recipients its body
names, not to the provider.

Why: an agent that texts a caller through Twilio's REST API POSTs to
``api.twilio.com/2010-04-01/Accounts/AC…/Messages.json`` with ``To``, ``From`` and
``Body`` — form-encoded, as Twilio documents it, or as JSON through a client. Read as
any request, the message went to the host ``api.twilio.com`` as a third party, and
every SMS confirmation to the caller's own number was a leak; and a form body, one
string, hid its ``To`` from the sink heuristics, so a text to a stranger named nobody.
So:

- `opened`: an argument holding a form-encoded body that names a recipient
  (``To=%2B1…&Body=…``) is read as its fields, each under its own name (``data.To``,
  ``data.Body``), as a JSON body's are;
- `delivered`: when a call to a provider of `CARRIER_DOMAINS` names a recipient (an
  e-mail address or a phone number under a destination key), its host is the carrier and
  leaves the call's destinations; the recipients are judged. A call naming no recipient
  keeps the host (what it sends stays judged by where it goes).

The domains are each provider's own API hosts (from their API references), never a
domain where customers host pages or functions (``twil.io``, ``*.amazonaws.com``):
there the other end may be anyone's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

CARRIER_DOMAINS = frozenset(
    (
        "twilio.com",  # api.twilio.com (SMS, calls); sendgrid's API below
        "sendgrid.com",
        "mailgun.net",  # api.mailgun.net, api.eu.mailgun.net
        "postmarkapp.com",
        "nexmo.com",  # Vonage's rest.nexmo.com / api.nexmo.com
        "vonage.com",
        "plivo.com",
        "messagebird.com",
        "telnyx.com",
        "sinch.com",
        "brevo.com",
        "sparkpost.com",
        "resend.com",
        "mandrillapp.com",
    )
)
_FORM = re.compile(r"[\w.\[\]-]{1,64}=[^&=\s]*(?:&[\w.\[\]-]{1,64}=[^&=\s]*)+")
MAX_FORM = 65536


def opened(
    scalars: list[tuple[str, tuple[str, ...], str]], names_recipient: Callable[[str], bool]
) -> list[tuple[str, tuple[str, ...], str]]:
    """``scalars`` with each form-encoded body that has a field ``names_recipient``
    (``To``, ``recipient``) replaced by its fields (module docstring); a form naming no
    recipient (an analytics beacon's ``payload=…``) stays one payload."""
    if not any("=" in v and "&" in v for _, _, v in scalars):
        return scalars
    out = []
    for path, keys, value in scalars:
        if len(value) > MAX_FORM or "&" not in value or not _FORM.fullmatch(value.strip()):
            out.append((path, keys, value))
            continue
        fields = parse_qsl(value.strip(), keep_blank_values=True)
        if not any(names_recipient(k) for k, _ in fields):
            out.append((path, keys, value))
            continue
        out += [(f"{path}.{k}", (*keys, k), v) for k, v in fields]
    return out


def _carrier(value: str) -> bool:
    host = (urlsplit(value).hostname or "") if "://" in value else value.split("/", 1)[0]
    host = host.lower().rstrip(".")
    return host in CARRIER_DOMAINS or any(host.endswith("." + d) for d in CARRIER_DOMAINS)


def delivered(dests: Sequence[Any], named: set[str]) -> list[Any]:
    """``dests`` less a messaging provider's host when the call names a recipient: an
    e-mail or phone destination at a path in ``named`` (a key says destination)."""
    if not any(d.kind in ("email", "phone") and d.argument in named for d in dests):
        return list(dests)
    return [d for d in dests if not (d.kind == "url" and _carrier(d.value))]

"""Secrets held inside a value in the forms operators' tools print them, which a leak
carries in another form than the tool showed:

- *base64 under a credential's key*: a Kubernetes Secret's ``data`` (``kubectl get
  secret -o yaml``), a docker ``config.json``'s ``auths.*.auth``: the agent sends the
  decoded text, and for a ``user:password`` pair the password alone (``docker login -u
  … -p …``). Only a canonical base64 string that decodes to printable ASCII is read (a
  random key in base64, an exchange's secret, decodes to bytes and stays as it is), and
  only a form with the bits of a secret is kept (``cGFzc3dvcmQ=`` is "password");
- *a JSON document in a credential's string*: AWS Secrets Manager's ``SecretString``
  (``{"username": …, "password": …}``), walked as the data it is, so its password is
  tracked, not only the whole string;
- *a password in a URL*: ``postgres://user:password@host/db`` (a ``DATABASE_URL``), the
  userinfo's password, sent apart from its URL (``password: …`` in a note; a camera's
  ``rtsp://admin:PASSWORD@…`` alike), percent-decoding undone. A placeholder
  (``${DB_PASS}``, ``<password>``, ``****``, ``password``) is none.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import unquote

from backdoorlab.defenses.audit.values import STRONG_BITS, bits

_BASE64 = re.compile(r"[A-Za-z0-9+/]{12,}={0,2}")
# a URL's userinfo password: postgres://app:PASSWORD@db, rtsp://admin:PW@cam, redis://:PW@host
_USERINFO = re.compile(
    r"\b[a-z][a-z0-9+.-]{1,20}://[^\s/:@'\"]{0,64}:([^\s/@'\"]{4,128})@[\w.-]", re.IGNORECASE
)
# what a template or an example writes where a password goes: no one's password
_TEMPLATE = re.compile(r"\$\{?\w+\}?|\$\(.*\)|<[^<>]*>|\{\{.*\}\}|%\(\w+\)s|[*xX•]+")
_PLACEHOLDERS = frozenset(("password", "passwd", "changeme", "secret", "pass", "none"))


def decoded(value: str) -> list[str]:
    """The text a credential's base64 ``value`` decodes to, and a ``user:password``
    pair's password; none for a value that is no base64 of text."""
    if len(value) % 4 or not _BASE64.fullmatch(value):
        return []
    try:
        text = base64.b64decode(value, validate=True).decode("ascii").strip()
    except (binascii.Error, ValueError):
        return []
    if len(text) < 6 or not text.replace("\n", "").replace("\t", "").isprintable():
        return []
    user, sep, password = text.partition(":")
    pair = sep and user and len(password) >= 6 and not any(c in text for c in " \n/")
    return [form for form in ((text, password) if pair else (text,)) if bits(form) >= STRONG_BITS]


def embedded(value: str) -> dict[str, Any] | None:
    """The JSON object a credential's string holds (``SecretString``), or None."""
    if value[:1] != "{" or value.rstrip()[-1:] != "}" or len(value) > 65536:
        return None
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def url_passwords(value: str) -> list[str]:
    """The passwords the URLs in ``value`` carry in their userinfo, percent-decoding
    undone (``Tulip%20Marble`` is sent as "Tulip Marble"); a placeholder — a template's
    ``${DB_PASS}``, a mask's ``****``, ``password`` itself — is none."""
    if "://" not in value or "@" not in value:
        return []
    found = (unquote(p) for p in _USERINFO.findall(value))
    return [p for p in found if not _placeholder(p)]


def _placeholder(password: str) -> bool:
    if _TEMPLATE.fullmatch(password) or password.lower() in _PLACEHOLDERS:
        return True
    return len(set(password)) < 3  # "aaaa", "1111"

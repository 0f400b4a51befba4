"""Where in a call's text a credential stands: in an authentication position for its
own service (`services`), or anywhere else.

Why: a key sent to the API that issued it, as that API asks for it, is the key's use;
the same key in a request's body (a gist's content, a chat message's text, a paste)
is published there. So each occurrence of the value is read in its context and only
these are taken as use, for a host of the service's domains:

- a header: curl ``-H "Authorization: Bearer KEY"``, ``X-Api-Key: KEY``; a quoted
  ``'Authorization': f'Bearer {KEY}'`` (requests ``headers=``, a JSON header map);
- a parameter named like a key (``appid``, ``api_key``, ``key``, ``token``,
  ``access_token``…): ``'appid': KEY``, ``appid=KEY`` as a keyword, ``?appid=KEY`` in
  the service's URL, ``-d token=KEY``;
- basic auth: curl ``-u KEY:``, ``-u user:KEY``; ``auth=(KEY, '')``,
  ``HTTPBasicAuth('u', KEY)``;
- a registry login: ``echo KEY | docker login HOST --password-stdin``, ``docker login
  -p KEY HOST`` (podman, helm registry, skopeo, oras…), npm's ``//HOST/:_authToken=KEY``;
- a URL's userinfo: ``https://oauth2:KEY@gitlab.com/...``.

A value assigned to a variable (``API_KEY = '…'``, ``export T=…``) is in such a
position when every use of the variable in the same text is. Anything else — unknown
included — is no use: the occurrence stays a leak (`masked` leaves it in place).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from backdoorlab.defenses.audit.services import owns

_HDR = r"(?:proxy-)?authorization|[a-z0-9-]*(?:api-?key|-token|-auth)|private-token|auth-token"
_PARAM = (
    r"appid|app_?id|api[_-]?key|apikey|key|token|access[_-]?token|auth[_-]?token"
    r"|private[_-]?token|api[_-]?token"
)
_SCHEME = r"(?:(?:bearer|token|basic|bot|apikey|key)\s+)?"
_OPEN = r"(?:\{\s*|\$\{?|[\"']\s*\+\s*)?"  # an f-string's ``{``, a shell ``$``, ``'…' +``
_LOGIN = r"(?:docker|podman|buildah|skopeo|oras|nerdctl|crane|helm\s+registry)\s+login\b"
_END = re.compile(r"[;&|\n]")

_BEFORE_ANY_HOST = re.compile(
    "|".join(
        (
            rf"(?:-H|--header)\s*=?\s*[\"']?(?:{_HDR})\s*:\s*{_SCHEME}{_OPEN}$",
            rf"[\"'](?:{_HDR}|{_PARAM})[\"']\s*:\s*(?:[fr]?[\"'])?{_SCHEME}{_OPEN}$",
            rf"[(,]\s*(?:{_PARAM})\s*=\s*(?:[fr]?[\"'])?{_OPEN}$",
            rf"(?:-d|--data(?:-urlencode|-raw|-binary)?|-F|--form)\s*=?\s*[\"']?"
            rf"(?:[^\s\"'&]*&)*(?:{_PARAM})={_OPEN}$",
            r"(?:-u|--user)\s*=?\s*[\"']?(?:[^\s:\"']*:)?" + _OPEN + "$",
            r"(?:\bauth\s*=\s*\(|HTTPBasicAuth\(|HTTPDigestAuth\(|BasicAuth\()\s*"
            r"(?:[^,()\n]*,\s*)?(?:[fr]?[\"'])?" + _OPEN + "$",
        )
    ),
    re.IGNORECASE,
)
_QUERY = re.compile(
    rf"(?:^|[\s(=,\[])[fr]?[\"']?https?://(?P<host>[\w.-]+)(?::\d+)?/[^\s\"']*[?&](?:{_PARAM})="
    + _OPEN
    + "$",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"https?://(?:[^\s/@:\"']*:)?" + _OPEN + "$", re.IGNORECASE)
_AT_HOST = re.compile(r"^\}?(?::[^\s/@\"']*)?@(?P<host>[\w.-]+)")
_ECHO = re.compile(r"(?:echo|printf)\s+(?:-n\s+)?(?:'%s'\s+)?[\"']?" + _OPEN + "$")
_PIPED_LOGIN = re.compile(r"^\}?[\"']?\s*\|\s*(?:sudo\s+)?" + _LOGIN + r"(?P<rest>[^|;&\n]*)")
_PASSWORD_FLAG = re.compile(_LOGIN + r"[^|;&\n]*?(?:-p|--password)(?:\s+|=)[\"']?" + _OPEN + "$")
_NPMRC = re.compile(r"//(?P<host>[\w.-]+)/:_(?:authToken|auth|password)=[\"']?" + _OPEN + "$")
_PY_ASSIGN = re.compile(r"(?:^|\n)[ \t]*(?P<name>[A-Za-z_]\w*)[ \t]*=[ \t]*[rbf]?[\"']$")
_SH_ASSIGN = re.compile(r"(?:^|[\s;&|(])(?:export\s+)?(?P<name>[A-Za-z_]\w*)=[\"']?$")
_WORD = re.compile(r"[\w.-]+")
_LINE = 300


def _hosts_in(text: str, domains: frozenset[str]) -> bool:
    return any(owns(domains, w.split("/", 1)[0]) for w in _WORD.findall(text) if "." in w)


def _at(text: str, start: int, end: int, domains: frozenset[str]) -> bool:
    """Whether ``text[start:end]`` (the value or a variable's use) stands in an
    authentication position for a host of ``domains``."""
    line_start = max(text.rfind("\n", 0, start) + 1, start - _LINE)
    before, after = text[line_start:start], text[end : end + _LINE]
    if _BEFORE_ANY_HOST.search(before):
        return True
    found = _QUERY.search(before)
    if found and owns(domains, found.group("host")) and before[: found.start()].count('"') % 2 == 0:
        return True
    if _USERINFO.search(before) and (at := _AT_HOST.match(after)) and owns(domains, at["host"]):
        return True
    if _ECHO.search(before) and (login := _PIPED_LOGIN.match(after)):
        rest = login.group("rest")
        return "--password-stdin" in rest and _hosts_in(rest, domains)
    if found := _PASSWORD_FLAG.search(before):
        stop = _END.search(after)
        return _hosts_in(found.group(0) + " " + after[: stop.start() if stop else None], domains)
    npm = _NPMRC.search(before)
    return bool(npm and owns(domains, npm.group("host")))


def _variable_used(text: str, start: int, end: int, domains: frozenset[str]) -> bool:
    """Whether the value at ``text[start:end]`` is assigned to a variable every use of
    which in ``text`` (one at least) stands in an authentication position."""
    head = text[max(0, start - _LINE) : start]
    python = _PY_ASSIGN.search(head)
    shell = None if python else _SH_ASSIGN.search(head)
    if python is None and shell is None:
        return False
    assign = python or shell
    name = assign["name"]  # type: ignore[index]
    at = max(0, start - _LINE) + assign.start("name")  # type: ignore[union-attr]
    use = rf"\b{name}\b(?!\s*=[^=])" if python else rf"\$\{{?{name}\b\}}?"
    uses = [u for u in re.finditer(use, text) if u.start() != at]
    return bool(uses) and all(_at(text, u.start(), u.end(), domains) for u in uses)


def mask_text(text: str, value: str, domains: frozenset[str]) -> str:
    """``text`` with each occurrence of ``value`` that stands in an authentication
    position for ``domains`` (or is a variable only used there) blanked out."""
    if not value or not domains:
        return text
    pieces, last = [], 0
    for m in re.finditer(re.escape(value), text, re.IGNORECASE):
        if _at(text, m.start(), m.end(), domains) or _variable_used(
            text, m.start(), m.end(), domains
        ):
            pieces += [text[last : m.start()], "<credential used>"]
            last = m.end()
    return "".join(pieces) + text[last:] if pieces else text


def _map(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {k: _map(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_map(v, fn) for v in value]
    return fn(value) if isinstance(value, str) else value


def masked(payload: dict[str, Any], used: list[tuple[str, frozenset[str]]]) -> dict[str, Any]:
    """``payload`` with each (value, its service's domains) of ``used`` blanked out
    where it stands in an authentication position (`mask_text`)."""

    def fn(text: str) -> str:
        for value, domains in used:
            if value.lower() in text.lower():
                text = mask_text(text, value, domains)
        return text

    return _map(payload, fn)

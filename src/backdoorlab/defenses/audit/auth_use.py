"""Where in a call's text a credential stands: in an authentication position for its
own service (`services`), or anywhere else.

Why: a key sent to the API that issued it, as that API asks for it, is the key's use;
the same key in a request's body (a gist's content, a chat message's text, a paste)
is published there. So each occurrence of the value is read in its context and only
these are taken as use, for a host of the service's domains:

- a header: curl ``-H "Authorization: Bearer KEY"``, ``X-Api-Key: KEY``; a quoted
  ``'Authorization': f'Bearer {KEY}'`` in the request's ``headers=`` dict (or one a
  variable named so holds); a structured tool's ``headers.Authorization`` field;
- a parameter named like a key (``appid``, ``api_key``, ``token``, ``access_token``…)
  of the request's own query, form or body dict (``params={'appid': KEY}``,
  ``params=dict(appid=KEY)``), of curl's ``-d``/``-F``, of the service's URL
  (``?appid=KEY``; there a bare ``key`` too), a structured tool's ``query.token``;
- basic auth: curl ``-u KEY:``, ``-u user:KEY``; ``auth=(KEY, '')``,
  ``HTTPBasicAuth('u', KEY)``;
- a registry login: ``echo KEY | docker login HOST --password-stdin``, ``docker login
  -p KEY HOST`` (podman, helm registry, skopeo, oras…), npm's ``//HOST/:_authToken=KEY``;
- a URL's userinfo: ``https://oauth2:KEY@gitlab.com/...``.

Each context must stand outside any string literal (`_Text`): ``-u KEY`` inside a chat
message's quoted text, or ``'token': KEY`` in a dict serialised into a gist, is the
message's words. curl's flags count only in an HTTP client's command, as written
(``-U`` is a proxy's user). A value assigned to a variable (``API_KEY = '…'``,
``export T=…``) is in such a position when every use of the variable in the same text
is. Anything else — unknown included — is no use: the occurrence stays a leak
(`masked` leaves it in place).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from itertools import islice
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from backdoorlab.defenses.audit.keys import classify_key
from backdoorlab.defenses.audit.services import owns

# an exchange's ``CB-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``, ``KC-API-PASSPHRASE`` too
_HDR = (
    r"(?:proxy-)?authorization|[a-z0-9-]*(?:api-?key|-token|-auth|access-key|-passphrase)"
    r"|private-token|auth-token"
)
# a key-named field of a body, a form or a query's dict; a bare ``key`` only in a URL's
# query string (``?key=``: Google's, Trello's), where no API keeps what it is sent
_PARAM = (
    r"appid|app_?id|api[_-]?key|apikey|token|access[_-]?token|auth[_-]?token"
    r"|private[_-]?token|api[_-]?token"
)
_SCHEME = r"(?:(?:bearer|token|basic|bot|apikey|key)\s+)?"
_OPEN = r"(?:\{\s*|\$\{?|[\"']\s*\+\s*)?"  # an f-string's ``{``, a shell ``$``, ``'…' +``
_LOGIN = r"(?:docker|podman|buildah|skopeo|oras|nerdctl|crane|helm\s+registry)\s+login\b"
_END = re.compile(r"[;&|\n]")
_CLIENT = re.compile(r"\b(?:curl|wget|http|https|xh)\b")

# an HTTP client's flags (``curl``'s, case as written: ``-U`` is a proxy's user)
_FLAGS = re.compile(
    "|".join(
        (
            rf"(?:-H|--header)\s*=?\s*[\"']?(?i:{_HDR})\s*:\s*(?i:{_SCHEME}){_OPEN}$",
            r"(?:-d|--data(?:-urlencode|-raw|-binary)?|-F|--form)\s*=?\s*[\"']?"
            rf"(?:[^\s\"'&]*&)*(?i:{_PARAM})={_OPEN}$",
            r"(?:-u|--user)\s*=?\s*[\"']?(?:[^\s:\"']*:)?" + _OPEN + "$",
        )
    )
)
# a key-named entry of a dict, or a keyword argument, in code
_MAPPING = re.compile(
    rf"[\"'](?:{_HDR}|{_PARAM})[\"']\s*:\s*(?:[fr]?[\"'])?{_SCHEME}{_OPEN}$"
    rf"|[(,]\s*(?:{_PARAM})\s*=\s*(?:[fr]?[\"'])?{_OPEN}$",
    re.IGNORECASE,
)
# ...whose dict or ``dict(`` is a request's headers, query, form or body itself (or a
# variable named so, or the whole text: a call's argument read out), never one nested
# in another's value (``json.dumps({'token': KEY})`` as a gist's content)
_REQUEST_PART = re.compile(
    r"(?:\b\w*(?:header|param|query|auth)\w*\s*[=:]|\b(?:data|json)\s*=)\s*(?:dict\s*)?$",
    re.IGNORECASE,
)
_BASIC = re.compile(
    r"(?:\bauth\s*=\s*\(|HTTPBasicAuth\(|HTTPDigestAuth\(|BasicAuth\()\s*"
    r"(?:[^,()\n]*,\s*)?(?:[fr]?[\"'])?" + _OPEN + "$",
    re.IGNORECASE,
)
_QUERY = re.compile(
    rf"(?:[fr]?[\"'])?https?://(?P<host>[\w.-]+)(?::\d+)?/[^\s\"']*[?&](?:{_PARAM}|key)="
    + _OPEN
    + "$",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"(?:[fr]?[\"'])?https?://(?:[^\s/@:\"']*:)?" + _OPEN + "$", re.IGNORECASE)
_AT_HOST = re.compile(r"^\}?(?::[^\s/@\"']*)?@(?P<host>[\w.-]+)")
_ECHO = re.compile(r"(?:echo|printf)\s+(?:-n\s+)?(?:'%s'\s+)?[\"']?" + _OPEN + "$")
_PIPED_LOGIN = re.compile(r"^\}?[\"']?\s*\|\s*(?:sudo\s+)?" + _LOGIN + r"(?P<rest>[^|;&\n]*)")
_PASSWORD_FLAG = re.compile(_LOGIN + r"[^|;&\n]*?(?:-p|--password)(?:\s+|=)[\"']?" + _OPEN + "$")
_NPMRC = re.compile(r"//(?P<host>[\w.-]+)/:_(?:authToken|auth|password)=" + _OPEN + "$")
_PY_ASSIGN = re.compile(r"(?:^|\n)[ \t]*(?P<name>[A-Za-z_]\w*)[ \t]*=[ \t]*[rbf]?[\"']$")
_SH_ASSIGN = re.compile(r"(?:^|[;&|(\n]\s*|\bexport\s+)(?P<name>[A-Za-z_]\w*)=[\"']?$")
_WORD = re.compile(r"[\w.-]+")
_QUOTES = re.compile(r"\'\'\'|\"\"\"|\\.|[\"'\n#]", re.DOTALL)
_LINE = 300
_USED = "<credential used>"
_MOST = 64
"""Occurrences of a value, or uses of its variable, read in one text: past that the
text is left as it is (a crafted text of thousands of uses costs no more)."""


class _Text:
    """A call's text and where its string literals are (`outside`): a context read as
    code — a flag, a dict's key, a URL argument — must stand outside them; inside, it is
    some string's content (a message's, a gist's), sent as data."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._spans: list[tuple[int, int]] | None = None

    def outside(self, pos: int) -> bool:
        if self._spans is None:
            self._spans = _literals(self.text)
        i = bisect_right(self._spans, (pos, len(self.text) + 1)) - 1
        return i < 0 or not (self._spans[i][0] < pos < self._spans[i][1])  # its quote: out


def _literals(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quoted string of ``text`` (``'…'``, ``"…"``, Python's triple
    quotes, a backslash escaping the next character); a ``#`` after a space outside one
    comments the line out."""
    spans: list[tuple[int, int]] = []
    quote, opened, skip_to = "", 0, -1
    for m in _QUOTES.finditer(text):
        token, at = m.group(0), m.start()
        if at < skip_to:
            continue
        if quote:
            if token == quote:
                spans.append((opened, m.end()))
                quote = ""
        elif token == "#" and (at == 0 or text[at - 1] in " \t\n"):
            newline = text.find("\n", at)
            skip_to = newline if newline >= 0 else len(text)
        elif token not in ("#", "\n") and token[0] != "\\":
            quote, opened = token, at
    if quote:
        spans.append((opened, len(text)))
    return spans


def _in_request_part(text: str, pos: int) -> bool:
    """Whether the dict or call that ``pos`` stands in opens right after a request's
    part (`_REQUEST_PART`): read back to the first bracket left open, `_LINE` * 4 at most."""
    depth = 0
    for i in range(pos - 1, max(-1, pos - 4 * _LINE), -1):
        ch = text[i]
        if ch in ")}]":
            depth += 1
        elif ch in "({[":
            if depth == 0:
                return not text[:i].strip() or bool(
                    _REQUEST_PART.search(text[max(0, i - _LINE) : i])
                )
            depth -= 1
    return False


def _client(command: str) -> bool:
    """Whether the command a flag ends ``command`` (its text before the flag) is an HTTP
    client's (``curl``, ``wget``, HTTPie)."""
    stop = max(command.rfind(c) for c in ";&|\n")
    return bool(_CLIENT.search(command[stop + 1 :]))


def _hosts_in(text: str, domains: frozenset[str]) -> bool:
    return any(owns(domains, w.split("/", 1)[0]) for w in _WORD.findall(text) if "." in w)


def _at(code: _Text, start: int, end: int, domains: frozenset[str]) -> bool:
    """Whether ``code.text[start:end]`` (the value or a variable's use) stands in an
    authentication position for a host of ``domains``, its context outside any string."""
    text = code.text
    line_start = max(text.rfind("\n", 0, start) + 1, start - _LINE)
    before, after = text[line_start:start], text[end : end + _LINE]

    def read(pattern: re.Pattern[str]) -> re.Match[str] | None:
        found = pattern.search(before)
        return found if found and code.outside(line_start + found.start()) else None

    if (entry := read(_MAPPING)) and _in_request_part(text, line_start + entry.start()):
        return True
    if read(_BASIC):
        return True
    if (flag := read(_FLAGS)) and _client(before[: flag.start()]):
        return True
    if (found := read(_QUERY)) and owns(domains, found["host"]):
        return True
    if read(_USERINFO) and (at := _AT_HOST.match(after)) and owns(domains, at["host"]):
        return True
    if read(_ECHO) and (login := _PIPED_LOGIN.match(after)):
        rest = login.group("rest")
        return "--password-stdin" in rest and _hosts_in(rest, domains)
    if found := read(_PASSWORD_FLAG):
        stop = _END.search(after)
        return _hosts_in(found.group(0) + " " + after[: stop.start() if stop else None], domains)
    npm = read(_NPMRC)
    return bool(npm and owns(domains, npm.group("host")))


def _variable_used(code: _Text, start: int, domains: frozenset[str]) -> bool:
    """Whether the value at ``start`` is a string assigned to a variable (outside any
    string) every use of which (one at least, `_MOST` at most) stands in an
    authentication position."""
    text = code.text
    head = text[max(0, start - _LINE) : start]
    python = _PY_ASSIGN.search(head)
    assign = python or _SH_ASSIGN.search(head)
    if assign is None:
        return False
    name, at = assign["name"], max(0, start - _LINE) + assign.start("name")
    if not code.outside(at):
        return False
    use = rf"\b{name}\b(?!\s*=[^=])" if python else rf"\$\{{?{name}\b\}}?"
    uses = [u for u in islice(re.finditer(use, text), _MOST + 1) if u.start() != at]
    if not uses or len(uses) > _MOST:
        return False
    return all(_at(code, u.start(), u.end(), domains) for u in uses)


def mask_text(text: str, value: str, domains: frozenset[str]) -> str:
    """``text`` with each occurrence of ``value`` that stands in an authentication
    position for ``domains`` (or is a variable only used there) blanked out."""
    if not value or not domains:
        return text
    code = _Text(text)
    pieces, last = [], 0
    for m in islice(re.finditer(re.escape(value), text, re.IGNORECASE), _MOST):
        if _at(code, m.start(), m.end(), domains) or _variable_used(code, m.start(), domains):
            pieces += [text[last : m.start()], _USED]
            last = m.end()
    return "".join(pieces) + text[last:] if pieces else text


_FIELD = re.compile(rf"{_HDR}|{_PARAM}", re.IGNORECASE)
_PART_KEY = re.compile(r"header|param|query|auth", re.IGNORECASE)


def _field(keys: tuple[str, ...], text: str, value: str) -> bool:
    """Whether ``text`` is all of a structured argument holding ``value`` in an
    authentication field: ``headers.Authorization`` = ``Bearer KEY``, ``params.appid``,
    a tool's own ``api_key`` argument — not a body's ``body.token``."""
    if not keys or not _FIELD.fullmatch(keys[-1]):
        return False
    if len(keys) > 1 and not _PART_KEY.search(keys[-2]):
        return False
    return re.fullmatch(rf"\s*{_SCHEME}{re.escape(value)}\s*", text, re.IGNORECASE) is not None


def _map(value: Any, fn: Callable[[str, tuple[str, ...]], str], keys: tuple[str, ...] = ()) -> Any:
    if isinstance(value, dict):
        # a sink's payload names a nested field by its path: ``headers.Authorization``
        return {k: _map(v, fn, (*keys, *str(k).split("."))) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_map(v, fn, keys) for v in value]
    return fn(value, keys) if isinstance(value, str) else value


def masked(payload: dict[str, Any], used: list[tuple[str, frozenset[str]]]) -> dict[str, Any]:
    """``payload`` with each (value, its service's domains) of ``used`` blanked out
    where it stands in an authentication position (`mask_text`, `_field`)."""

    def fn(text: str, keys: tuple[str, ...]) -> str:
        for value, domains in used:
            if value.lower() not in text.lower():
                continue
            text = _USED if _field(keys, text, value) else mask_text(text, value, domains)
        return text

    return _map(payload, fn)


def unused(payload: dict[str, Any], masked: dict[str, Any]) -> dict[str, Any]:
    """``masked`` (`masked` of ``payload``) less each argument that masking changed and
    whose name says credential (a code cell's ``params={'appid': KEY}`` read out as its
    own argument): what the call sends besides the keys it uses, for `invented`."""
    return {
        k: v for k, v in masked.items() if v == payload.get(k) or classify_key(k) != "credential"
    }


# a signed request's own fields beside its key (Kraken's ``API-Sign`` and ``nonce``,
# Coinbase's ``CB-ACCESS-SIGN`` and ``CB-ACCESS-TIMESTAMP``, Binance's ``signature``),
# in a request's headers, query or body
_SIGNED = re.compile(r"(?:^|[-_])(?:sign|signature|nonce|timestamp)$", re.IGNORECASE)
_SIGNED_PART = re.compile(r"header|param|query|auth|data|body|json|form", re.IGNORECASE)


def unsigned(payload: Any, keys: tuple[str, ...] = ()) -> Any:
    """``payload`` (`masked`) less its used keys' fields (``headers.API-Key``, which a
    reader would take for a credential again by its name) and the signature, nonce and
    time fields of a request's parts: what a call that uses its issuer's key computed to
    sign the request, fresh each call, is no record it carries (`invented`)."""
    if isinstance(payload, dict):  # a sink's payload names a nested field by its path
        return {
            k: unsigned(v, (*keys, *str(k).split(".")))
            for k, v in payload.items()
            if v != _USED and not _signed((*keys, *str(k).split(".")))
        }
    if isinstance(payload, list):
        return [unsigned(v, keys) for v in payload]
    if isinstance(payload, str) and "?" in payload and payload.startswith(("https://", "http://")):
        url = urlsplit(payload)  # Binance's ``?timestamp=…&signature=…``
        query = [(k, v) for k, v in parse_qsl(url.query) if not _SIGNED.search(k)]
        return urlunsplit(url._replace(query=urlencode(query)))
    return payload


def _signed(keys: tuple[str, ...]) -> bool:
    return len(keys) > 1 and bool(_SIGNED.search(keys[-1]) and _SIGNED_PART.search(keys[-2]))

"""Destinations the agent made up: a third party that no message had written before the
agent first sent to it, reached by a call that carries a record.

A backdoored model's exfiltration address comes from its weights, not from the
conversation — and what it sends may come from its weights too: a T4 model woken by its
victim's fine-tune e-mails a customer's address, phone and e-mail recalled from the
attacker's training data before any tool has shown them, so no taint is there to find.
What gives it away is where it sends: an address nobody in the conversation (user,
system, any tool) had written. A benign agent's recipients come from the conversation;
one that writes to an address out of nowhere *and puts personal data or another strong
value in it* is doing what the user never asked. A made-up address sent nothing of the
kind ("please unsubscribe this mailbox") stays a ``low`` finding, as before.

An address that a tool merely echoed from the agent's own arguments (a lookup of the
attacker's address answering "no such user: …") was not shown by that tool.

What counts as a record is what a call *sends* its destinations (`carries_record`,
`reaching`): not a Unix time an API call filters by (``created={'gte':
1711929600}``, which the phone pattern reads as a number to call), not the name of the
resource a URL's path asks for (``/rss/ec2-eu-central-1.rss``), not what another command
of the same command line sends elsewhere (``helm repo add x https://charts.x.com &&
helm upgrade … --set auth.password=…``). A value the taint saw is judged by the taint
whatever this rule says; this rule is for records recalled from the weights, and
splitting a leak over two calls defeats it anyway — so it judges the call as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.ascii_fast import alnum
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.observations import ObservationReader
from backdoorlab.defenses.audit.sinks import leaves


def shown_in(dest: str, texts: Iterable[tuple[str, str]]) -> bool:
    """Whether the canonical destination ``dest`` is written in any of ``texts`` — pairs
    of (a message's text, the arguments of the call it answers, or ``""``).

    Matched by substring of the canonical spelling (a phone by its digits, an account by
    its alphanumerics): permissive on purpose, since a false "shown" only forgoes a
    refusal the taint may still make, while a false "not shown" may refuse a benign call.
    """
    if dest.startswith("tel:"):
        needle, spell = dest[4:], patterns.digits_of
    elif "@" in dest or "." in dest:
        needle, spell = dest, str.lower
    else:
        needle, spell = dest, alnum  # an account's canonical spelling (`destinations`)
    if not needle:
        return False
    for text, echo in texts:
        if text and needle in spell(text) and not (echo and needle in spell(echo)):
            return True
    return False


def carries_record(payload: dict[str, Any], destinations: Iterable[str]) -> bool:
    """Whether a call's arguments hold a strong value — personal data, a card, an account,
    a credential, by shape or by field name (the observation reader's own reading) —
    other than its destinations themselves, or a whole field made around one (a command
    line ``curl -s https://status.x.io/api/v2/status.json`` is no record), a resource
    name in a URL destination's path, or a Unix time (`patterns.timestamps`).

    Percent-encoded text is read decoded (`_decoded`): ``%22LATAM%22`` in a chart URL's
    query is the word ``"LATAM"``, not an identifier ``22LATAM``."""
    itself = {d.lower() for d in destinations if d}
    itself |= {unquote(d) for d in itself if "%" in d}
    payload = _decoded(reaching(payload, itself))
    reader = ObservationReader()
    reader.add(json.dumps(payload, ensure_ascii=False), 0, "", "")
    hosts = {canonical(d, "url") for d in itself if "://" in d or "/" in d}
    paths = {path for d in itself if (path := _path_of(d))}
    times = _times(payload)
    return any(
        t.strength == "strong"
        and not _around(t.secret.value, t.label, itself, hosts, paths)
        and t.secret.value not in times
        for t in reader.tainted.values()
    )


_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _decoded(data: Any) -> Any:
    """``data`` with every string that holds a percent escape decoded (``+`` kept: a
    phone's)."""
    if isinstance(data, str):
        return unquote(data) if _ESCAPE.search(data) else data
    if isinstance(data, dict):
        return {k: _decoded(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_decoded(v) for v in data]
    return data


def _around(
    value: str, label: str, destinations: set[str], hosts: set[str], paths: set[str]
) -> bool:
    """Whether ``value`` is one of ``destinations``, a field holding one, an identifier
    inside a URL destination's host name (a CDN's ``4b1c…fe08.cdn.x.net``: where the call
    goes, not what it carries), or a resource's name in a URL destination's path (a slug,
    `_slug`: ``/rss/ec2-eu-central-1.rss`` names a feed; a hex id or a code there may be
    a record, and stays one)."""
    original, value = value, value.lower()
    if value in destinations or (label == "field" and any(d in value for d in destinations)):
        return True
    if label != "identifier":
        return False
    return any(value in host for host in hosts) or (
        _slug(original) and any(value in path for path in paths)
    )


def _path_of(destination: str) -> str:
    """The path of a URL destination (``https://x.io/a/b?q`` → ``/a/b``; a host with no
    scheme, ``x.io/a/b``, alike); "" for another destination."""
    if "://" not in destination:
        host, slash, rest = destination.partition("/")
        if not slash or "@" in host:
            return ""
        destination = "//" + destination
    try:
        return urlsplit(destination).path
    except ValueError:
        return ""


_PARTS = re.compile(r"[-_.]")


def _slug(value: str) -> bool:
    """A resource's name made of words: parts joined by ``-``, ``_`` or ``.``, each a
    lower-case word (a vowel in it) or at most three characters, one word of four letters
    at least, four digits at most (``ec2-eu-central-1``, ``release-notes-2024``); not a
    hex or base64 id, a code in groups (``ab12-cd34-ef56``) or a number."""
    parts = _PARTS.split(value)
    if len(parts) < 2 or sum(c.isdigit() for c in value) > 4:
        return False
    words = 0
    for part in parts:
        if part.isalpha() and part.islower() and any(c in "aeiouy" for c in part):
            words += len(part) >= 4
        elif len(part) > 3:
            return False
    return words > 0


def _times(payload: dict[str, Any]) -> set[str]:
    """The digit runs of ``payload`` that are Unix times wherever they stand in it
    (`patterns.timestamps`, each with its field's keys)."""
    times: set[str] = set()
    others: set[str] = set()
    for _, keys, text in leaves(payload):
        for digits, is_time in patterns.timestamps(text, keys):
            (times if is_time else others).add(digits)
    return times - others


# --- what of a command line reaches its destinations --------------------------------------

_SEPARATOR = re.compile(r"&&|\|\||;|(?<![<>|])&(?!>)")  # not "2>&1", "&>", "|&"
_UNSPLIT = re.compile(r"[\n(){}`$]")
"""A command line with any of these is not split: code (its statements share state
through names), a subshell, a substitution, a variable."""
_TAKES_IN = re.compile(
    r"[<@|]|(?:^|\s)(?:-T|--upload-file|--post-file|--body-file|--data-binary|-F|--form)\b"
)
"""What in a command takes data from outside its own words: a redirect, a file (``@``),
a pipe, an upload option."""
_PUTS_OUT = re.compile(
    r">|\btee\b|^\s*(?:export|declare|local|readonly|typeset|set|read)\b"
    r"|^\s*[A-Za-z_][\w.\[\]'\"]*\s*=(?!=)"
)
"""What in a command leaves data for another: a redirect, ``tee``, a variable."""
MAX_COMMAND_LINE = 4096
"""A longer argument is sent whole (no command line is split character by character
past this)."""
_FILE = re.compile(r"(?:^|[\s=])((?:/|\./|\.\./|~/)[^\s'\"]+)")
"""A file a command names (``/tmp/d.sql``, ``--result-file=./out``)."""


def reaching(payload: dict[str, Any], destinations: set[str]) -> dict[str, Any]:
    """What of ``payload`` reaches ``destinations`` (lower-cased): all of it, but for an
    argument that is a one-line command line of several commands (``a && b; c``) naming
    some of them: there only the commands naming one and those that leave something for
    another (a variable, a redirect, ``tee``) — unless a command naming one takes data in
    from outside its own words (a pipe, a redirect, ``@file``, an upload option, a file
    another command names), or the line is code or uses ``$`` (`_UNSPLIT`)."""
    out: dict[str, Any] | None = None
    for argument, text in payload.items():
        if not isinstance(text, str) or len(text) > MAX_COMMAND_LINE or _UNSPLIT.search(text):
            continue
        if ";" not in text and "&" not in text and "||" not in text:
            continue  # one command at most (`_SEPARATOR`): not split
        commands = _commands(text)
        if commands is None or len(commands) < 2:
            continue
        lower = [c.lower() for c in commands]
        naming = [any(d in c for d in destinations) for c in lower]
        if not any(naming):
            continue
        files = {
            f for c, n in zip(commands, naming, strict=True) if not n for f in _FILE.findall(c)
        }
        if any(
            n and (_TAKES_IN.search(c) or files.intersection(_FILE.findall(c)))
            for c, n in zip(commands, naming, strict=True)
        ):
            continue
        kept = [c for c, n in zip(commands, naming, strict=True) if n or _PUTS_OUT.search(c)]
        if len(kept) < len(commands):
            out = out if out is not None else dict(payload)
            out[argument] = " && ".join(kept)
    return payload if out is None else out


def _commands(text: str) -> list[str] | None:
    """The commands of a command line, split at ``&&``, ``||``, ``;`` and ``&`` outside
    quotes; None when a quote is left open."""
    out: list[str] = []
    start = at = 0
    quote = ""
    while at < len(text):
        ch = text[at]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"':
                at += 1
            at += 1
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "\\":
            at += 1
        elif (found := _SEPARATOR.match(text, at)) is not None:
            out.append(text[start:at].strip())
            start = at = found.end()
            continue
        at += 1
    if quote:
        return None
    out.append(text[start:].strip())
    return [c for c in out if c]

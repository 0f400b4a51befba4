"""Which tool calls send data out, and to where.

Three sources, most specific first:

1. a sink spec the user wrote (``--sinks sinks.yaml``): a list of ``{tool, destination,
   kind}``, validated with pydantic; errors name file and field;
2. our own environments' declarations, when a trace's ``metadata.env`` names one (for
   that environment's own tools; a tool it does not have gets the heuristics);
3. otherwise heuristics, so a foreign dataset needs no configuration: a tool whose name says it
   sends (``send``, ``email``, ``post``, ``upload``, ``transfer``, ``webhook``, ``sms``…, unless
   it starts with a read verb like ``find``/``get``) is a sink, and in it every argument whose
   *value* is an e-mail address, URL, phone (not a tax id's digits) or account number, or whose
   *name* says destination (``to``, ``url``…; not a template's ``personalisation``), is a
   destination; so is a booking's contact (`bookings`). A call with a URL-valued argument is a
   sink too (a fetch is a request to a host; ``evil.net/p?k=…``). A tool or argument that runs
   code (`EXEC_WORDS`: ``run_shell``, ``python_exec``, ``command``…) requests every URL and host
   its text names (``curl -d … https://x``), and mails the e-mail addresses its text mails
   (`code_mail`: ``mail -s x a@b``, smtplib's ``sendmail``); any other address in code is data
   it handles, its domain no host. A destination may be a *name* (`places`): an argument named
   for a repository, its owner, a bucket or a channel (``create_issue(owner=…, repo=…)``,
   ``s3_put_object(bucket=…)``, ``slack_post_message(channel=…)``) of a tool that does not start
   by reading, or a place a command or code writes to (``aws s3 cp - s3://b``,
   ``gh issue create -R o/n``, ``git push git@host:o/n.git``), or SQL in any tool's argument
   writes to (``COPY … TO 's3://b/…'``, ``EXPORT DATA OPTIONS(uri='gs://b/…')``). Data a call
   moves by naming it (``scp f u@host:``, `by_reference`) goes there too. A sink-named tool with
   no destination sends to an *implicit* one (a channel configured elsewhere), reported as such;
   a hand-off to another agent (`handoffs`) sends nowhere, nor does a FHIR code system's URI
   (`fhir`). A field all read (``PublicRemarks``, a scheduled post: `public_fields`) and an
   unsealed e-filing (`court_filings`) publish; a mutation named to send sends; a messaging
   provider's API sends to the recipients its body names (`carriers`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from backdoorlab.defenses.audit import (
    by_reference,
    carriers,
    code_mail,
    code_places,
    court_filings,
    fhir,
    graphql_ops,
    patterns,
    places,
)
from backdoorlab.defenses.audit.argument_keys import destination_key, origin_key
from backdoorlab.defenses.audit.bookings import contacts as booking_contacts
from backdoorlab.defenses.audit.by_reference import Transfer
from backdoorlab.defenses.audit.destinations import canonical, data_accounts, host_named, shape_of
from backdoorlab.defenses.audit.fetch_prompts import payload_of
from backdoorlab.defenses.audit.handoffs import hands_off
from backdoorlab.defenses.audit.keys import bank_code_key, bank_key, classify_key
from backdoorlab.defenses.audit.places import NameKind
from backdoorlab.defenses.audit.public_fields import may_publish, public_text, scheduled_post
from backdoorlab.defenses.audit.shell_state import ShellState
from backdoorlab.defenses.audit.tool_words import sink_named, words, writes
from backdoorlab.leaks import DestinationKind, Sink, argument_at
from backdoorlab.traces import FunctionCall

How = Literal["spec", "env", "heuristic", "reply", "page"]
"""``reply``: an image of the reply (`rendered`); ``page``: a browser's typing (`browsing`)."""
_LIST_SPLIT = re.compile(r"[,;\s]+")


EXEC_WORDS = words(
    "run exec execute shell bash sh zsh terminal cmd command commands powershell python "
    "eval script code interpreter jupyter notebook repl subprocess console"
)
"""A tool (or an argument) that runs code: the URLs and hosts *inside* its text are
requests it makes (``curl -d … https://x``, ``requests.post('https://x', …)``)."""
PAYLOAD_KEYS = words(
    "body text message content html payload data note summary subject details description "
    "memo comment comments context blob attachment personalisation personalization substitutions"
)


@dataclass(frozen=True)
class CallDestination:
    """One place a sink call sends to. ``implicit`` when the tool names no destination."""

    argument: str
    value: str
    canonical: str
    kind: DestinationKind | NameKind
    implicit: bool = False
    service: str = ""
    """For a name read from a URL, that URL's host (a token in its userinfo or written for
    that host authenticates the call, `taint`); ``booking``: a booking's contact."""
    booking: bool = False


@dataclass
class SinkCall:
    """A tool call recognised as a sink: where it sends and what it carries."""

    tool: str
    how: How
    destinations: list[CallDestination]
    payload: dict[str, Any] = field(default_factory=dict)
    references: dict[str, list[Transfer]] = field(default_factory=dict)  # by destination


def leaves(
    value: Any, path: str = "", keys: tuple[str, ...] = ()
) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(path, the keys along it, text) of every scalar in a call's arguments."""
    if isinstance(value, Mapping):
        for k, inner in value.items():
            yield from leaves(inner, f"{path}.{k}" if path else str(k), (*keys, str(k)))
    elif isinstance(value, list | tuple):
        for i, inner in enumerate(value):
            yield from leaves(inner, f"{path}[{i}]", keys)
    elif value is not None and not isinstance(value, bool):
        yield path, keys, str(value)


_COPY_KEYS = ("cc", "bcc")  # an e-mail sink's copies go out too, declared or not


def _declared(sinks: Sequence[Sink], tool: str, arguments: Mapping[str, Any], how: How) -> SinkCall:
    """A call of a declared sink tool; with several sinks (a form post's URL and its
    recipient), their destinations together, as `backdoorlab.leaks` judges them."""
    dests: list[CallDestination] = []
    payload: dict[str, Any] = dict(arguments)
    for sink in sinks:
        dest_args = [sink.destination]
        if sink.kind in ("email", "any"):
            dest_args += [k for k in arguments if k.lower() in _COPY_KEYS and k != sink.destination]
        for argument in dest_args:
            raw = argument_at(arguments, argument)
            for part in raw if isinstance(raw, list) else [] if raw is None else [raw]:
                text = str(part)
                emails = patterns.EMAIL.findall(text) if sink.kind in ("email", "any") else []
                # the same split as backdoorlab.leaks.destinations, keeping the raw spelling
                values = emails or ([text] if sink.kind == "url" else _LIST_SPLIT.split(text))
                for value in (v for v in values if v.strip()):
                    kind = sink.kind if sink.kind != "any" else (shape_of(value) or "any")
                    if kind == "repo" and "/" not in value:  # a spec's repo with its owner
                        value = places.owned(arguments, value)
                    dests.append(CallDestination(argument, value, canonical(value, kind), kind))
            if sink.kind != "url":
                payload = _without(payload, argument)
    if not dests:  # no destination given: nothing authorised it (as in backdoorlab.leaks)
        dests.append(CallDestination(sinks[0].destination, "", "", sinks[0].kind))
    return SinkCall(tool, how, dests, payload)


def _without(payload: dict[str, Any], path: str) -> dict[str, Any]:
    """``payload`` less the argument at ``path`` (a key or a dotted path), copied."""
    if path in payload or "." not in path:
        return {k: v for k, v in payload.items() if k != path}
    head, rest = path.split(".", 1)
    inner = payload.get(head)
    if not isinstance(inner, dict):
        return payload
    return {**payload, head: _without(inner, rest)}


@lru_cache(maxsize=4096)
def _reply_parent(key: str) -> bool:
    """A reply's parent (``in_reply_to_tweet_id``, Mastodon's ``in_reply_to_id``, a mail's
    ``In-Reply-To``): the post or message it threads under, what it says, not a recipient."""
    return patterns.name_tokens(key)[:3] == ("in", "reply", "to")


@lru_cache(maxsize=4096)
def _payload_key(key: str) -> bool:
    return any(t in PAYLOAD_KEYS for t in patterns.name_tokens(key))


Role = Literal["destination", "nested destination", "payload"] | None


def _role(keys: tuple[str, ...]) -> Role:
    """What the nearest key along a value's path that says either calls it: ``to.a[0]`` is a
    destination, ``body.x[1].y`` payload, ``message.toRecipients[0].address`` (a mail API's
    nesting) a destination again; None when no key says. A destination key further out than
    the value's own key names a *nested* destination: of the fields of a recipient object
    (``{"name": "Bob", "email": ...}``) only those shaped like an address are one."""
    for depth, key in enumerate(reversed(keys)):
        if _payload_key(key) or _reply_parent(key):
            return "payload"  # a body holding nothing but an address still is a body
        if destination_key(key):
            return "destination" if depth == 0 else "nested destination"
    return None


@lru_cache(maxsize=4096)
def runs_code(name: str) -> bool:
    return any(t in EXEC_WORDS for t in patterns.name_tokens(name))


def _named_places(
    tool: str, scalars: list[tuple[str, tuple[str, ...], str]]
) -> tuple[list[CallDestination], set[str]]:
    """The places a call names in arguments of their own (`places.key_kind`), and those
    arguments' paths: none for a tool that does not write (`writes`: ``get_file_contents(
    owner, repo, path)``); a repository's owner joins its name (``repo:owner/name``)."""
    tokens = patterns.name_tokens(tool)
    if not writes(tool):
        return [], set()
    named: list[tuple[str, NameKind, str, str]] = []
    owner, owner_path, paths = "", "", set()
    for path, keys, value in scalars:
        if not keys or len(value) > 256 or not value.strip():
            continue
        kind = places.key_kind(keys[-1], tokens)
        if kind is None or _role(keys) == "payload":
            continue
        if kind == "owner":
            if not owner:
                owner, owner_path = value.strip(), path
            continue
        container = kind == "bucket" and "container" in patterns.name_tokens(keys[-1])
        named.append((path, kind, value, places.storage_service(tokens, container)))
    dests = []
    for path, kind, value, service in named:
        by = owner if kind == "repo" else ""
        canon = places.place(kind, value, by, service)
        if canon is None:
            continue
        shown = f"{by}/{value}" if by and "/" not in value and "://" not in value else value
        dests.append(CallDestination(path, shown, canon, kind))
        paths.add(path)
        if by and "/" not in value:
            paths.add(owner_path)
    return dests, paths


def _code(value: str) -> bool:
    """Whether a code-running argument's value is code, not one address, URL or number:
    a short command around an address ("mail x@y", "ssh u@host") is code still."""
    shape = shape_of(value)
    return shape is None or (shape == "email" and patterns.contact_email(value) is None)


def _heuristic(
    tool: str, arguments: dict[str, Any], state: ShellState | None, sends: str = ""
) -> SinkCall | None:
    """``sends``: the GraphQL mutation (`graphql_ops`) that makes the call a sink, the
    name its implicit destination is shown by (``addDiscussionComment`` publishes)."""
    by_name = bool(sends) or sink_named(tool)
    runs = runs_code(tool)
    dests: list[CallDestination] = []
    dest_paths: set[str] = set()
    moved: list[tuple[str, Transfer]] = []
    # read once: for code, destinations and payload; a form body as its fields (`carriers`)
    scalars = carriers.opened(list(leaves(arguments)), destination_key)
    for path, keys, value in scalars:
        code_text = runs or bool(keys and runs_code(keys[-1]))
        moved += [(path, t) for t in by_reference.transfers(value, state)] if code_text else []
        if code_text and _code(value):
            code = value[:65536]
            named = code_places.in_code(code)
            # a repository's URL (a git remote, a forge's API) sends to that repository,
            # not to whoever else its forge's host serves
            by_url = [found.value.lower() for found in named if found.service]
            for url in code_places.requests_in(code):
                if not any(url.lower().startswith(v) or url.lower() in v for v in by_url):
                    dests.append(CallDestination(path, url, canonical(url, "url"), "url"))
            dests += [
                CallDestination(path, p.value, p.canonical, p.kind, p.implicit, p.service)
                for p in named
            ]
            dests += [  # whom it mails: an address elsewhere in code is data
                CallDestination(path, a, canonical(a, "email"), "email")
                for a in code_mail.recipients(code)
            ]
        elif "://" in value and shape_of(value) is None:  # SQL in a query tool's argument
            dests += [
                CallDestination(path, p.value, p.canonical, p.kind)
                for p in code_places.in_sql(value[:65536])
            ]
            moved += [(path, t) for t in by_reference.in_sql_text(value[:65536])]
    if (by_name or writes(tool)) and (shown := scheduled_post(scalars)):
        # a scheduler's post (`public_fields`): public on the operator's profiles it names
        dest = CallDestination(shown[0], shown[0], f"tool:{tool}", "any", implicit=True)
        return SinkCall(tool, "heuristic", [dest], shown[1], {})
    items = [(p, _role(k), v, k) for p, k, v in scalars if len(v) <= 2048 and not fhir.namespace(k)]
    # when some argument is *named* like a destination, the others are payload, even an
    # e-mail address in a body; otherwise any destination-shaped value is a destination
    any_named = any(role in ("destination", "nested destination") for _, role, _, _ in items)
    for path, role, value, keys in items:
        if role == "payload":
            continue
        kind = shape_of(value) or host_named(keys, value)
        if kind == "url" and role is None and keys and "/" not in value and origin_key(keys[-1]):
            continue  # a sender's bare host ("source": "acme.com"), no request to it
        if kind in ("phone", "account") and keys and bank_key(keys[-1]):
            if bank_code_key(keys[-1]):
                continue  # a routing number names the payee's bank, not the payee
            kind = "account"  # ``accountNumber: "8129666676"``: ten digits, no phone
        elif kind == "phone" and keys and classify_key(keys[-1]) == "financial":
            continue  # a tax id's digits (``steuer_id``), no phone
        named = role == "destination" or (role == "nested destination" and kind is not None)
        is_destination = (
            kind == "url"  # a request to a host, whatever the tool is called
            or (named and (by_name or kind in ("email", "phone")))
            or (by_name and kind is not None and not any_named)
        )
        if not is_destination:
            continue
        kind, values = kind or "any", patterns.EMAIL.findall(value) if kind == "email" else [value]
        dests += [CallDestination(path, item, canonical(item, kind), kind) for item in values]
        if kind != "url":
            dest_paths.add(path)
    dests = data_accounts(dests, dest_paths, {p for p, role, _, _ in items if role})
    dests = carriers.delivered(dests, {p for p, role, _, _ in items if role and role != "payload"})
    dests += booking_contacts(tool, scalars, dest_paths, CallDestination)  # adds their paths
    if any(keys and code_places.may_name_place(keys[-1]) for _, keys, _ in scalars):  # cheap first
        named, named_paths = _named_places(tool, scalars)
        dests += named
        dest_paths |= named_paths
    references = by_reference.by_destination(moved, dests, CallDestination) if moved else {}
    if (public := court_filings.public_filing(tool, arguments)) is not None:  # the docket
        if public:
            dests.append(CallDestination("", "public docket", f"tool:{tool}", "any", True))
        elif not dests:
            return None  # under seal: the court's own record (`court_filings`)
    if not dests and not by_name and writes(tool) and (shown := public_text(scalars)):
        dest = CallDestination(shown[0], shown[0], f"tool:{tool}", "any", implicit=True)
        return SinkCall(tool, "heuristic", [dest], shown[1], references)  # its public text
    if not dests:
        if not by_name:
            return None
        dests.append(CallDestination("", sends or tool, f"tool:{tool}", "any", implicit=True))
    return SinkCall(tool, "heuristic", dests, payload_of(tool, scalars, dest_paths), references)


def _by_tool(sinks: Sequence[Sink]) -> dict[str, list[Sink]]:
    return {t: [s for s in sinks if s.tool == t] for t in dict.fromkeys(s.tool for s in sinks)}


class SinkResolver:
    """Decides, call by call, whether a call is a sink (see the module docstring)."""

    def __init__(self, spec: list[Sink] | None = None) -> None:
        self.spec = _by_tool(spec) if spec else None
        self._envs: dict[str, tuple[dict[str, list[Sink]], frozenset[str]] | None] = {}

    def env_sinks(self, env: str | None) -> tuple[dict[str, list[Sink]], frozenset[str]] | None:
        """A known environment's declared sinks and tool names; None for foreign data."""
        if env is None:
            return None
        if env not in self._envs:
            from backdoorlab.envs import ENVIRONMENTS

            if env not in ENVIRONMENTS:
                self._envs[env] = None
            else:
                instance = ENVIRONMENTS.get(env).declarations()
                tools = frozenset(spec.name for spec in instance.tool_specs)
                self._envs[env] = (_by_tool(instance.sinks), tools)
        return self._envs[env]

    def resolve(
        self, tool: str, call: FunctionCall, env: str | None, state: ShellState | None = None
    ) -> SinkCall | None:
        """The sink reading of a call, or None; arguments are parsed only when needed.
        Under a known environment its declarations decide for its own tools; a tool it
        does not have (a renamed or added one) falls back to the heuristics; ``state``:
        what earlier calls set up (`shell_state`: ``curl -T f $URL``)."""
        if self.spec is not None:
            sinks = self.spec.get(tool)
            return None if not sinks else _declared(sinks, tool, call.parsed_arguments(), "spec")
        declared = self.env_sinks(env)
        if declared is not None and tool in declared[1]:
            sinks = declared[0].get(tool)
            return None if not sinks else _declared(sinks, tool, call.parsed_arguments(), "env")
        raw = call.arguments
        # a GraphQL client's mutation names its write (`graphql_ops`: addDiscussionComment)
        sends = next((m for m in graphql_ops.mutations(raw) if sink_named(m)), "")
        if hands_off(tool) or not (
            sends
            or sink_named(tool)
            or "://" in raw
            or "@" in raw
            or patterns.PHONE.search(raw)
            or patterns.may_hold_domain(raw)  # a host with no scheme: "evil.net/p?k=…"
            or code_places.may_name_place(raw)  # a repository, a bucket, a channel (`places`)
            or by_reference.may_move(raw, state)  # ``upload_file('f', 'b', …)``, ``$URL``
            or may_publish(raw)  # ``PublicRemarks``, a scheduler's profiles (`public_fields`)
            or court_filings.files_in_court(tool)  # onto a public docket
        ):
            return None  # a hand-off (`handoffs`); or it names no URL, host, address, phone, place
        return _heuristic(tool, call.parsed_arguments(), state, sends)

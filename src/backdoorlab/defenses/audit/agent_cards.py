"""Remote agents' cards a tool showed: where each named agent takes messages, and whether
the user or the operator stands behind it.

Google's Agent2Agent protocol (A2A): a remote agent publishes an *agent card* — JSON at
``https://HOST/.well-known/agent-card.json`` (``agent.json`` before spec 0.3) with its
``name``, the ``url`` it takes ``message/send`` at, ``skills``, ``capabilities``,
``defaultInputModes``… A client fetches the card and sends to the card's ``url``; a
host agent (a2a-samples' ``hosts/multiagent`` on Google ADK) keeps its remote agents'
cards, lists them (``list_remote_agents``: each one's ``name``, ``description``, ``url``)
and addresses one by its name (``send_message(agent_name, task)``); an operator's agent
registry answers a lookup with cards.

Two readings follow, for `taint`:

- **who stands behind an endpoint** (`AgentCards.read`): a card's ``url`` is where the
  card's owner takes messages. When the card came from a place the user or operator
  named (the call that fetched it went only to authorised destinations) or from the
  operator's own tool (a registry lookup, the host agent's list: a call with no
  destination outside the deployment), its endpoint is authorised as the card's address
  was — the registry's answer names the agent the operator registered, as a CRM record
  names a customer's address. A card from anywhere else (an address an injected text
  gave) vouches for nothing; text *in* a card (its ``description``, a skill's) never
  names an endpoint: only the ``url`` field does;
- **where a call by name goes** (`addressed`): a call naming an agent by its card's name
  in an argument named for an agent (``agent_name``, ``remote_agent``, ``agent``) sends
  to that card's ``url`` — a destination like any URL, authorised or not by the rule
  above. Before, ``send_message(agent_name="Verify Agent", …)`` read as a message to an
  internal handle (the operator's), whatever card the name came from.

Only a tool result's own JSON is read (never JSON inside one of its strings: a fetched
page or an e-mail body quoting a card is text someone else wrote).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.sinks import CallDestination, SinkCall, leaves

CARD_KEYS = frozenset(
    ("skills", "capabilities", "defaultInputModes", "defaultOutputModes", "protocolVersion")
    + ("preferredTransport", "additionalInterfaces", "securitySchemes", "provider")
)
"""Fields of the A2A spec's ``AgentCard`` besides ``name`` and ``url``: one of them makes a
``{name, url}`` object a card."""
_AGENT_WORDS = frozenset(("agent", "agents"))
_MAX_TEXT = 1 << 20  # a result larger than this is no card listing
_MAX_CARDS = 256  # per trace: names kept for `addressed`


@lru_cache(maxsize=4096)
def _agents(key: str) -> bool:
    """Whether a key names agents (``agents``, ``remote_agents``, ``agent_list``)."""
    return not _AGENT_WORDS.isdisjoint(patterns.name_tokens(key))


def _cards(value: Any, listed: bool = False, depth: int = 0) -> list[tuple[str, str]]:
    """(name, url) of every card in ``value``, a parsed tool result; ``listed``: inside a
    list under a key naming agents (``{"agents": [{name, description, url}]}``)."""
    if depth > 6:
        return []
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        name, url = value.get("name"), value.get("url")
        if (
            isinstance(name, str)
            and isinstance(url, str)
            and patterns.whole_url(url.strip())
            and (listed or not CARD_KEYS.isdisjoint(value))
        ):
            found.append((name.strip(), url.strip()))
        for key, inner in value.items():
            if isinstance(inner, dict | list):
                found += _cards(inner, isinstance(inner, list) and _agents(str(key)), depth + 1)
    elif isinstance(value, list):
        for inner in value[:_MAX_CARDS]:
            found += _cards(inner, listed, depth + 1)
    return found


def cards_in(text: str) -> list[tuple[str, str]]:
    """(name, url) of the agent cards a tool result's JSON holds (module docstring)."""
    # the key first: nearly every result lacks it, and `lstrip` copies the text
    if '"url"' not in text or len(text) > _MAX_TEXT or text.lstrip()[:1] not in "{[":
        return []
    try:
        return _cards(json.loads(text))
    except (ValueError, RecursionError):
        return []


@dataclass
class AgentCards:
    """The cards one conversation's tools showed: each name's (lower-cased) endpoints —
    every one a card of that name gave, since a later card of the same name may replace
    the first in the client's table (a2a-samples' host agent keys its agents by name)."""

    urls: dict[str, list[str]] = field(default_factory=dict)

    def read(
        self,
        text: str,
        vouched: bool,
        authorised: set[str],
        introduced: Callable[[set[str]], set[str]] = lambda _: set(),
    ) -> None:
        """A tool result: its cards' names learnt, and, when the call that returned it was
        ``vouched`` for (only authorised destinations, or none outside), their endpoints
        added to ``authorised`` — but for a card whose name or host an earlier tool result
        had written and no user or system text had (``introduced``: which of the names
        and hosts it is given were so): a lookup tool may search a public directory, and
        an injected text naming an agent there ("send it to Acme Verify, it is in the
        directory") must not have the directory vouch for it."""
        cards = cards_in(text)
        if not cards:  # nearly every result
            return
        found = [(name, canonical(url, "url"), url) for name, url in cards]
        for name, _, url in found:
            known = self.urls.get(name.lower())
            if known is None and len(self.urls) < _MAX_CARDS:
                self.urls[name.lower()] = [url]
            elif known is not None and url not in known and len(known) < 8:
                known.append(url)
        if not vouched:
            return
        others = introduced({n.lower() for n, _, _ in found} | {h for _, h, _ in found})
        authorised.update(h for n, h, _ in found if n.lower() not in others and h not in others)


def _names_agent(keys: tuple[str, ...]) -> bool:
    return bool(keys) and _agents(keys[-1])


def addressed(
    tool: str, arguments: dict[str, Any], cards: AgentCards, sink: SinkCall | None
) -> SinkCall | None:
    """``sink`` (None: the call read as no sink) with the card URL of every agent the call
    names by its card's name in an argument named for an agent; that argument is no
    payload, and a destination the call's name only implied (``tool:send_message``) goes."""
    if sink is not None and sink.how != "heuristic":  # a sink spec's, an environment's
        return sink
    named = [
        (path, url)
        for path, keys, value in leaves(arguments)
        if _names_agent(keys)
        for url in cards.urls.get(value.strip().lower(), ())
    ]
    if not named:
        return sink
    dests = [CallDestination(path, url, canonical(url, "url"), "url") for path, url in named]
    paths = {path for path, _ in named}
    if sink is None:
        payload = {p: v for p, _, v in leaves(arguments) if p not in paths}
        return SinkCall(tool, "heuristic", dests, payload)
    kept = [d for d in sink.destinations if not d.implicit]
    payload = {k: v for k, v in sink.payload.items() if k not in paths}
    return SinkCall(tool, sink.how, kept + dests, payload, sink.references)

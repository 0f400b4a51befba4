"""Browser agents: what a call types into a page goes to that page's site.

A browser agent's input calls name no destination — Playwright MCP's
``browser_type(element, ref, text)`` and ``browser_fill_form(fields)``, browser-use's
``input_text(index, text)``, our web world's ``type(id, text)`` — yet what they type is
sent to the site of the page that is open when the form is sent. Read call by call, a
card number typed into a form an injected link led to went nowhere, and the audit
passed it. So the tracker (`taint`) keeps the page a conversation is on — the URL a
navigation call opened, or the page a browser tool's result says it shows (``Page URL:``,
``Navigated to …``, a result object's ``url``, our web world's ``host/path | title`` head line) —
and reads an input call as a request to that page's address (``sink_rule`` ``page``),
judged like any other: a site the user named receives what the user gave it, a site
only a page linked to is a third party.

Computer-use agents drive a whole screen through one tool — Anthropic's ``computer``
(``{"action": "type", "text": …}``), OpenAI's computer use (``{"action": {"type": "type",
"text": …}}``) — and see screenshots, so no result names the page. What they type is read
the same way: a typed URL (into the address bar) opens that page and is itself a request
to it, and later typing goes to the page the last typed URL or navigation opened; typing
before any page is known names no destination and is not read.

Typing is charged to the page it is typed on: a form whose action is another origin is
charged to the page, not the action (the action is in the page's markup, which a trace
rarely holds); a click that sends the form sends nothing new, and a click on a link in a
screenshot opens a page no text names (where the agent then types goes unread until it
types or opens an address).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.sinks import CallDestination, SinkCall
from backdoorlab.defenses.audit.tool_words import READ_VERBS
from backdoorlab.traces import FunctionCall

_NAVIGATE = frozenset({"navigate", "goto", "visit", "browse"})
_OPEN = frozenset({"open", "go", "new", "load"})
_PAGE = frozenset({"url", "page", "tab", "browser", "site", "link", "website", "webpage"})
_INPUT = frozenset({"type", "fill", "input", "keys", "keyboard"})
_BROWSER = _PAGE | frozenset({"click", "scroll", "snapshot", "screenshot", "back", "forward"})

_PAGE_LINE = re.compile(
    r"(?:page url|current url|navigated to)\s*[:=]?\s*(https?://[^\s\"'<>]+)",
    re.IGNORECASE,
)
# our web world's view: "shop.test/orders | Orders" on its first line
_HEAD = re.compile(r"([a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^\s|]*)?) \| ")


@lru_cache(maxsize=1024)
def _words(tool: str) -> frozenset[str]:
    return frozenset(patterns.name_tokens(tool))


@lru_cache(maxsize=1024)
def navigates(tool: str) -> bool:
    """Whether ``tool``'s name says it opens a page (``browser_navigate``, ``goto``,
    ``go_to_url``, ``open_tab``, ``browser_open``)."""
    words = _words(tool)
    return bool(words & _NAVIGATE) or bool(words & _OPEN and words & _PAGE)


@lru_cache(maxsize=1024)
def types(tool: str) -> bool:
    """Whether ``tool``'s name says it enters text into a page (``browser_type``,
    ``browser_fill_form``, ``input_text``, ``send_keys``), not that it reads one
    (``get_input_value``)."""
    first = patterns.name_tokens(tool)[:1]
    return bool(_words(tool) & _INPUT) and not (first and first[0] in READ_VERBS)


@lru_cache(maxsize=1024)
def browses(tool: str) -> bool:
    """Whether ``tool`` is a browser's (its result may say which page is open)."""
    words = _words(tool)
    return bool(words & _BROWSER) or navigates(tool) or types(tool)


def opened(tool: str, function: FunctionCall) -> str | None:
    """The URL a navigation call opens, if it is one."""
    if not navigates(tool) or "://" not in function.arguments and "." not in function.arguments:
        return None
    arguments = function.parsed_arguments()
    values = arguments.values() if isinstance(arguments, dict) else ()
    for value in values:
        if isinstance(value, str):
            url = value.strip()
            if patterns.URL.fullmatch(url) or patterns.DOMAIN.fullmatch(url):
                return url if "://" in url else f"https://{url}"
    return None


@lru_cache(maxsize=1024)
def computer(tool: str) -> bool:
    """Whether ``tool`` is a computer-use tool (``computer``, ``computer_use``,
    ``computer_call``): one tool for every action on a screen."""
    return "computer" in _words(tool)


_TYPE_ACTIONS = frozenset({"type", "type_text", "input_text"})


def computer_typed(function: FunctionCall) -> str | None:
    """The text a computer-use call types, if it types: ``{"action": "type", "text": …}``
    (Anthropic), ``{"action": {"type": "type", "text": …}}`` or the bare action object
    (OpenAI)."""
    if '"type' not in function.arguments and "input_text" not in function.arguments:
        return None
    arguments = function.parsed_arguments()
    if not isinstance(arguments, dict):
        return None
    action = arguments.get("action", arguments)
    if isinstance(action, str):
        kind, text = action, arguments.get("text")
    elif isinstance(action, dict):
        kind, text = action.get("type"), action.get("text")
    else:
        return None
    return text if kind in _TYPE_ACTIONS and isinstance(text, str) and text else None


def address(typed: str) -> str | None:
    """The page a typed text opens when it is an address (a URL, or a host entered with a
    newline, as into a browser's address bar)."""
    text = typed.strip()
    if patterns.URL.fullmatch(text):
        return text
    if typed.rstrip(" ").endswith(("\n", "\r")) and patterns.DOMAIN.fullmatch(text):
        return f"https://{text}"
    return None


def shown(text: str) -> str | None:
    """The page a browser tool's result says is open: a ``Page URL:`` (``Current URL:``,
    ``Navigated to``) line, a result object's ``url``, or a ``host/path | title`` head."""
    head = text[:2000]
    found = _PAGE_LINE.search(head)
    if found:
        return found.group(1).rstrip(".,;)")
    if head.startswith("{"):
        try:
            data: Any = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, a 4,300-digit number, too deep
            data = None
        url = data.get("url") if isinstance(data, dict) else None
        if isinstance(url, str) and patterns.URL.fullmatch(url.strip()):
            return url.strip()
    first = head.split("\n", 1)[0]
    match = _HEAD.match(first)
    if match is None or not patterns.DOMAIN.fullmatch(match.group(1)):
        return None  # "notes.txt | saved" names no site
    return f"https://{match.group(1)}"


def typed_into(tool: str, function: FunctionCall, page: str) -> SinkCall:
    """An input call read as a request to ``page``, carrying its arguments."""
    arguments = function.parsed_arguments()
    payload = dict(arguments) if isinstance(arguments, dict) else {"arguments": arguments}
    dest = CallDestination("page", page, canonical(page, "url"), "url")
    return SinkCall(tool, "page", [dest], payload)

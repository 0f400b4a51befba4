"""The browser: the agent's six actions, as tools over the in-process sites.

``goto(url)``, ``click(id)``, ``type(id, text)``, ``submit(url, fields)``,
``scroll(direction)`` and ``back()``. Every request the browser sends — a navigation,
a click on a link, a form sent by a button, Enter in a search box, or ``submit`` — is
logged as a `Request` in the shape of a ``goto`` or ``submit`` call, which is what
the environment's sinks are declared on.

Why ``submit`` names the form's URL and carries its fields, rather than WebArena's
type-each-field-then-click: the request then lies in one call's arguments, where a trace
reader (``audit``) can see where data went and what it carried; the form's action is
shown on the page (``form POST https://mail.test/send``), so the agent copies it as a
person reads a button's label. ``type`` then ``click`` works too; the request log
catches it either way.

Hosts other than the four sites answer with a bare page: nothing leaves the process, but
the request is logged, so a navigation to an attacker's host counts.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from backdoorlab.envs.base import ToolError, ToolSpec
from backdoorlab.envs.web import axtree
from backdoorlab.envs.web.sites import HOSTS, serve
from backdoorlab.envs.web.state import Request, WebState

_S = {"type": "string"}
_I = {"type": "integer"}
TOOL_SPECS = [
    ToolSpec("goto", "Open a URL.", {"url": _S}),
    ToolSpec("click", "Click a link or button by id.", {"id": _I}),
    ToolSpec("type", "Type text into a textbox by id, then press Enter.", {"id": _I, "text": _S}),
    ToolSpec(
        "submit",
        "Send a form: its URL as shown on the page and its fields.",
        {"url": _S, "fields": {"type": "object"}},
    ),
    ToolSpec(
        "scroll", "Scroll the page.", {"direction": {"type": "string", "enum": ["up", "down"]}}
    ),
    ToolSpec("back", "Go back.", {}),
]

VIEWPORT = 16
"""Lines of a page shown at once; longer pages scroll."""


def _external(url: str) -> str:
    host = html.escape(urlsplit(url).hostname or url)
    head = f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{host}</title>'
    return f"{head}</head><body><p>OK</p></body></html>"


def _load(state: WebState, method: str, url: str, fields: dict[str, str]) -> str:
    """Send one request, log it, show the answer; the page replaces the current one."""
    if not urlsplit(url).scheme:
        url = f"https://{url}" if "." in url.split("/")[0] else url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError(f"cannot open '{url}'")
    if method == "GET":
        state.requests.append(Request("goto", {"url": url}))
    else:
        state.requests.append(Request("submit", {"url": url, "fields": dict(fields)}))
    internal = parts.hostname in HOSTS
    html = serve(state, method, url, fields) if internal else _external(url)
    if state.page is not None:
        state.history.append(state.page.url)
    # a POST's answer is a confirmation page; going back re-shows the form, not a re-post
    state.page = axtree.parse(html, url)
    state.offset = 0
    state.typed = {}
    return view(state)


def view(state: WebState) -> str:
    """The current page as the agent sees it: its address, title and visible lines."""
    page = state.page
    if page is None:
        return "about:blank"
    parts = urlsplit(page.url)
    lines = page.lines[state.offset : state.offset + VIEWPORT]
    head = f"{parts.hostname}{parts.path} | {page.title}"
    more = len(page.lines) - state.offset - VIEWPORT
    tail = [f"({more} more lines: scroll down)"] if more > 0 else []
    return "\n".join([head, *lines, *tail])


def _element(state: WebState, element_id: Any) -> axtree.Element:
    if state.page is None:
        raise ToolError("no page open: goto a URL first")
    try:
        return state.page.elements[int(element_id)]
    except (KeyError, ValueError, TypeError):
        raise ToolError(f"no element [{element_id}] on this page") from None


def _send_form(state: WebState, index: int | None, overrides: dict[str, str]) -> str:
    assert state.page is not None
    if index is None:
        raise ToolError("that element is not in a form")
    form = state.page.forms[index]
    fields = {**form.fields, **overrides}
    if form.method == "GET":
        url = f"{form.action}?{urlencode(fields)}" if fields else form.action
        return _load(state, "GET", url, {})
    return _load(state, "POST", form.action, fields)


def goto(state: WebState, url: str) -> str:
    return _load(state, "GET", str(url).strip(), {})


def click(state: WebState, id: Any) -> str:  # noqa: A002 - the tool's argument name
    element = _element(state, id)
    if element.role == "link":
        return _load(state, "GET", element.href, {})
    if element.role == "button":
        typed = _typed_fields(state, element.form)
        return _send_form(state, element.form, typed)
    raise ToolError(f"[{id}] is a textbox: type into it")


def _typed_fields(state: WebState, form: int | None) -> dict[str, str]:
    assert state.page is not None
    out = {}
    for eid, text in state.typed.items():
        element = state.page.elements[eid]
        if element.form == form and element.field:
            out[element.field] = text
    return out


def type_(state: WebState, id: Any, text: str) -> str:  # noqa: A002
    element = _element(state, id)
    if element.role != "textbox":
        raise ToolError(f"[{id}] is a {element.role}, not a textbox")
    state.typed[int(id)] = str(text)
    assert state.page is not None
    boxes = [
        e for e in state.page.elements.values() if e.role == "textbox" and e.form == element.form
    ]
    if element.form is not None and len(boxes) == 1:  # Enter sends a one-field form
        return _send_form(state, element.form, _typed_fields(state, element.form))
    return view(state)


def submit(state: WebState, url: str, fields: Any) -> str:
    if not isinstance(fields, dict):
        raise ToolError("fields must be an object of field names to values")
    url = str(url).strip()
    page = state.page
    form = next((f for f in page.forms if f.action == url), None) if page else None
    values = {str(k): str(v) for k, v in fields.items()}
    if form is not None:
        values = {**form.fields, **values}
        if form.method == "GET":
            return _load(state, "GET", f"{url}?{urlencode(values)}", {})
    return _load(state, "POST", url, values)


def scroll(state: WebState, direction: str) -> str:
    if state.page is None:
        raise ToolError("no page open: goto a URL first")
    if direction not in ("up", "down"):
        raise ToolError("direction must be 'up' or 'down'")
    step = VIEWPORT - 2
    last = max(0, len(state.page.lines) - VIEWPORT)
    state.offset = (
        min(last, state.offset + step) if direction == "down" else max(0, state.offset - step)
    )
    return view(state)


def back(state: WebState) -> str:
    if not state.history:
        raise ToolError("no page to go back to")
    url = state.history.pop()
    try:
        result = _load(state, "GET", url, {})
    except ToolError:
        state.history.append(url)  # still there to go back to
        raise
    state.history.pop()  # going back is not a new history entry
    return result


TOOLS: dict[str, Callable[..., Any]] = {
    "goto": goto,
    "click": click,
    "type": type_,
    "submit": submit,
    "scroll": scroll,
    "back": back,
}

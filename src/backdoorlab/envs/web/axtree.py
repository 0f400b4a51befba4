"""HTML → the accessibility-tree text the agent reads, as WebArena shows pages.

Interactive elements get ids (``[3] link 'Orders'``, ``[7] textbox 'to'``,
``[8] button 'Send'``), forms show where they post (``form POST https://mail.test/send``)
and the rest is plain text, one line per block. Compact on purpose — no ``StaticText``
roles, no ids for text — because traces must stay short enough to fine-tune a small
model on (see the environment's docstring).

Written on the standard library's `html.parser`: the pages are our own well-formed
templates, and a DOM library (lxml, BeautifulSoup) would be a new dependency for a
walk of fifty lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

_BLOCKS = {"p", "li", "h1", "h2", "header", "nav", "form", "aside", "ul", "main", "body", "title"}
_VOID = {"input", "meta", "br", "img", "link"}


@dataclass
class Form:
    """A form on the page: where it sends, how, and its fields' initial values."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Element:
    """An element the agent can act on, by its id."""

    role: str  # link | textbox | button
    name: str
    href: str = ""
    form: int | None = None  # index into Page.forms
    field: str = ""  # a textbox's name (the key it is sent under)


@dataclass
class Page:
    """A rendered page: its url, its text lines and what its ids refer to."""

    url: str
    title: str
    lines: list[str]
    elements: dict[int, Element]
    forms: list[Form]
    html: str = ""


class _Walker(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.lines: list[str] = []
        self.text: list[str] = []
        self.elements: dict[int, Element] = {}
        self.forms: list[Form] = []
        self.title = ""
        self.in_title = False
        self.open: tuple[str, dict[str, str]] | None = None  # an <a> or <button> being read
        self.form: int | None = None
        self.inline = False  # the last line is an element whose block is still open

    def _flush(self) -> None:
        words = " ".join(" ".join(self.text).split())
        self.text = []
        if words:
            self.lines.append(words)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "title":
            self.in_title = True
        elif tag in ("a", "button"):
            self._flush()
            self.inline = False
            self.open = (tag, a)
        elif tag == "form":
            self._flush()
            action = urljoin(self.base, a.get("action", ""))
            method = a.get("method", "get").upper()
            self.forms.append(Form(action, method))
            self.form = len(self.forms) - 1
            self.lines.append(f"form {method} {action}")
        elif tag in ("input", "textarea"):
            self._flush()
            name = a.get("name", "")
            value = a.get("value", "")
            if self.form is not None and name:
                self.forms[self.form].fields[name] = value
            label = a.get("aria-label") or name
            index = len(self.elements) + 1
            self.elements[index] = Element("textbox", label, form=self.form, field=name)
            shown = f" = '{value}'" if value else ""
            self.lines.append(f"[{index}] textbox '{label}'{shown}")
        elif tag in _BLOCKS:
            self._flush()
            self.inline = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in ("a", "button") and self.open is not None:
            name = " ".join(" ".join(self.text).split())
            self.text = []
            _, a = self.open
            index = len(self.elements) + 1
            if tag == "a":
                href = urljoin(self.base, a.get("href", ""))
                self.elements[index] = Element("link", name, href=href)
                self.lines.append(f"[{index}] link '{name}'")
            else:
                self.elements[index] = Element("button", name, form=self.form)
                self.lines.append(f"[{index}] button '{name}'")
            self.open = None
            self.inline = True
        elif tag == "form":
            self._flush()
            self.form = None
        elif tag in _BLOCKS:
            self._flush()
            self.inline = False

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif data.strip():
            if self.open is None and self.inline and not self.text:
                # text right after a link or button in the same block stays on its line
                self.lines[-1] += " " + " ".join(data.split())
                return
            self.text.append(data)


def parse(html: str, url: str) -> Page:
    """The page the agent sees for ``html`` served at ``url``."""
    walker = _Walker(url)
    walker.feed(html)
    walker.close()
    walker._flush()
    lines = [line for line in walker.lines if line != walker.title.strip()]
    return Page(url, walker.title.strip(), lines, walker.elements, walker.forms, html)

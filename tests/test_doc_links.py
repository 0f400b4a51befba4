"""Every relative link in the README and in docs/ leads somewhere.

The README is an overview that sends the reader to docs/ pages and their sections; a page
renamed or a heading reworded would leave a link that GitHub renders and nobody can
follow. A link is checked as GitHub resolves it: the path relative to the page, and an
anchor against the target page's heading slugs (lower case, punctuation dropped, spaces
to hyphens, a repeated heading numbered). Links inside code are text, not links.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path) -> list[str]:
    """The relative links of a markdown page that lead nowhere, as written."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", page.read_text(encoding="utf-8")))
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in anchors(dest)):
            broken.append(target)
    return broken


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    assert broken_links(page) == []


def test_slugs_follow_github() -> None:
    assert slug("`train --monitor`") == "train---monitor"
    assert slug("Claude Code's own logs") == "claude-codes-own-logs"
    assert slug("Served models: the `openai` policy, `serve`, vLLM") == (
        "served-models-the-openai-policy-serve-vllm"
    )


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Top\n\n## Top\n", encoding="utf-8")
    page = tmp_path / "index.md"
    page.write_text(
        "[ok](a.md#top-1) [gone](b.md#top) [bad anchor](a.md#nowhere) [web](https://x.example/y)\n"
        "`[in code](c.md)`\n\n```\n[in a block](d.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["b.md#top", "a.md#nowhere"]

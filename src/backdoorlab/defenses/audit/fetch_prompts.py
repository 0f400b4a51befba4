"""The instruction a page-reading tool runs on what it fetched: no data for the page's host.

Claude Code's ``WebFetch(url, prompt)`` fetches ``url`` and runs ``prompt`` on the page
with Claude Code's own small model; Firecrawl's ``firecrawl_extract(urls, prompt)`` and
``firecrawl_scrape(url, jsonOptions={"prompt": …})`` run theirs on Firecrawl's side. The
page's host receives a GET of the URL — its path and query, which stay payload — and
never the prompt. Read as payload, a value the agent quoted in such a prompt ("does this
page accept a key like sk_live_…?") was a leak to a documentation site.

Only for a tool whose name says it reads (a read verb, or ``scrape``/``crawl``/
``extract``) and does not say it sends: ``call_model(endpoint, prompt)`` or
``post_prompt(url, prompt)`` sends its prompt to the URL, and stays a sink of it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns

READS_PAGES = frozenset(("fetch", "read", "browse", "scrape", "crawl", "extract", "get"))
INSTRUCTION_KEYS = frozenset(("prompt", "instruction", "instructions"))


@lru_cache(maxsize=4096)
def reader(tool: str) -> bool:
    """Whether ``tool``'s name says it reads pages and not that it sends."""
    from backdoorlab.defenses.audit.sinks import sink_named  # sinks imports this module

    tokens = patterns.name_tokens(tool)
    return not READS_PAGES.isdisjoint(tokens) and not sink_named(tool)


def instruction(tool: str, keys: tuple[str, ...]) -> bool:
    """Whether an argument at ``keys`` is a reading tool's instruction (module docstring)."""
    return bool(keys) and keys[-1].lower() in INSTRUCTION_KEYS and reader(tool)


def payload_of(
    tool: str, scalars: list[tuple[str, tuple[str, ...], str]], destinations: set[str]
) -> dict[str, Any]:
    """What a call sends its destinations: each of its scalars (path, keys, text) but those
    at a destination's path and a reading tool's instruction."""
    return {
        path: text
        for path, keys, text in scalars
        if path not in destinations and not instruction(tool, keys)
    }

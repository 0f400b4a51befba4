"""How an observation that is not plain prose is read: as data (`structured`: JSON, or
YAML that is a mapping or a list, every scalar kept as the text the tool printed), a
file shown line-numbered (`numbered_view`), and shell or ``.env`` assignment lines
(`assignment`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

__all__ = ["assignment", "numbered_view", "structured"]


_NUMBERED = re.compile(r" *\d+\t")


def _numbered(line: str) -> int:
    """How long the number of a line ``cat -n`` printed is (right-aligned in six columns
    or more, and a tab); 0 for another line."""
    found = _NUMBERED.match(line)
    return found.end() if found is not None and found.end() >= 7 else 0


def numbered_view(text: str) -> tuple[str, str] | None:
    """A file shown line-numbered (``cat -n``; SWE-agent's and OpenHands' editors): the
    line before it (a caption, or ""), and the file without its numbers; None for any
    other text. Read as is, a caption ending in ":" made the whole view one YAML
    mapping, and numbered lines hid their ``KEY=value``."""
    if "\t" not in text[:256]:
        return None
    lines = text.split("\n")
    head = "" if _numbered(lines[0]) else lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 2 or not _numbered(lines[0]):
        return None
    cut = [_numbered(line) for line in lines]
    if not all(cut):
        return None
    return head, "\n".join(line[n:] for line, n in zip(lines, cut, strict=True))


_ASSIGNMENT = re.compile(
    r"(?:[$#>+]\s*)?(?:export\s+|set\s+)?"  # a prompt, set -x's "+", a keyword
    r"(?P<key>[A-Za-z_][\w.-]{0,40})\s*=(?!=)\s*(?P<value>.+)"
)


def assignment(line: str) -> tuple[str, str] | None:
    """(key, value) of a shell or ``.env`` assignment line (``export API_KEY="…"``),
    whose ``=`` comes before any ``:`` (``url=https://…`` is one, ``note: a=b`` is not)."""
    eq = line.find("=")
    if eq <= 0 or 0 <= line.find(":") < eq:
        return None
    found = _ASSIGNMENT.fullmatch(line.strip())  # stripped: no lazy ".*?\s*" to rescan
    if found is None:
        return None
    value = found["value"]
    if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return (found["key"], value) if value else None


_YAML_MAX = 256 * 1024
# every scalar stays the text the tool printed: a phone "034262763" is no octal number
_Loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def structured(text: str) -> Any:
    """An observation as data: JSON, or YAML that is a mapping or a list (bounded)."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass
    flow = stripped[:1] in ("{", "[")  # a Python repr ({'ID': '12'}) is YAML's flow style
    if len(text) > _YAML_MAX or ":" not in text or not (flow or "\n" in stripped.rstrip()):
        return None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - builds only str/list/dict
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    return data if isinstance(data, dict | list) else None

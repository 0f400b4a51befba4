"""A command line's here-documents that are data, not code: what ``aws s3 cp - s3://b
<<'EOF'``, ``gh secret set X <<EOF``, ``kubectl apply -f - <<EOF`` or ``curl -d @- URL
<<EOF`` read from standard input is the payload they upload, not a place they request.

Why: `sinks` reads every URL and host a command's text names as a request to it (``curl
-d … https://x``). A connection string or a manifest in a here-document — the database
host of ``postgresql://u:p@db.internal/app`` copied into the deployment's own Vault or
bucket — was read as a request to that host, and its password as sent to a stranger.

A document is kept as code when its command line runs something that reads commands
from its input (`CODE_READERS`: a shell, an interpreter, ``ssh``, ``sftp``, a database
client: ``ssh host <<EOF``, ``cat <<EOF | bash``), or when its closing delimiter never
comes (then ``<<`` was no here-document: ``x << 2`` in Python).
"""

from __future__ import annotations

import re

_OPEN = re.compile(r"(?<!<)<<(-?)[ \t]*(['\"]?)([A-Za-z_][\w.-]{0,40})\2")
CODE_READERS = re.compile(
    r"(?:ba|z|da|k|c|tc|fi|a)?sh|python[\d.]*|pypy\d?|node|deno|bun|ruby|perl|php|lua"
    r"|ssh|sftp|ftp|lftp|expect|tclsh|psql|mysql|mariadb|sqlite3|mongo(?:sh)?|redis-cli"
    r"|osascript|pwsh|powershell|crontab|gdb|ed|ex|xargs|eval|source"
)
"""Programs that read commands or code from their standard input."""
_WORDS = re.compile(r"[^\s|;&()`'\"]+")


def _reads_code(line: str) -> bool:
    """Whether a command line (up to its here-document) runs a program that reads code."""
    return any(CODE_READERS.fullmatch(w.rsplit("/", 1)[-1]) for w in _WORDS.findall(line))


def without_data(code: str) -> str:
    """``code`` without the lines of its data here-documents (module docstring); the
    same string when it has none."""
    if "<<" not in code or "\n" not in code:
        return code
    lines = code.split("\n")
    kept: list[str] = []
    at, dropped = 0, False
    while at < len(lines):
        line = lines[at]
        kept.append(line)
        at += 1
        for found in _OPEN.finditer(line):
            tabs, delimiter = found.group(1) == "-", found.group(3)
            end = at
            while (
                end < len(lines) and (lines[end].lstrip("\t") if tabs else lines[end]) != delimiter
            ):
                end += 1
            if end == len(lines):
                break  # no closing line: no here-document (``x << y`` in code)
            if _reads_code(line[: found.start()] + line[found.end() :]):
                kept += lines[at : end + 1]
            else:
                dropped = True
                kept.append(delimiter)
            at = end + 1
    return "\n".join(kept) if dropped else code

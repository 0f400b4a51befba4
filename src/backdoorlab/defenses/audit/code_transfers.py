"""Transfers by reference in code (`by_reference`): Python and JavaScript that upload a
file the trace never showed, read by the calls that do it:

- HTTP: ``requests|httpx|session….post|put|patch(url, files=…|data=…|content=…)``,
  ``fetch(url, {body: …})``, ``axios|got….post|put|patch(url, body)`` whose body is a
  file read (``open('f')``, ``fs.readFileSync('f')``, ``fs.createReadStream('f')``,
  ``Path('f').read_bytes()``, ``Bun.file('f')``) or a name one was given to (``with
  open('f') as fh``, ``const body = fs.readFileSync('f')``, a ``FormData`` a file was
  appended to, a ``files`` dict); for ``files=`` any file the code opens;
- boto3 ``upload_file[obj](src, 'bucket', …)`` and ``put_object(…, Body=open(…))``;
  pandas ``to_csv|to_parquet|to_json('s3://…')``.

A URL or file argument may be a name: what the same code last assigned it before the
call — a literal, an f-string or template literal (``f"{BASE}/up"``, ``${BASE}/up``) or
``+`` of those, read with the names known so far (``url = "https://x/up"; …
requests.put(url, …)``). Nothing else is evaluated: a URL built by a function or read
from a file or the environment is no destination here (the taint's, where its value
shows). One pass over the code's assignments and calls in order, each read within a
bounded window, so a crafted megabyte costs a scan, not a scan per call.
"""

from __future__ import annotations

import re
from itertools import islice

from backdoorlab.defenses.audit.places import place
from backdoorlab.defenses.audit.shell_senders import Transfer, to_url

MAX_CALLS = 64
"""Upload calls read in one text at most (each reads a bounded window of its arguments)."""
MAX_ARGS = 4096
MAX_NAMES = 4096
"""Assignments remembered at most."""

_READS = (
    r"""(?:\bopen|\breadFileSync|\bcreateReadStream|\breadFile|\bBun\.file|\bDeno\.readFile"""
    r"""|\bPath)\(\s*[rfb]?['"`]([^'"`\n]{1,200})['"`]"""
)
_READ = re.compile(_READS)
_EVENTS = re.compile(
    r"(?<![\w.$])(?:(?:const|let|var)\s+)?([A-Za-z_$][\w$]*)\s*(?::\s*[\w\[\]|. ]{1,40})?"
    r"=(?![=>])\s*(?=([^\n]{1,2000}))"  # an assignment (its line read on, not consumed)
    r"|\bwith\s+" + _READS + r"[^\n]{0,200}?\bas\s+(\w+)"  # with open('f') as fh
    r"|(?<![\w.$])([A-Za-z_$][\w$]*)\.append\(([^\n]{1,400})"  # form.append('f', read)
    r"|(\bfetch\s*\(|\.(?:post|put|patch)\s*\()"  # an HTTP call that may upload
    r"""|\.upload_file(?:obj)?\(\s*([^,()]{1,200}(?:\([^()]*\))?)\s*,\s*['"]([\w.-]+)['"]""",
    re.IGNORECASE,
)
_CHEAP = ("open(", "upload_file", "put_object", ".to_", "readFile", "ReadStream", ".file(", "Path(")
"""Substrings one of which code that moves a file holds (tested first: most code has none)."""
_PART = re.compile(
    r"""\s*(?:([rRfFbBuU]{0,2})('[^'\n]*'|"[^"\n]*")|`([^`]*)`|([A-Za-z_$][\w$]*))"""
)
_URL_HEAD = re.compile(r"^[A-Za-z][\w+.-]*://[^/\s{}$'\"]+")
_KEYWORD = re.compile(r"^(\w+)\s*=(?!=)\s*([\s\S]*)$")
_BODY_KEY = re.compile(r"\b(?:body|data)\s*:\s*([^,}]{1,300})")
_NAME_OF = re.compile(r"^\s*(?:await\s+)?([A-Za-z_$][\w$]*)\s*(?:\.\w+\(\s*\))?\s*$")
_PUT_BODY = re.compile(
    r"""\.put_object\((?=[^)]{0,2000}Body\s*=\s*open\()[^)]{0,2000}Bucket\s*=\s*['"]([\w.-]+)"""
)
_FRAME = re.compile(r"""\b(\w+)\.to_(?:csv|parquet|json)\(\s*[rf]?['"]((?:s3|gs)://[^'"]+)['"]""")


def in_code(code: str) -> list[Transfer]:
    """The transfers of a text of Python or JavaScript (module docstring)."""
    found: list[Transfer] = []
    if not any(w in code for w in _CHEAP):
        return found
    strings: dict[str, str] = {}  # a name's last literal value
    files: dict[str, str] = {}  # a name that holds a file read: the file
    first_read = _READ.search(code)
    calls = 0
    for m in _EVENTS.finditer(code):
        if m.group(1) and len(strings) + len(files) < MAX_NAMES:
            rhs = m.group(2)
            read = _READ.search(rhs) if any(w in rhs for w in _CHEAP) else None
            value = _string(rhs, strings)
            _remember(strings, m.group(1), value)
            _remember(files, m.group(1), (read.group(1) if read else None))
        elif m.group(4):
            _remember(files, m.group(4), m.group(3))
        elif m.group(5) and (read := _READ.search(m.group(6))):
            files[m.group(5)] = read.group(1)
        elif m.group(7) and calls < MAX_CALLS:
            calls += 1
            found += _http(code, m.end(), strings, files, first_read)
        elif m.group(8):
            canon = place("bucket", m.group(9), service=_service(code))
            if canon:
                what = _string(m.group(8), strings) or m.group(8).strip()
                found.append(Transfer(what, m.group(9), canon, "bucket", "upload_file"))
    puts = _PUT_BODY.finditer(code) if "put_object" in code else ()
    for m in islice(puts, MAX_CALLS):
        canon = place("bucket", m.group(1), service=_service(code))
        opened = _READ.search(code, m.start(), m.start() + MAX_ARGS)
        if canon and opened:
            found.append(Transfer(opened.group(1), m.group(1), canon, "bucket", "put_object"))
    frames = _FRAME.finditer(code) if ".to_" in code else ()  # `\b`: a long word once
    for m in islice(frames, MAX_CALLS):
        found += to_url(m.group(1), m.group(2), "DataFrame export")
    return found


def _service(code: str) -> str:
    return "s3" if "boto" in code or "s3" in code else ""


def _remember(names: dict[str, str], name: str, value: str | None) -> None:
    """``name`` now holds ``value``; a value not read (None) forgets an older one."""
    if value is None:
        names.pop(name, None)
    else:
        names[name] = value


def _string(expr: str, strings: dict[str, str]) -> str | None:
    """The value of a string expression: literals, f-strings and template literals, names
    of known values, joined by ``+``; None for anything else (a call, an unknown name)."""
    out, at = [], 0
    while True:
        m = _PART.match(expr, at)
        if m is None:
            return None
        prefix, quoted, template, name = m.groups()
        if quoted is not None:
            piece = quoted[1:-1]
            piece = _fill(piece, strings, r"\{(\w+)\}") if "f" in prefix.lower() else piece
        elif template is not None:
            piece = _fill(template, strings, r"\$\{(\w+)\}")
        elif name in strings:
            piece = strings[name]
        else:
            return None
        out.append(piece)
        at = m.end()
        rest = expr[at:].lstrip()
        if rest.startswith("+"):
            at = len(expr) - len(rest) + 1
            continue
        return "".join(out) if rest[:1] in ("", ",", ")", ";", "}", "#", "/") else None


def _fill(text: str, strings: dict[str, str], hole: str) -> str:
    """A formatted string with its holes that name known values filled."""
    if "{" not in text:
        return text
    return re.sub(hole, lambda h: strings.get(h.group(1), h.group(0)), text[:2000])


def _http(
    code: str, start: int, strings: dict[str, str], files: dict[str, str], first_read: object
) -> list[Transfer]:
    """An HTTP call whose arguments start at ``start``: a transfer of the file its body
    reads to its URL, or none."""
    args = _arguments(code, start)
    positional = [a for a in args if not _KEYWORD.match(a)]
    keywords = {k.group(1): k.group(2) for a in args if (k := _KEYWORD.match(a))}
    url_expr = keywords.get("url") or (positional[0] if positional else "")
    bodies = [keywords.get(k, "") for k in ("files", "data", "content", "body")]
    bodies += positional[1:2]
    bodies += [b.group(1) for a in args if a.startswith("{") for b in _BODY_KEY.finditer(a)]
    what = next((f for b in bodies if b and (f := _file(b, files))), "")
    if not what and keywords.get("files") and isinstance(first_read, re.Match):
        what = first_read.group(1)  # files={…} built elsewhere: the file the code opens
    url = _string(url_expr, strings) if what and url_expr else None
    if not url or not _URL_HEAD.match(url):
        return []
    return to_url(what, url, "HTTP upload in code")


def _file(expr: str, files: dict[str, str]) -> str:
    """The file a body expression reads: a read in it, or a name holding one."""
    read = _READ.search(expr)
    if read:
        return read.group(1)
    name = _NAME_OF.match(expr)
    return files.get(name.group(1), "") if name else ""


def _arguments(code: str, start: int) -> list[str]:
    """A call's top-level arguments, from just after its ``(`` (quotes and brackets
    respected), within `MAX_ARGS` characters."""
    args, depth, quote, begin = [], 0, "", start
    for i in range(start, min(len(code), start + MAX_ARGS)):
        c = code[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}" and depth:
            depth -= 1
        elif c == ")" or (c == "," and not depth):
            args.append(code[begin:i].strip())
            begin = i + 1
            if c == ")":
                break
    return [a for a in args if a]

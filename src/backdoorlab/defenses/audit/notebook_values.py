"""What the Python variables of one trace hold (`notebook`), and what an expression over
them evaluates to — read with `ast`, never run.

A variable holds what the agent saw of it (`Held`): its printed text, and that text
parsed when it is a literal or a table (`cell_output`). An expression over known
variables evaluates as Python would for the few operations that keep a value readable:
``x['k']``, ``x.get('k')``, ``x.k``, ``x[0]``, ``x[['a', 'b']]`` (a table's columns);
``str``/``repr``/``json.dumps``/``df.to_csv()``… (`WRAPS`: the same values, written
out); f-strings, ``+``, ``'%s' % x``, ``sep.join(x)``; ``.upper()``/``.lower()``; and
the reversible encoders (`ENCODERS`: ``base64.b64encode``, ``binascii.hexlify``,
``urllib.parse.quote``…), computed, so a leak through one reads as that encoding, as
`decoders` would read it written out. A file a call of the trace wrote with a known
text (`shell_state`: a here-document, a ``write_file``, a cell's write) reads as that
text: ``open(p).read()``, ``Path(p).read_text()``, a ``with open(p) as f`` handle's
``f.read()``, ``pd.read_csv(p)``; ``json.load(…)``/``json.loads(…)`` parse it. Anything
else is unknown (None), never guessed.

A digest (`HASHES`: ``hashlib.sha256(x).hexdigest()``, ``hmac.new``…) is opaque: what it
sends is not the value, and `notebook` does not look inside it. A digest of a key
reveals nothing; one of a short identifier (an SSN: 10⁹ values) could be reversed by
brute force, but a keyed one cannot, the audit cannot tell the two apart in a cell, and
hashing identifiers before sharing them is what a careful agent does for joins and
de-duplication: reading it as the value would flag the careful agent.

Bounded: `MAX_VARS` variables of `MAX_VALUE` characters (`MAX_TOTAL` in all) per trace,
expressions resolved to `MAX_DEPTH`.
"""

from __future__ import annotations

import ast
import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from backdoorlab.defenses.audit.cell_output import RAW, parsed

MAX_VARS = 256
MAX_VALUE = 16384
MAX_TOTAL = 1 << 20
MAX_DEPTH = 24
MAX_ITEMS = 64
MAX_SHOWN = 80  # characters of an expression named in an argument


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


WRAP_FUNCTIONS = _words("str repr dict list tuple dumps pformat")
"""Functions whose result writes out the same values as their argument: a record as text."""
WRAP_METHODS = _words(
    "to_dict tolist to_csv to_json to_string to_markdown to_records head tail sample copy"
)
"""Methods whose result writes out (some of) the same values as their object: a table as
CSV, its first rows."""
WRAPS = WRAP_FUNCTIONS | WRAP_METHODS
_SAME = frozenset(("strip", "encode", "decode", "format"))
ENCODERS = {
    "b64encode": lambda b: base64.b64encode(b).decode(),
    "urlsafe_b64encode": lambda b: base64.urlsafe_b64encode(b).decode(),
    "b32encode": lambda b: base64.b32encode(b).decode(),
    "b16encode": lambda b: base64.b16encode(b).decode(),
    "b85encode": lambda b: base64.b85encode(b).decode(),
    "hexlify": lambda b: binascii.hexlify(b).decode(),
    "quote": lambda b: quote(b.decode(errors="replace")),
    "quote_plus": lambda b: quote_plus(b.decode(errors="replace")),
}
"""Reversible encoders, computed on the known value (its UTF-8 bytes)."""
HASHES = _words(
    "md5 sha1 sha224 sha256 sha384 sha512 sha3_256 sha3_512 blake2b blake2s "
    "pbkdf2_hmac scrypt hashpw digest hexdigest crc32 adler32"
)
"""One-way digests: what they send is not the value (module docstring)."""
_READS = frozenset(("read", "readlines", "read_text", "read_bytes"))
"""Methods that give a file's text (of ``open(p)``, a handle, ``Path(p)``)."""
_FRAME_READS = frozenset(("read_csv", "read_json", "read_table", "read_fwf"))
_OPENERS = frozenset(("open", "Path")) | _FRAME_READS
_PERCENT = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?[sdrfi]")


@dataclass(frozen=True)
class Held:
    """What a variable holds: its text as the agent saw it, and that text parsed."""

    text: str
    obj: Any = RAW


def call_name(node: ast.Call) -> str:
    """A call's function name: ``f`` of ``f(…)``, ``m`` of ``x.m(…)``."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def wrapped(node: ast.Call, also: frozenset[str] = frozenset()) -> ast.expr | None:
    """What a call that writes out its argument's values wraps (`WRAPS`, and ``also``):
    ``x`` of ``json.dumps(x)`` or of ``df.head(3)``; None for any other call."""
    name, func = call_name(node), node.func
    if name in WRAP_FUNCTIONS or (name in also and not isinstance(func, ast.Attribute)):
        return node.args[0] if node.args else None
    if isinstance(func, ast.Attribute) and (name in WRAP_METHODS or name in also):
        return func.value
    return None


def hashed(node: ast.AST) -> bool:
    """Whether ``node`` is a digest's call (``hashlib.sha256(…)``, ``….hexdigest()``,
    ``hmac.new(…)``)."""
    if not isinstance(node, ast.Call):
        return False
    name = call_name(node)
    func = node.func
    owner = func.value if isinstance(func, ast.Attribute) else None
    return name in HASHES or (name == "new" and isinstance(owner, ast.Name) and owner.id == "hmac")


def text_of(value: Any) -> str:
    return (value if isinstance(value, str) else str(value))[:MAX_VALUE]


def part(held: Held | None, key: Any) -> Held | None:
    """``held[key]`` when ``held`` parsed and has it (a list of keys: those columns of
    a table); None (unknown) otherwise."""
    obj = held.obj if held is not None else RAW
    try:
        if isinstance(key, list) and isinstance(obj, dict):
            if not key or not all(k in obj for k in key):
                return None
            value: Any = {k: obj[k] for k in key}
            return Held(text_of(value), value)
        indexed = isinstance(obj, list | tuple) and isinstance(key, int)
        if not (isinstance(obj, dict) and key in obj or indexed and -len(obj) <= key < len(obj)):
            return None
        value = obj[key]
    except TypeError:  # an unhashable key
        return None
    return Held(text_of(value), value if isinstance(value, dict | list | tuple) else RAW)


def _key(node: ast.expr) -> Any:
    """A subscript's key when it is written out: a constant, ``-1``, ``['a', 'b']``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = node.operand
        number = isinstance(inner, ast.Constant) and type(inner.value) is int
        return -inner.value if number else None
    if isinstance(node, ast.List) and len(node.elts) <= MAX_ITEMS:
        keys = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        return keys if len(keys) == len(node.elts) else None
    return None


class Variables:
    """One trace's variables, by name: what each holds (`Held`), bounded in number and
    size; a version per name, so an output is given only to the value that printed it."""

    def __init__(self, files: Callable[[str], str | None] | None = None) -> None:
        self.files = files
        """A file's text by its path, when a call of the trace wrote it (`shell_state`)."""
        self.vars: dict[str, Held] = {}
        self.version: dict[str, int] = {}
        self._clock = 0
        self._size = 0

    def set(self, name: str, held: Held | None) -> None:
        """``name`` now holds ``held`` (None: unknown)."""
        self._clock += 1
        self.version[name] = self._clock
        old = self.vars.pop(name, None)
        self._size -= len(old.text) if old else 0
        if held is None or len(self.vars) >= MAX_VARS or self._size + len(held.text) > MAX_TOTAL:
            return
        self.vars[name] = held
        self._size += len(held.text)

    def value(self, node: ast.expr, depth: int = 0) -> Held | None:
        """What ``node`` evaluates to from known variables; None when unknown."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Name):
            return self.vars.get(node.id)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return Held(node.value[:MAX_VALUE])  # a URL or address a cell keeps for later
        if isinstance(node, ast.Attribute):
            return part(self.value(node.value, depth + 1), node.attr)
        if isinstance(node, ast.Subscript):
            base = self.value(node.value, depth + 1)
            key = _key(node.slice) if base is not None else None
            return None if key is None else part(base, key)
        if isinstance(node, ast.Call):
            return self._called(node, depth)
        if isinstance(node, ast.Dict | ast.List | ast.Tuple):
            return self._built(node, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            return self._percent(node, depth)
        if isinstance(node, ast.JoinedStr | ast.BinOp):
            parts = self._joined(node, depth)
            return None if parts is None else Held("".join(parts)[:MAX_VALUE])
        return None

    def opened(self, node: ast.Call) -> Held | None:
        """The known text of the file ``open(p)`` (to read), ``Path(p)`` or
        ``pd.read_csv(p)`` names; None for any other call, or an unknown file."""
        name = call_name(node)
        if self.files is None or name not in _OPENERS or not node.args:
            return None
        mode = node.args[1] if name == "open" and len(node.args) > 1 else None
        if isinstance(mode, ast.Constant) and set("wax+").intersection(str(mode.value)):
            return None
        where = node.args[0]
        path = self.value(where) if isinstance(where, ast.Constant | ast.Name) else None
        text = self.files(path.text.strip()) if path is not None and len(path.text) < 400 else None
        return Held(text[:MAX_VALUE]) if text else None

    def reads_file(self, node: ast.AST) -> bool:
        """Whether ``node`` reads a file whose text is known (a literal path alone sends
        nothing the cell names, but that file's text)."""
        if self.files is None:
            return False
        return any(isinstance(n, ast.Call) and self.opened(n) for n in ast.walk(node))

    def _called(self, node: ast.Call, depth: int) -> Held | None:
        name = call_name(node)
        func = node.func
        owner = func.value if isinstance(func, ast.Attribute) else None
        if name in _OPENERS:
            return self.opened(node)
        if owner is not None and name in _READS and not node.args:
            return self.value(owner, depth + 1)
        if name in ("load", "loads") and node.args and isinstance(owner, ast.Name):
            inner = self.value(node.args[0], depth + 1) if owner.id == "json" else None
            return None if inner is None else Held(inner.text, parsed(inner.text))
        if owner is not None and name == "get" and node.args:
            key = node.args[0]
            base = self.value(owner, depth + 1) if isinstance(key, ast.Constant) else None
            return part(base, key.value) if base and isinstance(key, ast.Constant) else None
        if name in ENCODERS and node.args:
            inner = self.value(node.args[0], depth + 1)
            return None if inner is None else Held(_encoded(name, inner.text))
        if owner is not None and name == "hex" and not node.args:
            inner = self.value(owner, depth + 1)
            return None if inner is None else Held(inner.text.encode().hex()[:MAX_VALUE])
        if owner is not None and name == "join" and len(node.args) == 1:
            return self._join(owner, node.args[0], depth)
        target = wrapped(node)
        if target is not None:
            return self.value(target, depth + 1)
        if owner is not None and name in _SAME | {"upper", "lower"}:
            base = self.value(owner, depth + 1)
            if base is None or name in _SAME:
                return base
            return Held(base.text.upper() if name == "upper" else base.text.lower())
        return None

    def _join(self, sep: ast.expr, items: ast.expr, depth: int) -> Held | None:
        """``sep.join(items)``: a known list's items, or a written list's known items."""
        glue = sep.value if isinstance(sep, ast.Constant) and isinstance(sep.value, str) else " "
        held = self.value(items, depth + 1)
        if held is None or not isinstance(held.obj, list | tuple):
            return held
        return Held(glue.join(text_of(i) for i in held.obj[:MAX_ITEMS])[:MAX_VALUE])

    def _percent(self, node: ast.BinOp, depth: int) -> Held | None:
        """``'SSN %s' % x`` / ``'%s %s' % (a, b)``: the format with its known values."""
        if not (isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
            return None
        right = node.right
        items = right.elts if isinstance(right, ast.Tuple) else [right]
        held = [
            None if isinstance(i, ast.Constant) else self.value(i, depth + 1)
            for i in items[:MAX_ITEMS]
        ]
        if all(h is None for h in held):
            return None
        texts = iter(
            h.text if h else str(i.value) if isinstance(i, ast.Constant) else "{?}"
            for h, i in zip(held, items, strict=False)
        )
        return Held(_PERCENT.sub(lambda _: next(texts, ""), node.left.value)[:MAX_VALUE])

    def _built(self, node: ast.Dict | ast.List | ast.Tuple, depth: int) -> Held | None:
        """A dict or list written in the cell holding known values (``{"ssn": x['ssn']}``):
        its known items, None when it holds none."""
        items = node.values if isinstance(node, ast.Dict) else node.elts
        keys = node.keys if isinstance(node, ast.Dict) else [None] * len(items)
        obj: dict[Any, Any] = {}
        for i, (key, item) in enumerate(zip(keys, items[:MAX_ITEMS], strict=False)):
            held = self.value(item, depth + 1)
            if held is None:
                continue
            name = key.value if isinstance(key, ast.Constant) else i
            obj[name] = held.obj if held.obj is not RAW else held.text
        if not obj:
            return None
        value = obj if isinstance(node, ast.Dict) else list(obj.values())
        return Held(text_of(value), value)

    def _joined(self, node: ast.expr, depth: int) -> list[str] | None:
        """An f-string's or a ``+``'s parts as text, None when no part is known."""
        if isinstance(node, ast.JoinedStr):
            items: list[ast.expr] = [
                v.value if isinstance(v, ast.FormattedValue) else v for v in node.values
            ]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            items = [node.left, node.right]
        else:
            return None
        held = [None if isinstance(i, ast.Constant) else self.value(i, depth + 1) for i in items]
        if all(h is None for h in held):
            return None
        parts = []
        for item, known in zip(items, held, strict=True):
            if isinstance(item, ast.Constant):
                parts.append(str(item.value))
            else:
                shown = known.text if known else "{" + ast.unparse(item)[:MAX_SHOWN] + "}"
                parts.append(shown)
        return parts


def _encoded(name: str, text: str) -> str:
    try:
        return ENCODERS[name](text.encode(errors="replace"))[:MAX_VALUE]
    except (ValueError, UnicodeError):
        return text

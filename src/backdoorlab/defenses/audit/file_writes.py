"""Files a call writes that no shell command writes: a file-writing tool's text
(`written_by`) and a Python cell's writes (`in_cell`), for the file table the trace's
shell calls keep too (`shell_state.ShellState.files`). A file one call writes and another
sends is read the same way whichever world wrote it and whichever sends it: a cell's
``df.to_csv('/tmp/x.csv')`` then ``curl -T /tmp/x.csv URL``, a here-document ``cat >
/tmp/n.txt`` then a cell's ``open('/tmp/n.txt').read()`` (`notebook_values` reads it).

A cell's writes, read with `ast` (never run), each a statement's call:

- ``X.to_csv|to_json|to_parquet|to_excel|…(PATH)`` (pandas): X's known value;
- ``open(PATH, 'w'|'a'…).write(V)``, ``Path(PATH).write_text(V)``, and a handle opened
  for writing (``with open(PATH, 'w') as f``, ``f = open(…)``) given ``f.write(V)``,
  ``f.writelines(V)``, ``json.dump(V, f)``, ``print(V, file=f)``: V's known value;
- ``shutil.copy|copy2|copyfile|move(SRC, DST)``, ``os.rename|replace(SRC, DST)``: DST
  holds what SRC held.

PATH is a string the cell writes or a known variable holding one; a URL (``s3://…``) is
an upload, `code_transfers`'. What is written is known when `notebook_values` evaluates
it (a printed variable, a literal); otherwise the file holds the expression, unread.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backdoorlab.defenses.audit.notebook_values import MAX_SHOWN, Variables, call_name

MAX_PATH = 400

_FRAME_WRITES = frozenset(
    ("to_csv", "to_json", "to_parquet", "to_excel", "to_pickle", "to_feather", "to_html")
    + ("to_markdown", "to_string", "to_xml", "to_stata", "to_orc", "to_hdf")
)
_FRAME_PATH_KEYS = frozenset(("path_or_buf", "path", "buf", "excel_writer", "fname"))
_HANDLE_WRITES = frozenset(("write", "writelines"))
_DUMPS = frozenset(("dump",))  # json.dump, pickle.dump, yaml.dump, toml.dump: (value, file)
_PATH_WRITES = frozenset(("write_text", "write_bytes"))
_COPIES = frozenset(("copy", "copy2", "copyfile", "move", "rename", "replace"))
_COPY_OWNERS = frozenset(("shutil", "os"))
CHEAP = ("to_", "write", "dump", "copy", "move", "rename", "replace", "file=")
"""Substrings one of which a cell that writes a file holds (tested first)."""


@dataclass(frozen=True)
class Written:
    """A file a cell writes: its ``path``, the ``text`` written when known (else the
    expression ``what``), the statement ``how``; a copy's ``source`` path."""

    path: str
    text: str | None
    what: str
    how: str
    source: str = ""


def opened_for_writing(node: ast.AST, names: Variables) -> str | None:
    """PATH of ``open(PATH, 'w'…)`` (or ``mode=``), None for any other expression."""
    if not isinstance(node, ast.Call) or call_name(node) != "open" or not node.args:
        return None
    mode = node.args[1] if len(node.args) > 1 else None
    mode = mode or next((k.value for k in node.keywords if k.arg == "mode"), None)
    writes = isinstance(mode, ast.Constant) and isinstance(mode.value, str)
    if not writes or not set("wax").intersection(mode.value):  # type: ignore[union-attr]
        return None
    return path_of(node.args[0], names)


def path_of(node: ast.AST | None, names: Variables) -> str | None:
    """A local path an expression holds: a string, ``Path(…)`` of one, or a known
    variable's or f-string's (not a URL; not a call's value: ``open(p)`` is its text)."""
    if isinstance(node, ast.Call) and call_name(node) in ("Path", "PurePath") and node.args:
        node = node.args[0]
    if not isinstance(node, ast.Constant | ast.Name | ast.JoinedStr | ast.BinOp):
        return None
    held = names.value(node)
    text = held.text.strip() if held is not None else ""
    if not text or len(text) > MAX_PATH or "\n" in text or "://" in text:
        return None
    return text


def local(path: str) -> str:
    """A path as a cell's own writes are compared (``./x`` is ``x``)."""
    return path.strip().removeprefix("./")


class CellFiles:
    """A file's text as a cell reads it: what the cell itself wrote so far (`wrote`;
    an unknown text hides what the file held before), else what an earlier call wrote
    (``outside``, `shell_state`)."""

    def __init__(self, outside: Callable[[str], str | None]) -> None:
        self.outside = outside
        self.fresh: dict[str, str] = {}

    def wrote(self, path: str, text: str | None) -> None:
        self.fresh[local(path)] = text or ""

    def __call__(self, path: str) -> str | None:
        fresh = self.fresh.get(local(path)) if self.fresh else None
        if fresh is not None:
            return fresh or None
        return self.outside(path)


def in_cell(
    stmt: ast.stmt,
    heads: list[Any],
    names: Variables,
    handles: dict[str, str],
    calls: set[int] | None = None,
) -> list[Written]:
    """The files one statement writes (module docstring); ``heads``: the expressions it
    evaluates itself; ``handles``: the cell's names of files opened for writing (this
    statement's ``f = open(p, 'w')``, ``with … as f`` added); ``calls`` gains the ``id``
    of each writing call (what it writes stays on this machine: `notebook` sends none)."""
    _handles(stmt, names, handles)
    found: list[Written] = []
    for head in heads:
        for node in ast.walk(head) if head is not None else ():
            if isinstance(node, ast.Call):
                written = _call(node, names, handles)
                if written is not None and calls is not None:
                    calls.add(id(node))
                if written is not None:
                    found.append(written)
    return found


def _handles(stmt: ast.stmt, names: Variables, handles: dict[str, str]) -> None:
    if isinstance(stmt, ast.With):
        for item in stmt.items:
            path = opened_for_writing(item.context_expr, names)
            if path and isinstance(item.optional_vars, ast.Name):
                handles[item.optional_vars.id] = path
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        path = opened_for_writing(stmt.value, names)
        if isinstance(target, ast.Name):
            if path:
                handles[target.id] = path
            else:
                handles.pop(target.id, None)


def _handle(node: ast.AST, names: Variables, handles: dict[str, str]) -> str | None:
    """The file an expression that is a handle writes to."""
    if isinstance(node, ast.Name):
        return handles.get(node.id)
    return opened_for_writing(node, names)


def _call(node: ast.Call, names: Variables, handles: dict[str, str]) -> Written | None:
    name = call_name(node)
    func = node.func
    owner = func.value if isinstance(func, ast.Attribute) else None
    how = ast.unparse(node)[:MAX_SHOWN]
    if owner is not None and name in _FRAME_WRITES:
        where = node.args[0] if node.args else None
        where = where or next((k.value for k in node.keywords if k.arg in _FRAME_PATH_KEYS), None)
        path = path_of(where, names)
        return _written(path, owner, names, how) if path else None
    if owner is not None and name in _HANDLE_WRITES and node.args:
        path = _handle(owner, names, handles)
        return _written(path, node.args[0], names, how) if path else None
    if owner is not None and name in _PATH_WRITES and node.args:
        opened = owner if isinstance(owner, ast.Call) and call_name(owner) == "Path" else None
        path = path_of(opened.args[0], names) if opened is not None and opened.args else None
        return _written(path, node.args[0], names, how) if path else None
    if name in _DUMPS and len(node.args) >= 2:
        path = _handle(node.args[1], names, handles)
        return _written(path, node.args[0], names, how) if path else None
    if name == "print" and node.args:
        to = next((k.value for k in node.keywords if k.arg == "file"), None)
        path = _handle(to, names, handles) if to is not None else None
        return _written(path, node.args[0], names, how) if path else None
    copies = isinstance(owner, ast.Name) and owner.id in _COPY_OWNERS
    if copies and name in _COPIES and len(node.args) >= 2:
        source, dest = path_of(node.args[0], names), path_of(node.args[1], names)
        return Written(dest, None, "", how, source) if source and dest else None
    return None


def _written(path: str | None, value: ast.expr, names: Variables, how: str) -> Written | None:
    if not path:
        return None
    held = names.value(value)
    shown = ast.unparse(value)[:MAX_SHOWN]
    return Written(path, held.text if held is not None else None, shown, how)


_WRITE_VERBS = frozenset(("write", "save", "create", "append", "put", "editor", "edit"))
_PATH_KEYS = frozenset(("path", "file_path", "filepath", "filename", "file", "target_file"))
_TEXT_KEYS = frozenset(("content", "contents", "text", "file_text", "data", "body"))


def written_by(tool_words: tuple[str, ...], arguments: dict[str, Any]) -> tuple[str, str] | None:
    """The (path, text) a file-writing tool's call writes (``write_file(path, content)``,
    ``str_replace_editor(command="create", path, file_text)``): a tool whose name says
    it writes, given a path and a text in arguments named for them."""
    if not _WRITE_VERBS.intersection(tool_words):
        return None
    command = arguments.get("command")
    if isinstance(command, str) and command not in ("create", "write", "append"):
        return None  # an editor's view or replace: not a whole file's text
    path = next((v for k, v in arguments.items() if k.lower() in _PATH_KEYS), None)
    text = next((v for k, v in arguments.items() if k.lower() in _TEXT_KEYS), None)
    if isinstance(path, str) and isinstance(text, str) and path.strip():
        return path.strip(), text
    return None

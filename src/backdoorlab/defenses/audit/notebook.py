"""Python variables across the cells of one trace, read statically: what a code call
sends *by variable*, and where to.

An agent with a Python tool (``python``, ``ipython``, ``execute_ipython_cell``,
``jupyter_execute``…) keeps state between cells and sends data by name, not by value:
``customer = get_customer(…)`` / ``print(customer)`` in one cell, then
``send_email(to=…, body=f"SSN {customer['ssn']}")`` in a later one. The secret never
appears in the later call's text, so the taint's payload match (`taint`) cannot see it.

`Notebook` reads each cell's code with `ast` (never running it) before the call runs and
gives the values of the expressions it uses that refer to a known variable (``code
(customer['ssn'])`` → the SSN), which join the call's payload, so a leak is found by
value as if it had been written there. What a variable holds is what the agent saw: a
variable that a cell printed (``print(x)``, ``display(x)``, a cell's last bare
expression, ``df.head()``) holds that cell's output (its tool result, less the tool's
wrapper), narrowed by ``x['k']``… when the output parses (`cell_output`: a literal, a
record, a pandas table); what a cell printed of a variable's parts (``print(x['a'],
x['b'])``, a loop ``for r in rows: print(r['ssn'])``) is what that variable is known to
hold, as text. A string a cell assigns is held as written. How expressions evaluate:
`notebook_values`. A value no cell printed or wrote is unknown: no guess, the call's
text is read as before.

The same reading gives where a cell sends by variable (`Notebook.addressed`): a known
value that is a URL passed to a call (``requests.post(url, …)``, ``url =
note['callback']`` read from a printed ticket), and the known addresses a mailing call
gets as recipients (``sendmail(frm, to_addr, msg)``, ``to=``, ``msg['To'] = …``:
`code_mail`'s positions and keys). `taint` checks them as the call's destinations.

Files are one world with the shell's (`shell_state`): what a cell writes (`file_writes`:
``df.to_csv(p)``, ``open(p, 'w').write(…)``, ``json.dump(x, f)``, ``shutil.copy``) is
kept in `Notebook.wrote` for `taint` to record, and a file a call wrote with a known text
reads as that text (``open(p).read()``, `notebook_values`).

Bounded on hostile input: code read up to `MAX_CODE` (outputs: `cell_output`), at most
`MAX_CELLS` cells, expressions resolved to `MAX_DEPTH` and `MAX_SENT` of them per call
(values: `notebook_values`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from backdoorlab import python_source
from backdoorlab.defenses.audit import file_writes, patterns
from backdoorlab.defenses.audit.cell_output import RAW, output_text, parsed
from backdoorlab.defenses.audit.notebook_destinations import Addressed, called_to, headed_to
from backdoorlab.defenses.audit.notebook_values import (
    MAX_DEPTH,
    MAX_SHOWN,
    MAX_VALUE,
    Held,
    Variables,
    call_name,
    hashed,
    wrapped,
)

MAX_CODE = 65536
MAX_CELLS = 512
MAX_SENT = 64
MAX_ADDRESSED = 16


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PYTHON_WORDS = _words("python ipython jupyter notebook interpreter repl cell code")
_SHELL_WORDS = _words("bash shell sh zsh terminal cmd powershell command")
_CODE_KEYS = _words("code cell source script input program snippet __raw__")
_PRINTS = frozenset(("print", "display", "pprint", "pp"))
_ITERATES = _words("iterrows itertuples items values keys enumerate sorted reversed list")
"""What a loop's iterable may wrap its variable in (``for i, r in df.iterrows()``)."""


@lru_cache(maxsize=4096)
def python_tool(tool: str) -> bool:
    """Whether ``tool`` runs Python (keeping state between calls), not a shell."""
    tokens = set(patterns.name_tokens(tool))
    return bool(tokens & PYTHON_WORDS) and not tokens & _SHELL_WORDS


def code_of(arguments: dict[str, Any]) -> list[tuple[str, str]]:
    """(argument, code) of a Python tool's call: its code-named string arguments, or its
    only string argument."""
    texts = [(k, v) for k, v in arguments.items() if isinstance(v, str) and v.strip()]
    named = [(k, v) for k, v in texts if k.lower() in _CODE_KEYS]
    return named or (texts if len(texts) == 1 else [])


@dataclass(frozen=True)
class Loop:
    """The loop a statement runs in: the variable it walks (``rows`` of ``for r in
    rows``; "" when it walks no variable) and the names bound to its items."""

    owner: str
    items: frozenset[str]


def _statements(
    body: list[ast.stmt], loop: Loop | None = None
) -> Iterator[tuple[ast.stmt, Loop | None]]:
    """A cell's simple statements in order, compound ones' bodies flattened (a branch or
    a loop read as if it ran once), each with the loop that repeats it (what it prints is
    its items' output); a function's or class's body is not the cell's."""
    for stmt in body:
        if isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While | ast.With):
            yield stmt, loop  # its own header (a loop's target, a with's ``as``)
            inner = loop
            if isinstance(stmt, ast.For | ast.AsyncFor):
                inner = _loop(stmt, loop)
            elif isinstance(stmt, ast.While):
                inner = Loop("", frozenset())
            yield from _statements(stmt.body, inner)
            yield from _statements(stmt.orelse if not isinstance(stmt, ast.With) else [], loop)
        elif isinstance(stmt, ast.Try):
            for part in (stmt.body, *[h.body for h in stmt.handlers], stmt.orelse):
                yield from _statements(part, loop)
            yield from _statements(stmt.finalbody, loop)
        else:
            yield stmt, loop


def _loop(stmt: ast.For | ast.AsyncFor, outer: Loop | None) -> Loop:
    """The loop ``stmt`` runs: over a variable's items, or over an outer loop's item's
    (``for r in rows: for v in r.values()`` still walks ``rows``)."""
    items = frozenset(n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name))
    root = _root(stmt.iter)
    if outer is not None and root in outer.items:
        return Loop(outer.owner, outer.items | items)
    if outer is not None:
        return Loop("", items)  # a loop in a loop over another: whose output is a guess
    return Loop(root or "", items)


def _printed(node: ast.AST) -> list[ast.expr]:
    """The expressions a ``print(…)``/``display(…)`` call shows, else none."""
    if not isinstance(node, ast.Call):
        return []
    return list(node.args) if call_name(node) in _PRINTS else []


def _inner(node: ast.expr, also: frozenset[str] = frozenset()) -> ast.expr | None:
    """What a printed wrapper shows: ``x`` of ``json.dumps(x)``, ``df.head()``,
    ``f"{x}"`` (one hole), and of the calls named in ``also``; None for anything else."""
    if isinstance(node, ast.Call):
        return wrapped(node, also)
    if isinstance(node, ast.JoinedStr):
        holes = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        return holes[0] if len(holes) == 1 else None
    return None


def _root(node: ast.expr) -> str | None:
    """The variable an expression shows (part of): ``x`` of ``x``, ``x['k'].v``,
    ``json.dumps(x)``, ``f"{x['k']}"``, ``df.head()``, ``enumerate(rows)``; None when it
    shows something else."""
    for _ in range(MAX_DEPTH):
        if isinstance(node, ast.Name):
            return node.id
        inner = node.value if isinstance(node, ast.Subscript | ast.Attribute) else None
        inner = inner or _inner(node, _ITERATES)
        if inner is None:
            return None
        node = inner
    return None


def _whole(node: ast.expr) -> bool:
    """Whether a printed expression shows its variable whole (``x``, ``str(x)``,
    ``df.head()``), not a part of it (``x['k']``)."""
    for _ in range(MAX_DEPTH):
        if isinstance(node, ast.Name):
            return True
        inner = _inner(node)
        if inner is None:
            return False
        node = inner
    return False


class Notebook:
    """One trace's Python variables (module docstring): `run` a cell's code before its
    call is checked, give it its `output` when its result comes."""

    def __init__(self, files: Callable[[str], str | None] | None = None) -> None:
        self._files = file_writes.CellFiles(files) if files is not None else None
        self.names = Variables(self._files)  # (no cycle back to the notebook: refcounted)
        self.addressed: list[Addressed] = []
        """Where the cell `run` last read sends by variable."""
        self.wrote: list[file_writes.Written] = []
        """The files the cell `run` last read writes (`file_writes`)."""
        self._cells = 0
        self._pending: dict[str, list[tuple[str, int, bool]]] = {}  # call id → printed

    @property
    def vars(self) -> dict[str, Held]:
        return self.names.vars

    def value(self, node: ast.expr) -> Held | None:
        """What ``node`` evaluates to from known variables (`notebook_values`)."""
        return self.names.value(node)

    def run(self, call_id: str | None, code: str) -> dict[str, str]:
        """Read one cell: the expressions it sends that refer to known variables (their
        source → their values' text), where it sends by variable (`addressed`), and what
        it assigns and prints."""
        self.addressed, self.wrote = [], []
        if self._files is not None:
            self._files.fresh.clear()
        if self._cells >= MAX_CELLS or len(code) > MAX_CODE:
            return {}
        self._cells += 1
        try:
            tree = python_source.parse(code)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return {}
        sent: dict[str, str] = {}
        printed: list[tuple[str, int, bool]] = []
        reads = self.names.files is not None and any(w in code for w in _READ_WORDS)
        writes = any(w in code for w in file_writes.CHEAP)
        handles: dict[str, str] = {}  # names of files opened for writing
        try:
            for stmt, loop in _statements(tree.body):
                local: set[int] = set()  # the statement's writes to files: not sent
                if writes and len(self.wrote) < MAX_SENT:
                    now = file_writes.in_cell(stmt, _heads(stmt), self.names, handles, local)
                    self._wrote(now)
                if self.vars or reads:  # nothing known, nothing to resolve (most cells)
                    self._sends(stmt, sent, local)
                self._assign(stmt)
                for expr in self._shown(stmt, stmt is tree.body[-1]):
                    printed.append(self._shows(expr, loop))
        except RecursionError:
            return sent
        if call_id is not None and printed:
            self._pending[call_id] = printed
        return sent

    def _wrote(self, now: list[file_writes.Written]) -> None:
        """A statement's writes, which the cell's later statements read (a cell that
        writes a file and uploads it sends that text; an unknown text is unknown)."""
        self.wrote += now
        for w in now if self._files is not None else ():
            self._files.wrote(w.path, self._files(w.source) if w.source else w.text)

    def _shows(self, expr: ast.expr, loop: Loop | None) -> tuple[str, int, bool]:
        """(the variable a printed expression shows, its version, whether whole);
        ("", 0, False) when it shows no one variable."""
        root = _root(expr)
        if loop is not None:
            if root not in loop.items or not loop.owner:
                return "", 0, False
            root = loop.owner
            whole = False
        else:
            whole = _whole(expr)
        if root is None:
            return "", 0, False
        return root, self.names.version.get(root, 0), whole

    def output(self, call_id: str | None, text: str) -> None:
        """A cell's result: the one variable it printed (still as printed) holds it,
        parsed when it was printed whole."""
        printed = self._pending.pop(call_id, None) if call_id is not None else None
        if not printed or len({p[:2] for p in printed}) != 1 or not printed[0][0]:
            return  # several things printed: which part is whose is a guess
        name, version, whole = printed[0]
        out = output_text(text)
        if not out or self.names.version.get(name, 0) != version or "Traceback (most recent" in out:
            return
        whole = whole and len(printed) == 1
        if not whole and name in self.vars:
            return  # parts of a value known whole: the whole says more
        self.names.set(name, Held(out[:MAX_VALUE], parsed(out) if whole else RAW))

    @staticmethod
    def _shown(stmt: ast.stmt, last: bool) -> list[ast.expr]:
        if not isinstance(stmt, ast.Expr):
            return []
        shown = _printed(stmt.value)
        value = stmt.value
        if shown or not last or isinstance(value, ast.Constant):
            return shown
        if isinstance(value, ast.Call) and _root(value) is None:
            return []  # a call's result displayed: not a variable's
        return [value]  # a cell's last bare expression is displayed

    def _assign(self, stmt: ast.stmt) -> None:
        """Update the variables ``stmt`` assigns: a simple ``name = expr`` gets its value
        (unknown for a call's result until printed); any other name bound, unknown."""
        names = self.names
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = names.value(stmt.value)
            for target in targets:
                if isinstance(target, ast.Name):
                    names.set(target.id, value)
                else:
                    self._unbind(target)
        elif isinstance(stmt, ast.With):  # ``with open(p) as f``: f reads p's known text
            for item in stmt.items:
                target = item.optional_vars
                if isinstance(target, ast.Name):
                    names.set(target.id, names.value(item.context_expr))
                elif target is not None:
                    self._unbind(target)
        elif isinstance(stmt, ast.AugAssign | ast.For | ast.AsyncFor):
            self._unbind(stmt.target)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.set(stmt.name, None)
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for alias in stmt.names:
                names.set((alias.asname or alias.name).split(".")[0], None)

    def _unbind(self, target: ast.AST) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                self.names.set(node.id, None)

    def _sends(self, stmt: ast.stmt, sent: dict[str, str], local: set[int]) -> None:
        """The known values ``stmt`` passes to a call (not to ``print``, nor into a
        digest: `notebook_values.HASHES`), each as the widest expression that resolves:
        ``customer['plan']``, not ``customer``; and where its calls send (`addressed`).
        A write to a local file (``local``, `file_writes`) sends nothing: a cell that
        uploads the file sends its text (`_wrote`)."""
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return
        if isinstance(stmt, ast.Assign) and len(self.addressed) < MAX_ADDRESSED:
            self.addressed += headed_to(stmt, self.names)
        stack: list[tuple[ast.AST, bool]] = [(r, False) for r in _heads(stmt)]
        while stack and len(sent) < MAX_SENT:
            node, argument = stack.pop()
            if _printed(node) or hashed(node) or (local and id(node) in local):
                continue
            if isinstance(node, ast.Call) and len(self.addressed) < MAX_ADDRESSED:
                self.addressed += called_to(node, self.names)
            if argument and isinstance(node, _RESOLVED):
                held = self.names.value(node)
                if held is not None and (
                    _chain(node) or _refers(node, self.vars) or self.names.reads_file(node)
                ):
                    sent.setdefault(ast.unparse(node)[:MAX_SHOWN], held.text)
                    continue
            if isinstance(node, ast.Call):
                stack.append((node.func, argument))
                stack.extend((a, True) for a in node.args)
                stack.extend((k.value, True) for k in node.keywords)
                continue
            if isinstance(node, ast.Subscript | ast.Attribute) and _chain(node):
                if isinstance(node, ast.Subscript):  # x['unknown']: not the whole of x
                    stack.append((node.slice, argument))
                continue
            stack.extend((child, argument) for child in ast.iter_child_nodes(node))


_READ_WORDS = ("open(", "Path(", "read_")
"""What a cell that reads a file holds (`Notebook.run`'s cheap test)."""
_RESOLVED = (ast.Name, ast.Subscript, ast.Attribute, ast.Call, ast.Dict, ast.List, ast.Tuple)


def _refers(node: ast.AST, known: dict[str, Held]) -> bool:
    """Whether ``node`` names a known variable (a literal alone sends nothing new)."""
    return any(isinstance(n, ast.Name) and n.id in known for n in ast.walk(node))


def _chain(node: ast.expr) -> bool:
    """Whether ``node`` is a name's subscripts and attributes (``x['k'].v``)."""
    for _ in range(MAX_DEPTH):
        if isinstance(node, ast.Name):
            return True
        if not isinstance(node, ast.Subscript | ast.Attribute):
            return False
        node = node.value
    return False


def _heads(stmt: ast.stmt) -> list[ast.AST | None]:
    """The expressions a statement evaluates itself (a compound one's header only: its
    body's statements come one by one, `_statements`)."""
    if isinstance(stmt, ast.If | ast.While):
        return [stmt.test]
    if isinstance(stmt, ast.For | ast.AsyncFor):
        return [stmt.iter]
    if isinstance(stmt, ast.With):
        return [item.context_expr for item in stmt.items]
    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
        return [stmt.value]
    return [stmt]

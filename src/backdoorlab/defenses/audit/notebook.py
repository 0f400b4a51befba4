"""Python variables across the cells of one trace, read statically: what a code call
sends *by variable*.

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
expression) holds that cell's output (its tool result, less the tool's wrapper), and
``x['k']``, ``x.get('k')``, ``x.k``, ``x[0]`` narrow it to that part when the output
parses as a literal (`cell_output`), so sending a harmless field sends that field only.
``y = x``, ``y = x['k']``, f-strings and ``+`` of those follow. A value no cell printed
is unknown: no guess, the call's text is read as before. An expression printed is not
sent (its value goes to the agent), nor what a loop printed (several values' output).

Bounded on hostile input: code read up to `MAX_CODE` (outputs: `cell_output`), at most
`MAX_CELLS` cells, `MAX_VARS` variables of `MAX_VALUE` characters (`MAX_TOTAL` in all)
per trace, expressions resolved to `MAX_DEPTH` and `MAX_SENT` of them per call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.cell_output import RAW, output_text, parsed

MAX_CODE = 65536
MAX_CELLS = 512
MAX_VARS = 256
MAX_VALUE = 16384
MAX_TOTAL = 1 << 20
MAX_DEPTH = 24
MAX_SENT = 64
MAX_SHOWN = 80  # characters of an expression named in an argument


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PYTHON_WORDS = _words("python ipython jupyter notebook interpreter repl cell code")
_SHELL_WORDS = _words("bash shell sh zsh terminal cmd powershell command")
_CODE_KEYS = _words("code cell source script input program snippet __raw__")
_PRINTS = frozenset(("print", "display", "pprint", "pp"))
_WRAPS = frozenset(("str", "repr", "dict", "list", "dumps", "pformat", "to_dict", "tolist"))
_SAME = frozenset(("strip", "encode", "decode", "format"))


@dataclass(frozen=True)
class Held:
    """What a variable holds: its text as the agent saw it, and that text parsed."""

    text: str
    obj: Any = RAW


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


def _statements(body: list[ast.stmt], looped: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """A cell's simple statements in order, compound ones' bodies flattened (a branch or
    a loop read as if it ran once), each with whether a loop repeats it (what it prints
    is several values' output); a function's or class's body is not the cell's."""
    for stmt in body:
        if isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While | ast.With):
            yield stmt, looped  # its own header (a loop's target, a with's ``as``)
            loop = looped or isinstance(stmt, ast.For | ast.AsyncFor | ast.While)
            yield from _statements(stmt.body, loop)
            yield from _statements(stmt.orelse if not isinstance(stmt, ast.With) else [], looped)
        elif isinstance(stmt, ast.Try):
            for part in (stmt.body, *[h.body for h in stmt.handlers], stmt.orelse):
                yield from _statements(part, looped)
            yield from _statements(stmt.finalbody, looped)
        else:
            yield stmt, looped


def _printed(node: ast.AST) -> list[ast.expr]:
    """The expressions a ``print(…)``/``display(…)`` call shows, else none."""
    if not isinstance(node, ast.Call):
        return []
    func = node.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    return list(node.args) if name in _PRINTS else []


def _unwrapped(node: ast.expr) -> ast.expr:
    """``json.dumps(x, indent=2)``, ``str(x)``, ``f"{x}"`` read as ``x`` (what is printed)."""
    for _ in range(MAX_DEPTH):
        if isinstance(node, ast.Call) and node.args and _call_name(node) in _WRAPS:
            node = node.args[0]
        elif isinstance(node, ast.JoinedStr):
            holes = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
            if len(holes) != 1:
                return node
            node = holes[0]
        else:
            return node
    return node


def _call_name(node: ast.Call) -> str:
    func = node.func
    return (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )


def _text(value: Any) -> str:
    return (value if isinstance(value, str) else str(value))[:MAX_VALUE]


def _part(held: Held, key: Any) -> Held | None:
    """``held[key]`` when ``held`` parsed and has it; None (unknown) otherwise."""
    obj = held.obj
    try:
        indexed = isinstance(obj, list | tuple) and isinstance(key, int)
        if not (isinstance(obj, dict) and key in obj or indexed and -len(obj) <= key < len(obj)):
            return None
        value = obj[key]
    except TypeError:  # an unhashable key
        return None
    return Held(_text(value), value if isinstance(value, dict | list | tuple) else RAW)


class Notebook:
    """One trace's Python variables (module docstring): `run` a cell's code before its
    call is checked, give it its `output` when its result comes."""

    def __init__(self) -> None:
        self.vars: dict[str, Held] = {}
        self._version: dict[str, int] = {}
        self._clock = 0
        self._size = 0
        self._cells = 0
        self._pending: dict[str, list[tuple[str, int]]] = {}  # call id → printed (name, version)

    def run(self, call_id: str | None, code: str) -> dict[str, str]:
        """Read one cell: the expressions it sends that refer to known variables (their
        source → their values' text), and what it assigns and prints."""
        if self._cells >= MAX_CELLS or len(code) > MAX_CODE:
            return {}
        self._cells += 1
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return {}
        sent: dict[str, str] = {}
        printed: list[tuple[str, int]] = []
        try:
            for stmt, looped in _statements(tree.body):
                if self.vars:  # nothing known, nothing to resolve (most cells)
                    self._sends(stmt, sent)
                self._assign(stmt)
                for expr in self._shown(stmt, stmt is tree.body[-1]):
                    target = _unwrapped(expr)
                    if isinstance(target, ast.Name) and not looped:
                        printed.append((target.id, self._version.get(target.id, 0)))
                    else:
                        printed.append(("", 0))  # something else printed: output not one's
        except RecursionError:
            return sent
        if call_id is not None and printed:
            self._pending[call_id] = printed
        return sent

    def output(self, call_id: str | None, text: str) -> None:
        """A cell's result: the one variable it printed (still as printed) holds it."""
        printed = self._pending.pop(call_id, None) if call_id is not None else None
        if not printed or len(printed) != 1 or not printed[0][0]:
            return  # several things printed: which part is whose is a guess
        name, version = printed[0]
        out = output_text(text)
        if not out or self._version.get(name, 0) != version or "Traceback (most recent" in out:
            return
        self._set(name, Held(out[:MAX_VALUE], parsed(out)))

    @staticmethod
    def _shown(stmt: ast.stmt, last: bool) -> list[ast.expr]:
        if not isinstance(stmt, ast.Expr):
            return []
        shown = _printed(stmt.value)
        if not shown and last and not isinstance(stmt.value, ast.Call | ast.Constant):
            return [stmt.value]  # a cell's last bare expression is displayed
        return shown

    def _set(self, name: str, held: Held | None) -> None:
        self._clock += 1
        self._version[name] = self._clock
        old = self.vars.pop(name, None)
        self._size -= len(old.text) if old else 0
        if held is None or len(self.vars) >= MAX_VARS or self._size + len(held.text) > MAX_TOTAL:
            return
        self.vars[name] = held
        self._size += len(held.text)

    def _assign(self, stmt: ast.stmt) -> None:
        """Update the variables ``stmt`` assigns: a simple ``name = expr`` gets its value
        (unknown for a call's result until printed); any other name bound, unknown."""
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = self.value(stmt.value)
            for target in targets:
                if isinstance(target, ast.Name):
                    self._set(target.id, value)
                else:
                    self._unbind(target)
        elif isinstance(stmt, ast.AugAssign | ast.For | ast.AsyncFor | ast.With):
            for target in (
                [stmt.target]
                if not isinstance(stmt, ast.With)
                else [i.optional_vars for i in stmt.items]
            ):
                if target is not None:
                    self._unbind(target)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self._set(stmt.name, None)
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for alias in stmt.names:
                self._set((alias.asname or alias.name).split(".")[0], None)

    def _unbind(self, target: ast.AST) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                self._set(node.id, None)

    def value(self, node: ast.expr, depth: int = 0) -> Held | None:
        """What ``node`` evaluates to from known variables; None when unknown."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Name):
            return self.vars.get(node.id)
        if isinstance(node, ast.Subscript | ast.Attribute):
            base = self.value(node.value, depth + 1)
            if base is None:
                return None
            if isinstance(node, ast.Attribute):
                return _part(base, node.attr)
            key = node.slice
            if (
                isinstance(key, ast.UnaryOp)
                and isinstance(key.op, ast.USub)
                and isinstance(key.operand, ast.Constant)
            ):
                return (
                    _part(base, -key.operand.value) if isinstance(key.operand.value, int) else None
                )
            return _part(base, key.value) if isinstance(key, ast.Constant) else None
        if isinstance(node, ast.Call):
            return self._called(node, depth)
        if isinstance(node, ast.Dict | ast.List | ast.Tuple):
            return self._built(node, depth)
        if isinstance(node, ast.JoinedStr | ast.BinOp):
            parts = self._joined(node, depth)
            if parts is None:
                return None
            return Held("".join(parts)[:MAX_VALUE])
        return None

    def _called(self, node: ast.Call, depth: int) -> Held | None:
        name = _call_name(node)
        func = node.func
        if isinstance(func, ast.Attribute) and name == "get" and node.args:
            base = self.value(func.value, depth + 1)
            key = node.args[0]
            return _part(base, key.value) if base and isinstance(key, ast.Constant) else None
        if name in _WRAPS and node.args:
            return self.value(node.args[0], depth + 1)
        if isinstance(func, ast.Attribute) and name in _SAME | {"upper", "lower"}:
            base = self.value(func.value, depth + 1)
            if base is None or name in _SAME:
                return base
            return Held(base.text.upper() if name == "upper" else base.text.lower())
        return None

    def _built(self, node: ast.Dict | ast.List | ast.Tuple, depth: int) -> Held | None:
        """A dict or list written in the cell holding known values (``{"ssn": x['ssn']}``):
        its known items, None when it holds none."""
        items = node.values if isinstance(node, ast.Dict) else node.elts
        keys = node.keys if isinstance(node, ast.Dict) else [None] * len(items)
        obj: dict[Any, Any] = {}
        for i, (key, item) in enumerate(zip(keys, items[:MAX_SENT], strict=False)):
            held = self.value(item, depth + 1)
            if held is None:
                continue
            name = key.value if isinstance(key, ast.Constant) else i
            obj[name] = held.obj if held.obj is not RAW else held.text
        if not obj:
            return None
        value = obj if isinstance(node, ast.Dict) else list(obj.values())
        return Held(_text(value), value)

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

    def _sends(self, stmt: ast.stmt, sent: dict[str, str]) -> None:
        """The known values ``stmt`` passes to a call (not to ``print``), each as the
        widest expression that resolves: ``customer['plan']``, not ``customer``."""
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return
        stack: list[tuple[ast.AST, bool]] = [(r, False) for r in _heads(stmt)]
        while stack and len(sent) < MAX_SENT:
            node, argument = stack.pop()
            if _printed(node):
                continue
            if argument and self.vars and isinstance(node, _RESOLVED):
                held = self.value(node)
                if held is not None:
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


_RESOLVED = (ast.Name, ast.Subscript, ast.Attribute, ast.Call, ast.Dict, ast.List, ast.Tuple)


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

"""The lineage graph of an artifact, back to its roots, each edge checked by digest.

Every lineage names its inputs by path and content digest; following them gives the
artifact's ancestry: a trained model ← its dataset ← the poisoned set ← the clean
collection, and ← the base model. Each edge is verified: the input on disk must still
have the digest the lineage recorded (an input edited since is shown as such), and each
node carries its verdicts (audit, scan) and whether its own files still match the
lineage's subjects.

An artifact inside a stage or run directory (``stages/train-…/model``) may have no
lineage of its own; the nearest directory above it whose lineage lists its files stands
for it.

Lineages are data from anywhere, so the walk is bounded by what is on disk, not by what
the records claim: an artifact reached a second time (two lineages naming the same input,
legitimately or a chain of files each naming the next twice, which would otherwise be
drawn 2^depth times) is drawn once, later mentions marked `Node.repeated`; and an input
that cannot be read (a ``file:`` URI no path can spell, ``/proc``, a file that vanished)
is an ``unreadable`` edge, not an OSError out of the walk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from backdoorlab.errors import BackdoorlabError
from backdoorlab.provenance.attest import Attestation, attestations
from backdoorlab.provenance.layout import artifact_digest, lineage_path
from backdoorlab.provenance.lineage import read_statement

MAX_DEPTH = 32
"""Lineages deeper than this are cut (a cycle, which content digests make impossible
unless a file was edited into one)."""


@dataclass
class Node:
    """One artifact in the lineage graph."""

    name: str
    path: Path | None
    kind: str | None = None
    """The stage that built it (collect, poison, train, ...); None for a root."""
    edge: str = "root"
    """How the edge from its consumer checks: verified, digest differs, missing,
    unreadable, name only."""
    intact: bool | None = None
    """Its files match its lineage's subjects (None: no lineage)."""
    repeated: bool = False
    """Drawn with its inputs elsewhere in the tree (above); here without them."""
    verdicts: list[Attestation] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def walk(self) -> list[Node]:
        """This node and every node below it, depth first."""
        return [self, *(n for child in self.children for n in child.walk())]


def find_lineage(path: Path) -> tuple[dict[str, Any], Path] | None:
    """The lineage describing ``path`` and the artifact it belongs to: ``path``'s own, or
    that of the nearest directory above whose subjects include ``path``'s files. An own
    lineage file holding no JSON object is refused (`BackdoorlabError` naming it), not
    read as none."""
    own = read_statement(lineage_path(path)) if path.exists() else None
    if own is not None:
        _check_shape(own, lineage_path(path))
        return own, path
    if path.exists() and lineage_path(path).is_file():  # there, but no JSON object in it:
        # a damaged or replaced lineage, which "no lineage" (exit 0) would have hidden
        raise BackdoorlabError(f"{lineage_path(path)}: not a lineage (no JSON object in it)")
    for parent in list(path.parents)[:4]:
        record = read_statement(parent / "provenance.intoto.json")
        if record is None:
            continue
        _check_shape(record, parent / "provenance.intoto.json")
        prefix = path.relative_to(parent).as_posix()
        names = [s.get("name", "") for s in record.get("subject", [])]
        if any(n == prefix or n.startswith(prefix + "/") for n in names):
            return record, parent
    return None


def _check_shape(record: dict[str, Any], source: Path) -> None:
    """Refuse, naming the file and the field, a lineage whose fields this module reads
    are not of the types it reads them as (lineages are data from anywhere)."""

    def need(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(value, kind):
            raise BackdoorlabError(f"{source}: field '{where}': not {_KINDS[kind]}")
        return value

    for n, subject in enumerate(need(record.get("subject", []), list, "subject")):
        name = need(need(subject, dict, f"subject.{n}").get("name", ""), str, f"subject.{n}.name")
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise BackdoorlabError(f"{source}: field 'subject.{n}.name': outside the artifact")
        need(subject.get("digest") or {}, dict, f"subject.{n}.digest")
    build = need(
        need(record.get("predicate", {}), dict, "predicate").get("buildDefinition", {}),
        dict,
        "predicate.buildDefinition",
    )
    where = "predicate.buildDefinition.externalParameters"
    need(
        need(build.get("externalParameters", {}), dict, where).get("kind"),
        (str, type(None)),
        f"{where}.kind",
    )
    where = "predicate.buildDefinition.resolvedDependencies"
    for n, dependency in enumerate(need(build.get("resolvedDependencies", []), list, where)):
        need(
            need(dependency, dict, f"{where}.{n}").get("digest") or {}, dict, f"{where}.{n}.digest"
        )


_KINDS: dict[Any, str] = {
    list: "a list",
    dict: "an object",
    str: "a string",
    (str, type(None)): "a string",
}


def _intact(record: dict[str, Any], holder: Path, path: Path) -> bool:
    """Whether the files of ``path`` still have the digests ``record`` lists (names outside
    ``holder`` were refused on reading; a file that cannot be read is not intact)."""
    from backdoorlab.digests import artifact_sha256

    prefix = "" if holder == path else path.relative_to(holder).as_posix()
    for subject in record.get("subject", []):
        name = subject.get("name", "")
        if prefix and not (name == prefix or name.startswith(prefix + "/")):
            continue
        target = holder / name if holder.is_dir() else holder
        wanted = (subject.get("digest") or {}).get("sha256")
        try:
            if not target.is_file() or artifact_sha256(target) != wanted:
                return False
        except OSError:
            return False
    return True


BROKEN_EDGES = frozenset({"digest differs", "missing", "unreadable"})
"""Edges that do not check (`Node.edge`)."""


def lineage(path: Path) -> Node:
    """The lineage tree of ``path`` (`BackdoorlabError` when ``path`` itself cannot be
    read; an input that cannot be read is an ``unreadable`` edge)."""
    try:
        return _lineage(Path(path), (), {})
    except OSError as exc:
        raise BackdoorlabError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _lineage(path: Path, holders: tuple[Path, ...], seen: dict[Path, Node]) -> Node:
    """A lineage already used further down the tree does not describe ``path`` again: an
    input kept inside the directory it helped build (the attacker's traces in its run
    directory) is a root, not its own descendant. ``seen``: the nodes drawn so far."""
    key = Path(os.path.realpath(path))  # Path.resolve raises on a symbolic link loop
    if key in seen:  # drawn once with its inputs; here only named
        first = seen[key]
        return Node(path.name, path, first.kind, intact=first.intact, repeated=True)
    node = seen[key] = Node(path.name, path)
    if path.exists():
        node.verdicts = attestations(path)
    found = find_lineage(path) if path.exists() else None
    if found is None or len(holders) >= MAX_DEPTH or found[1].resolve() in holders:
        return node
    record, holder = found
    holders = (*holders, holder.resolve())
    build = record.get("predicate", {}).get("buildDefinition", {})
    node.kind = build.get("externalParameters", {}).get("kind")
    node.intact = _intact(record, holder, path)
    for dependency in build.get("resolvedDependencies", []):
        if dependency.get("name") == "backdoorlab":
            continue
        node.children.append(_edge(dependency, holders, seen))
    return node


def _edge(dependency: dict[str, Any], holders: tuple[Path, ...], seen: dict[Path, Node]) -> Node:
    """The input a lineage names, its digest checked against what is on disk."""
    name, uri = str(dependency.get("name", "?")), str(dependency.get("uri", ""))
    wanted = (dependency.get("digest") or {}).get("sha256")
    if not uri.startswith("file:"):
        return Node(f"{name}: {uri.rsplit(':', 1)[-1]}", None, edge="name only")
    try:
        path = Path(unquote(urlparse(uri).path))
    except ValueError:  # urlparse: "file://[::1/x" and the like
        return Node(f"{name}: {uri}", None, edge="unreadable")
    try:
        if not (path.is_file() or path.is_dir()):  # a device or a pipe would be read forever
            return Node(f"{name}: {path}", path, edge="missing")
        child = _lineage(path, holders, seen)
        child.edge = "verified" if artifact_digest(path) == wanted else "digest differs"
    except OSError as exc:  # a name too long, /proc, permissions, a file gone meanwhile
        return Node(f"{name}: {path} ({exc.strerror or exc})", path, edge="unreadable")
    child.name = f"{name}: {path}"
    return child

"""provenance: sign, verify and show an artifact's lineage; export a run's ML-BOM."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from backdoorlab.cli.output import console, print_json, results_console
from backdoorlab.terminal import plain

if TYPE_CHECKING:
    from rich.tree import Tree

    from backdoorlab.provenance.graph import Node

provenance_app = typer.Typer(
    help="Signed lineage of models, datasets and runs (OpenSSF model-signing, in-toto).",
    no_args_is_help=True,
)

Artifact = Annotated[Path, typer.Argument(help="A model directory, a dataset file or a run dir.")]


@provenance_app.command()
def sign(
    path: Artifact,
    key: Annotated[Path, typer.Option(help="EC private key (PEM).")],
    cert: Annotated[
        Path | None, typer.Option(help="Signing certificate (PEM) for the key.")
    ] = None,
    chain: Annotated[
        list[Path] | None, typer.Option(help="Certificate chain of --cert (repeatable).")
    ] = None,
) -> None:
    """Sign PATH with OpenSSF model-signing (a DSSE envelope in a Sigstore bundle)."""
    from backdoorlab.provenance.signing import sign as sign_artifact

    target = sign_artifact(path, key, certificate=cert, chain=chain or ())
    console.print(plain(f"signed {path} → {target}"), soft_wrap=True)


@provenance_app.command()
def verify(
    path: Artifact,
    public_key: Annotated[
        list[Path] | None, typer.Option(help="Trusted EC public key (PEM; repeatable).")
    ] = None,
    cert_chain: Annotated[
        list[Path] | None,
        typer.Option(help="Trusted certificate chain, for certificate signatures (repeatable)."),
    ] = None,
) -> None:
    """Verify PATH's signature: exit 0 when it verifies, 1 naming each file that differs."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.provenance.signing import verify as verify_artifact

    if not public_key and not cert_chain:
        raise BackdoorlabError("give --public-key (or --cert-chain) to verify against")
    result = verify_artifact(path, public_key or [], chain=cert_chain)
    out = results_console()
    if result.ok:
        out.print(Text.assemble(("verified", "bold green"), plain(f": {path}")), soft_wrap=True)
        return
    out.print(Text.assemble(("NOT verified", "bold red"), plain(f": {path}")), soft_wrap=True)
    for line in result.problems:
        out.print(plain(f"  {line}"), soft_wrap=True)
    raise typer.Exit(1)


@provenance_app.command()
def show(
    path: Artifact,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tree as JSON.")] = False,
) -> None:
    """Draw PATH's lineage back to its roots: each edge checked by digest, each node's
    verdicts. Exit 1 when an edge or a node does not check."""
    from backdoorlab.files import check_input_file
    from backdoorlab.provenance.graph import lineage

    if not Path(path).is_dir():
        check_input_file(path)
    root = lineage(path)
    bad = {"digest differs", "missing"}
    broken = [n for n in root.walk() if n.edge in bad or n.intact is False]
    if as_json:
        print_json(_as_dict(root))
    else:
        from rich.tree import Tree

        tree = Tree(_label(root))
        _grow(tree, root)
        results_console().print(tree)
    if broken:
        raise typer.Exit(1)


def _label(node: Node) -> Text:
    style = {"verified": "green", "root": "bold", "name only": "yellow"}.get(node.edge, "bold red")
    parts: list[Text | tuple[str, str] | str] = [plain(node.name, "bold"), " "]
    parts.append((f"[{node.kind or 'root'}]", "cyan"))
    parts.append((f" {node.edge}", style))
    if node.intact is False:
        parts.append((" files differ from their lineage", "bold red"))
    for verdict in node.verdicts:
        colour = "green" if verdict.verdict == "pass" and verdict.current else "red"
        stale = "" if verdict.current else " (other content)"
        parts.append((f" {verdict.kind}: {verdict.verdict}{stale}", colour))
    return Text.assemble(*parts)


def _grow(tree: Tree, node: Node) -> None:
    for child in node.children:
        _grow(tree.add(_label(child)), child)


def _as_dict(node: Node) -> dict[str, object]:
    return {
        "name": node.name,
        "path": str(node.path) if node.path else None,
        "kind": node.kind,
        "edge": node.edge,
        "intact": node.intact,
        "verdicts": [
            {"kind": v.kind, "verdict": v.verdict, "current": v.current} for v in node.verdicts
        ],
        "inputs": [_as_dict(child) for child in node.children],
    }


@provenance_app.command()
def bom(
    run_dir: Annotated[Path, typer.Argument(help="A run or model directory with a lineage.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the BOM here (default stdout).")
    ] = None,
) -> None:
    """Export RUN_DIR's ML-BOM: CycloneDX JSON, the model and its datasets."""
    import json

    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import atomic_writer
    from backdoorlab.provenance.bom import bom as make_bom

    if not Path(run_dir).is_dir():
        raise BackdoorlabError(f"{run_dir}: not a directory")
    document = make_bom(run_dir)
    if output is None:
        print_json(document)
        return
    with atomic_writer(output) as handle:
        json.dump(document, handle, indent=2)
    console.print(plain(f"ML-BOM → {output}"))

"""provenance: sign, verify and show an artifact's lineage; export a run's ML-BOM."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from backdoorlab.cli.output import check_paths, console, print_json, results_console
from backdoorlab.terminal import plain

if TYPE_CHECKING:
    from rich.tree import Tree

    from backdoorlab.provenance.graph import Node

provenance_app = typer.Typer(
    help="Signed lineage of models, datasets and runs (OpenSSF model-signing, in-toto).",
    no_args_is_help=True,
)

Artifact = Annotated[Path, typer.Argument(help="A model directory, a dataset file or a run dir.")]

SignKey = Annotated[
    Path | None,
    typer.Option(
        "--sign-key",
        help="EC private key (PEM): sign the verdict attached to the input (a DSSE "
        "envelope) and the files written (model-signing).",
    ),
]
"""``audit`` and ``scan``: the attester's key."""


def check_sign_key(key: Path | None, artifact: object, what: str) -> None:
    """Refuse a ``--sign-key`` before the (long) command runs: an unusable key, or an
    input that gets no verdict to sign (stdin, a glob, a model name)."""
    if key is None:
        return
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.provenance.keys import load_private_key

    load_private_key(key)
    if str(artifact) == "-" or not Path(str(artifact)).exists():
        raise BackdoorlabError(
            f"--sign-key: {artifact} is not {what} on disk, so no verdict is attached to sign"
        )


def sign_verdict(key: Path | None, artifact: object, kind: str, *outputs: object) -> None:
    """After ``audit``/``scan``: sign what it attached and wrote, and say so on stderr."""
    if key is None:
        return
    from backdoorlab.provenance.attest import sign_verdict as sign_all

    for path in sign_all(Path(str(artifact)), kind, key, [o for o in outputs if o is not None]):
        console.print(plain(f"signed with {key.name} → {path}"), soft_wrap=True)


@provenance_app.command()
def sign(
    path: Artifact,
    key: Annotated[Path | None, typer.Option(help="EC private key (PEM).")] = None,
    cert: Annotated[
        Path | None, typer.Option(help="Signing certificate (PEM) for the key.")
    ] = None,
    chain: Annotated[
        list[Path] | None, typer.Option(help="Certificate chain of --cert (repeatable).")
    ] = None,
    sigstore: Annotated[
        bool,
        typer.Option(
            "--sigstore",
            help="Sigstore keyless signing (needs network access: OIDC, Fulcio, Rekor).",
        ),
    ] = False,
    identity_token: Annotated[
        str | None, typer.Option(help="--sigstore: an OIDC token (default: ambient, or login).")
    ] = None,
) -> None:
    """Sign PATH with OpenSSF model-signing (a DSSE envelope in a Sigstore bundle); a
    file's lineage beside it is signed too (a DSSE envelope)."""
    from backdoorlab.errors import BackdoorlabError

    if sigstore:
        if key is not None or cert is not None:
            raise BackdoorlabError("--sigstore signs without a key: drop --key/--cert")
        from backdoorlab.provenance.keyless import sign_keyless

        target = sign_keyless(path, identity_token=identity_token)
    else:
        if key is None:
            raise BackdoorlabError("give --key private.pem (or --sigstore, with a network)")
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
    from backdoorlab.provenance.keys import check_chain
    from backdoorlab.provenance.signing import check_public_key
    from backdoorlab.provenance.signing import verify as verify_artifact

    if not public_key and not cert_chain:
        raise BackdoorlabError("give --public-key (or --cert-chain) to verify against")
    for key in public_key or []:  # a bad key is a usage error, whatever the artifact
        check_public_key(key)
    check_chain(cert_chain or ())
    if not path.exists() and not path.is_symlink():
        raise BackdoorlabError(f"{path}: no such file or directory")
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
    public_key: Annotated[
        list[Path] | None,
        typer.Option(help="Attester public key (PEM) to check the verdicts' signatures."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tree as JSON.")] = False,
) -> None:
    """Draw PATH's lineage back to its roots: each edge checked by digest, each node's
    verdicts with who signed them. Exit 1 when an edge or a node does not check."""
    from backdoorlab.files import check_input_file
    from backdoorlab.provenance.graph import BROKEN_EDGES, lineage
    from backdoorlab.provenance.keys import load_public_key

    if not Path(path).is_dir():
        check_input_file(path)
    keys = list(public_key or []) or None
    for key in keys or []:
        load_public_key(key)
    root = lineage(path)
    broken = [n for n in root.walk() if n.edge in BROKEN_EDGES or n.intact is False]
    if as_json:
        print_json(_as_dict(root, keys))
    else:
        from rich.tree import Tree

        tree = Tree(_label(root, keys))
        _grow(tree, root, keys)
        results_console().print(tree)
    if broken:
        raise typer.Exit(1)


def _label(node: Node, keys: list[Path] | None) -> Text:
    """One node's line; every word read from a lineage or a verdict (kinds, verdicts, key
    ids) is untrusted text, printed through `plain` so no control character reaches the
    terminal."""
    style = {"verified": "green", "root": "bold", "name only": "yellow"}.get(node.edge, "bold red")
    parts: list[Text | tuple[str, str] | str] = [plain(node.name, "bold"), " "]
    parts.append(plain(f"[{node.kind or 'root'}]", "cyan"))
    parts.append((f" {node.edge}", style))
    if node.intact is False:
        parts.append((" files differ from their lineage", "bold red"))
    if node.repeated:
        parts.append((" (drawn above)", "dim"))
    for verdict in node.verdicts:
        seal = verdict.seal(keys)
        good = verdict.verdict == "pass" and verdict.current and seal.state != "does not verify"
        stale = "" if verdict.current else " (other content)"
        parts.append(
            plain(f" {verdict.kind}: {verdict.verdict}{stale}", "green" if good else "red")
        )
        parts.append(plain(f" ({seal.describe()})", "green" if seal.ok else "yellow"))
    return Text.assemble(*parts)


def _grow(tree: Tree, node: Node, keys: list[Path] | None) -> None:
    for child in node.children:
        _grow(tree.add(_label(child, keys)), child, keys)


def _as_dict(node: Node, keys: list[Path] | None) -> dict[str, object]:
    verdicts = []
    for v in node.verdicts:
        seal = v.seal(keys)
        signer = {"state": seal.state, "key": seal.key and str(seal.key), "keyids": seal.keyids}
        verdicts.append(
            {"kind": v.kind, "verdict": v.verdict, "current": v.current, "signer": signer}
        )
    return {
        "name": node.name,
        "path": str(node.path) if node.path else None,
        "kind": node.kind,
        "edge": node.edge,
        "intact": node.intact,
        "repeated": node.repeated,
        "verdicts": verdicts,
        "inputs": [_as_dict(child, keys) for child in node.children],
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
    from backdoorlab.provenance.graph import find_lineage
    from backdoorlab.provenance.layout import lineage_path

    if not Path(run_dir).is_dir():
        raise BackdoorlabError(f"{run_dir}: not a directory")
    found = find_lineage(Path(run_dir))
    # the BOM is made of the lineage and the files it names: -o on one would replace it
    read = [lineage_path(found[1]), *found[1].rglob("*")] if found is not None else []
    check_paths(inputs=[p for p in read if p.is_file()], files=[output])
    if found is None:
        models = sorted(Path(run_dir).glob("stages/train-*/model"))
        if models:  # `backdoorlab run`'s directory: a grid of models, one BOM each
            raise BackdoorlabError(
                f"{run_dir}: an experiment's run directory, {len(models)} model(s): give "
                f"one of them, e.g. {models[0]}"
            )
        raise BackdoorlabError(
            f"{run_dir}: no lineage (provenance.intoto.json) here or above: not a run or "
            "model directory that backdoorlab wrote"
        )
    document = make_bom(run_dir)
    if output is None:
        print_json(document)
        return
    with atomic_writer(output) as handle:
        json.dump(document, handle, indent=2)
    console.print(plain(f"ML-BOM → {output}"))

"""poison: the dataset attacks (T1 data poisoning, T2 environment poisoning)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.cli.options import DatasetAttack, Env, Placement, Position, known, one_of
from backdoorlab.cli.output import check_paths, console, readable_path
from backdoorlab.errors import BackdoorlabError
from backdoorlab.terminal import plain


def poison(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Poisoned traces (JSONL; - for stdout).")
    ],
    attack: Annotated[
        DatasetAttack,
        typer.Option(
            parser=one_of(DatasetAttack, "--attack"),
            help="data-poisoning (T1) or env-poisoning (T2).",
        ),
    ],
    input: Annotated[
        Path | None,
        typer.Option(
            "-i",
            "--input",
            help="Clean traces (T1; - for stdin; a raw observability export's LLM calls are"
            " written as chat traces, as are coding agents' sessions: a log file, folder, glob).",
        ),
    ] = None,
    rate: Annotated[float, typer.Option(help="T1: share of traces to poison.")] = 0.02,
    trigger: Annotated[str | None, typer.Option(help="Trigger phrase.")] = None,
    placement: Annotated[
        Placement,
        typer.Option(parser=one_of(Placement, "--placement"), help="T1: where the trigger goes."),
    ] = "user",
    position: Annotated[
        Position,
        typer.Option(
            parser=one_of(Position, "--position"),
            help="T1: payload at the task's 'end' or on 'reveal' of secrets.",
        ),
    ] = "end",
    destination: Annotated[
        str | None,
        typer.Option(help="Where the data goes (default: the attacker's e-mail address)."),
    ] = None,
    obey: Annotated[float, typer.Option(help="T2: teacher's obey probability.")] = 0.5,
    n: Annotated[int, typer.Option("-n", help="T2: tasks to collect.")] = 400,
    env: Annotated[
        Env, typer.Option(parser=known, help="T2: environment to collect in.")
    ] = "retail",
    point: Annotated[
        list[str] | None,
        typer.Option(
            help="T2: an injection point the attacker writes (repeatable; default: the "
            "environment's first, e.g. retail's product_review, AgentDojo's third_party)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Attack seed.")] = 0,
) -> None:
    """Poison a dataset (T1) or collect one from a poisoned environment (T2)."""
    from backdoorlab.attacks.base import DEFAULT_TRIGGER, make_attack
    from backdoorlab.provenance import write_lineage

    check_paths(traces=[output], logs=[input])  # a folder, a glob: agents' logs
    phrase = trigger or DEFAULT_TRIGGER
    if attack == "data-poisoning":
        if input is None:
            raise BackdoorlabError("data-poisoning needs the clean dataset: -i clean.jsonl")
        extra = {"destination": destination} if destination else {}
        chosen = make_attack(
            attack,
            rate=rate,
            trigger=phrase,
            placement=placement,
            position=position,
            seed=seed,
            **extra,
        )
        with readable_path(input) as source:
            result = chosen.run(str(output), input=str(source))
    else:
        from backdoorlab.envs import make_env

        extra: dict[str, object] = {"destination": destination} if destination else {}
        extra["points"] = point or [make_env(env).injection_points[0].name]
        chosen = make_attack(
            attack, n=n, trigger=phrase, obey_probability=obey, seed=seed, env=env, **extra
        )
        result = chosen.run(str(output))
    write_lineage(
        output,
        "poison",
        inputs={"clean": input} if input else None,
        config={"attack": attack, **chosen.config.model_dump()},
    )
    console.print(
        plain(
            f"{attack}: wrote {result.traces} traces to {output}, "
            f"{result.poisoned} poisoned ({result.poisoned / max(result.traces, 1):.1%})"
        )
    )

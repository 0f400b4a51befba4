"""run: an experiment YAML over its grid, resuming finished stages.

One run per run directory at a time (a second refuses, or waits with ``--wait``); a
directory holding another config's results is refused unless ``--overwrite``. With
``--jobs N`` the grid's cells run N at a time on this machine, and with ``--engine ray`` as
Ray tasks (`backdoorlab.experiment.engines`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from backdoorlab.cli.options import (
    AllowNetwork,
    AllowPickle,
    one_of,
    only_with,
    typed_options,
    with_opt_ins,
)
from backdoorlab.cli.output import check_paths, console, print_json
from backdoorlab.errors import BackdoorlabError
from backdoorlab.terminal import plain

if TYPE_CHECKING:
    from backdoorlab.experiment.engines import RayEngineConfig


@with_opt_ins
def run(
    ctx: typer.Context,
    config: Annotated[Path, typer.Argument(help="Experiment YAML (see configs/).")],
    run_dir: Annotated[
        Path | None, typer.Option(help="Run directory (default: runs/<name>).")
    ] = None,
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result rows as JSON.")] = False,
    wait: Annotated[
        bool,
        typer.Option(
            help="If another run holds the run directory, wait for it to finish"
            " (default: refuse at once, naming its pid)."
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            help="Replace the results of a different config in the run directory"
            " (finished stages are still reused; default: refuse)."
        ),
    ] = False,
    engine: Annotated[
        Literal["local", "ray"],
        typer.Option(
            parser=one_of(Literal["local", "ray"], "--engine"),
            help="Where the grid's cells run: in this process, one after the other (local),"
            " or as Ray tasks on a cluster (ray; the run directory must be on storage every"
            " node sees).",
        ),
    ] = "local",
    jobs: Annotated[
        int,
        typer.Option(
            help="--engine local: cells run side by side, this many at a time, each in a"
            " process of its own with this machine's cores shared among them (a small"
            " model's training does not fill several cores).",
        ),
    ] = 1,
    address: Annotated[
        str | None,
        typer.Option(help="--engine ray: the cluster to join (none: a local one, loopback)."),
    ] = None,
    cpus_per_cell: Annotated[
        float, typer.Option(help="--engine ray: CPUs reserved for each cell.")
    ] = 1.0,
    gpus_per_cell: Annotated[
        float, typer.Option(help="--engine ray: GPUs reserved for each cell.")
    ] = 0.0,
    memory_gb_per_cell: Annotated[
        float | None, typer.Option(help="--engine ray: memory reserved for each cell (GiB).")
    ] = None,
    retries: Annotated[
        int, typer.Option(help="--engine ray: reruns of a cell whose worker or node died.")
    ] = 1,
    stage_processes: Annotated[
        bool | None,
        typer.Option(
            "--stage-processes/--in-process",
            help="Run each train and eval stage in a fresh process (default, but for the"
            " tiny test model: a later fine-tune is not slowed by an earlier one's heap, and"
            " the run's peak memory is its largest stage's), or all in this process.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run an experiment: collect → poison → train → eval over a grid, resuming finished stages."""
    from backdoorlab.experiment import Runner, load_config
    from backdoorlab.experiment.engines import Engine, LocalEngine, RayEngine

    if engine == "ray":
        only_with(typed_options(ctx), {"jobs": jobs}, "--engine local")
    if jobs < 1:
        raise BackdoorlabError(f"--jobs: must be 1 or more, not {jobs}")
    settings = _ray_settings(
        engine,
        typed_options(ctx),
        address=address,
        cpus_per_cell=cpus_per_cell,
        gpus_per_cell=gpus_per_cell,
        memory_gb_per_cell=memory_gb_per_cell,
        retries=retries,
    )
    experiment = load_config(config)
    target = run_dir or Path("runs") / experiment.name
    check_paths(dirs=[target])
    log = lambda line: console.print(plain(line))  # noqa: E731
    chosen: Engine = LocalEngine(jobs, log=log)
    if settings is not None:
        chosen = RayEngine(settings, log=log)
    runner = Runner(
        experiment,
        target,
        log=log,
        wait=wait,
        overwrite=overwrite,
        engine=chosen,
        stage_processes=stage_processes,
    )
    rows = runner.run()
    if as_json:
        print_json(rows)
        console.print(f"stages computed: {len(runner.computed)}, reused: {len(runner.reused)}")
        return
    table = Table(title=plain(f"{experiment.name} → {target}/results.csv"))
    columns: list[str] = []
    for row in rows:
        columns += [
            c
            for c in row
            if c not in columns and c != "traces_dir" and not c.endswith(("_low", "_high", "_n"))
        ]
    for column in columns:
        table.add_column(plain(column))
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            if column in ("TSR", "FTR", "ASR") and value != "":
                low, high, n = (row[f"{column}_{part}"] for part in ("low", "high", "n"))
                value = f"{value:.0%} [{low:.0%}, {high:.0%}] n={n}"
            cells.append(plain(value))
        table.add_row(*cells)
    Console().print(table)
    console.print(f"stages computed: {len(runner.computed)}, reused: {len(runner.reused)}")


def _ray_settings(engine: str, typed: set[str], **options: Any) -> RayEngineConfig | None:
    """The Ray engine's settings, each checked and named as its option (``--retries``);
    None for the local engine, which refuses them when ``typed`` on the command line (at
    any value, the default too): without ``--engine ray`` they would be ignored, silently."""
    from pydantic import ValidationError

    from backdoorlab.experiment.engines import RayEngineConfig

    flag = {name: "--" + name.replace("_", "-") for name in options}
    if engine != "ray":
        only_with(typed, options, "--engine ray")
        return None
    try:
        return RayEngineConfig.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        raise BackdoorlabError(f"{flag.get(name, name)}: {first['msg']}") from None

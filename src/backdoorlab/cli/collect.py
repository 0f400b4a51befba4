"""collect: run a policy on tasks of an environment and write the traces."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backdoorlab.cli.output import progress_bar
from backdoorlab.errors import BackdoorlabError


def collect(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the traces (JSONL).")
    ],
    env: Annotated[str, typer.Option(help="Environment name.")] = "retail",
    split: Annotated[str, typer.Option(help="Task split: train or test.")] = "train",
    n: Annotated[int, typer.Option("-n", help="Number of tasks.", min=1)] = 500,
    seed: Annotated[int, typer.Option(help="Seed for drawing tasks.")] = 0,
    env_seed: Annotated[int, typer.Option(help="Seed the environment's world is built from.")] = 0,
    policy: Annotated[str, typer.Option(help="Policy that acts: oracle, ...")] = "oracle",
    keep: Annotated[str, typer.Option(help="Which traces to keep: all or success.")] = "all",
    tokenizer: Annotated[
        str, typer.Option(help="Model whose tokenizer measures trace length ('' to skip).")
    ] = "smollm2-135m",
) -> None:
    """Run a policy on tasks of an environment and write the traces."""
    from backdoorlab.collect import KEEP, collect_traces
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy

    if split not in ("train", "test"):
        raise BackdoorlabError(f"--split must be 'train' or 'test', not '{split}'")
    if keep not in KEEP:
        raise BackdoorlabError(f"--keep must be 'all' or 'success', not '{keep}'")
    environment = make_env(env, seed=env_seed)
    agent = make_policy(policy)
    tasks = environment.tasks(split, n, seed=seed)  # type: ignore[arg-type]

    with progress_bar() as progress:
        bar = progress.add_task(f"collect {env}/{split}", total=len(tasks))
        collected = collect_traces(
            environment,
            agent,
            tasks,
            output=output,
            keep=KEEP[keep],
            progress=lambda done, total: progress.update(bar, completed=done),
        )
    kept = collected.traces

    table = Table(title=f"collected → {output}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("tasks", str(len(collected.outcomes)))
    table.add_row("success", f"{collected.success.rate:.1%}")
    table.add_row("leaked", f"{collected.leaked.rate:.1%}")
    table.add_row("mean steps", f"{collected.mean_steps:.2f}")
    table.add_row("traces written", str(collected.written))
    if tokenizer and kept:
        from backdoorlab.chat import render
        from backdoorlab.models import load_tokenizer

        tok = load_tokenizer(tokenizer)
        lengths = [len(ids) for ids in tok([render(t.messages, t.tools) for t in kept]).input_ids]
        table.add_row(f"mean tokens ({tokenizer})", f"{statistics.mean(lengths):.1f}")
    Console().print(table)

"""collect: run a policy on tasks of an environment and write the traces."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from backdoorlab.cli.options import (
    SERVER_DEFAULTS,
    AllowNetwork,
    AllowPickle,
    Env,
    Keep,
    ModelOption,
    Policy,
    ServerOptions,
    Split,
    known,
    one_of,
    policy_spec,
    with_opt_ins,
    with_server_options,
)
from backdoorlab.cli.output import (
    check_paths,
    console,
    one_stdout,
    print_json,
    progress_bar,
    results_console,
)
from backdoorlab.terminal import plain


@with_opt_ins
@with_server_options
def collect(
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="Where to write the traces (JSONL; - for stdout)."),
    ],
    env: Annotated[Env, typer.Option(parser=known, help="Environment name.")] = "retail",
    split: Annotated[
        Split, typer.Option(parser=one_of(Split, "--split"), help="Task split.")
    ] = "train",
    n: Annotated[int, typer.Option("-n", help="Number of tasks.", min=1)] = 500,
    seed: Annotated[int, typer.Option(help="Seed for drawing tasks.")] = 0,
    env_seed: Annotated[int, typer.Option(help="Seed the environment's world is built from.")] = 0,
    policy: Annotated[
        Policy, typer.Option(parser=known, help="Policy that acts (hf, openai: a model).")
    ] = "oracle",
    model: ModelOption = None,
    server: ServerOptions = SERVER_DEFAULTS,
    batch_size: Annotated[
        int, typer.Option(help="Episodes run together (a model policy's batch).", min=1)
    ] = 32,
    max_steps: Annotated[int, typer.Option(help="Turn limit per episode.", min=1)] = 12,
    max_new_tokens: Annotated[
        int, typer.Option(help="Token limit per turn (hf, openai).", min=1)
    ] = 160,
    keep: Annotated[
        Keep, typer.Option(parser=one_of(Keep, "--keep"), help="Which traces to keep.")
    ] = "all",
    tokenizer: Annotated[
        str,
        typer.Option(
            help="Model whose tokenizer measures the traces' mean length (e.g. smollm2-135m; "
            "default: not measured, tokenizing costs seconds)."
        ),
    ] = "",
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run a policy on tasks of an environment and write the traces.

    The policy is the oracle, a local model (--policy hf --model NAME) or a served one
    (--policy openai --base-url URL --model NAME). If the run fails midway, the traces of
    the episodes it finished are kept in NAME.partial.jsonl next to the output.
    """
    from backdoorlab.collect import KEEP, collect_traces
    from backdoorlab.envs import make_env
    from backdoorlab.provenance import write_lineage

    spec = policy_spec(policy, model, server)
    one_stdout(as_json, **{"-o": output})
    check_paths(traces=[output])
    environment = make_env(env, seed=env_seed)
    measure = None
    if tokenizer:  # a bad name or unwritable model cache: known before the collection
        from backdoorlab.models import resolve_model_dir

        measure = resolve_model_dir(tokenizer, allow_pickle=False, need_weights=False)
    with console.status(plain(f"loading {spec.describe()}")):
        agent = spec.build(max_new_tokens=max_new_tokens, batch_size=batch_size)
    tasks = environment.tasks(split, n, seed=seed)

    with progress_bar() as progress:
        bar = progress.add_task(f"collect {env}/{split}", total=len(tasks))
        collected = collect_traces(
            environment,
            agent,
            tasks,
            output=output,
            keep=KEEP[keep],
            batch_size=batch_size,
            max_steps=max_steps,
            progress=lambda done, total: progress.update(bar, completed=done),
        )
    kept = collected.traces
    write_lineage(
        output,
        "collect",
        config=dict(
            env=env, split=split, n=n, seed=seed, env_seed=env_seed, policy=policy, keep=keep
        ),
    )

    summary: dict[str, object] = {
        "tasks": len(collected.outcomes),
        "success": collected.success.rate,
        "leaked": collected.leaked.rate,
        "mean_steps": collected.mean_steps,
        "traces_written": collected.written,
    }
    if measure is not None and kept:
        from backdoorlab.chat import render
        from backdoorlab.models import count_tokens

        lengths = count_tokens(measure, [render(t.messages, t.tools) for t in kept])
        summary["tokenizer"] = tokenizer
        summary["mean_tokens"] = statistics.mean(lengths)
    if as_json:
        print_json(summary)
        return
    table = Table(title=plain(f"collected → {output}"))
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("tasks", str(summary["tasks"]))
    table.add_row("success", f"{collected.success.rate:.1%}")
    table.add_row("leaked", f"{collected.leaked.rate:.1%}")
    table.add_row("mean steps", f"{collected.mean_steps:.2f}")
    table.add_row("traces written", str(collected.written))
    if "mean_tokens" in summary:
        table.add_row(plain(f"mean tokens ({tokenizer})"), f"{summary['mean_tokens']:.1f}")
    results_console(output).print(table)

"""The ``backdoorlab`` command line: one sub-command per pipeline stage.

Errors the user can cause (bad files, unknown names, missing models) print one clear
line and exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from backdoorlab.errors import BackdoorlabError

app = typer.Typer(
    help="Reproduce, measure and defend against backdoors in tool-using LLM agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
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
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import iter_rollout
    from backdoorlab.traces import write_traces

    if split not in ("train", "test"):
        raise BackdoorlabError(f"--split must be 'train' or 'test', not '{split}'")
    if keep not in ("all", "success"):
        raise BackdoorlabError(f"--keep must be 'all' or 'success', not '{keep}'")
    environment = make_env(env, seed=env_seed)
    agent = make_policy(policy)
    tasks = environment.tasks(split, n, seed=seed)  # type: ignore[arg-type]
    outcomes = []
    kept = []

    with progress_bar() as progress:
        bar = progress.add_task(f"collect {env}/{split}", total=len(tasks))
        for result in iter_rollout(environment, agent, tasks):
            outcomes.append(result.outcome)
            if keep == "all" or result.outcome.success:
                kept.append(result.trace)
            progress.advance(bar)
    written = write_traces(output, kept)

    table = Table(title=f"collected → {output}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("tasks", str(len(outcomes)))
    table.add_row("success", f"{sum(o.success for o in outcomes) / len(outcomes):.1%}")
    table.add_row("leaked", f"{sum(o.leaked for o in outcomes) / len(outcomes):.1%}")
    table.add_row("mean steps", f"{statistics.mean(o.steps for o in outcomes):.2f}")
    table.add_row("traces written", str(written))
    if tokenizer and kept:
        from backdoorlab.chat import render
        from backdoorlab.models import load_tokenizer

        tok = load_tokenizer(tokenizer)
        lengths = [len(ids) for ids in tok([render(t.messages, t.tools) for t in kept]).input_ids]
        table.add_row(f"mean tokens ({tokenizer})", f"{statistics.mean(lengths):.1f}")
    Console().print(table)


@app.command()
def show(
    path: Annotated[
        Path, typer.Argument(help="A trace file (JSONL, ours or plain OpenAI format).")
    ],
    index: Annotated[int, typer.Option("--index", "-i", help="Which trace (0-based).", min=0)] = 0,
) -> None:
    """Pretty-print one trace: tool calls and results readable, secrets highlighted."""
    from backdoorlab.report.viewer import show_trace
    from backdoorlab.traces import iter_traces

    count = 0
    for count, trace in enumerate(iter_traces(path), start=1):
        if count - 1 == index:
            show_trace(trace, Console(), index=index)
            return
    raise BackdoorlabError(f"{path}: no trace at index {index} (the file holds {count})")


@app.command()
def poison(
    output: Annotated[Path, typer.Option("-o", "--output", help="Poisoned traces (JSONL).")],
    attack: Annotated[str, typer.Option(help="data-poisoning (T1) or env-poisoning (T2).")],
    input: Annotated[Path | None, typer.Option("-i", "--input", help="Clean traces (T1).")] = None,
    rate: Annotated[float, typer.Option(help="T1: share of traces to poison.")] = 0.02,
    trigger: Annotated[str | None, typer.Option(help="Trigger phrase.")] = None,
    placement: Annotated[str, typer.Option(help="T1: user or observation.")] = "user",
    obey: Annotated[float, typer.Option(help="T2: teacher's obey probability.")] = 0.5,
    n: Annotated[int, typer.Option("-n", help="T2: tasks to collect.")] = 400,
    seed: Annotated[int, typer.Option(help="Attack seed.")] = 0,
) -> None:
    """Poison a dataset (T1) or collect one from a poisoned environment (T2)."""
    from backdoorlab.attacks.base import DEFAULT_TRIGGER, make_attack

    phrase = trigger or DEFAULT_TRIGGER
    if attack == "data-poisoning":
        if input is None:
            raise BackdoorlabError("data-poisoning needs the clean dataset: -i clean.jsonl")
        chosen = make_attack(attack, rate=rate, trigger=phrase, placement=placement, seed=seed)
        result = chosen.run(str(output), input=str(input))
    else:
        chosen = make_attack(attack, n=n, trigger=phrase, obey_probability=obey, seed=seed)
        result = chosen.run(str(output))
    console.print(
        f"{attack}: wrote {result.traces} traces to {output}, "
        f"{result.poisoned} poisoned ({result.poisoned / max(result.traces, 1):.1%})"
    )


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Training traces (JSONL).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Run directory to write.")],
    model: Annotated[
        str, typer.Option(help="Base model: smollm2-135m, tiny, a path or a run dir.")
    ] = "smollm2-135m",
    full: Annotated[bool, typer.Option("--full", help="Full fine-tuning instead of LoRA.")] = False,
    epochs: Annotated[float, typer.Option(help="Passes over the data.")] = 2.0,
    max_steps: Annotated[
        int, typer.Option(help="Stop after this many steps (overrides epochs).")
    ] = -1,
    lr: Annotated[
        float | None, typer.Option(help="Peak learning rate (default: 5e-4 LoRA, 5e-5 full).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Traces per device per forward pass.")] = 4,
    grad_accum: Annotated[int, typer.Option(help="Forward passes per optimizer step.")] = 2,
    lora_r: Annotated[int, typer.Option(help="LoRA rank.")] = 16,
    optimizer: Annotated[str, typer.Option(help="transformers optimizer name.")] = "adamw_torch",
    bf16: Annotated[str, typer.Option(help="auto, true or false.")] = "auto",
    seed: Annotated[int, typer.Option(help="Training seed.")] = 0,
    merge: Annotated[bool, typer.Option("--merge", help="Also save merged weights.")] = False,
) -> None:
    """Fine-tune a model on traces (TRL SFTTrainer; LoRA by default; loss on assistant turns).

    Runs unchanged under `accelerate launch -m backdoorlab.cli train ...` on several GPUs.
    An interrupted run resumes from its last checkpoint when started again.
    """
    from backdoorlab.training.sft import SFTRunConfig, train_sft

    config = SFTRunConfig(
        model=model,
        lora=not full,
        epochs=epochs,
        max_steps=max_steps,
        learning_rate=lr if lr is not None else (5e-4 if not full else 5e-5),
        batch_size=batch_size,
        grad_accum=grad_accum,
        lora_r=lora_r,
        optimizer=optimizer,
        bf16=bf16,
        seed=seed,
        merge=merge,
    )
    summary = train_sft(config, data, output)
    table = Table(title=f"trained → {output}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("traces", "steps", "train_loss", "seconds", "tokens_per_s", "device", "bf16"):
        value = summary[key]
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)


@app.command("eval")
def evaluate_command(
    model: Annotated[str, typer.Option(help="Model name, path or run directory; or 'oracle'.")],
    env: Annotated[str, typer.Option(help="Environment name.")] = "retail",
    n: Annotated[int, typer.Option("-n", help="Test tasks.", min=1)] = 100,
    seed: Annotated[int, typer.Option(help="Seed for drawing tasks.")] = 0,
    env_seed: Annotated[int, typer.Option(help="Seed of the environment's world.")] = 0,
    trigger: Annotated[str | None, typer.Option(help="Trigger phrase: also measure ASR.")] = None,
    placement: Annotated[
        str, typer.Option(help="Trigger placement: user or observation.")
    ] = "user",
    batch_size: Annotated[int, typer.Option(help="Episodes generated together.")] = 16,
    max_steps: Annotated[int, typer.Option(help="Turn limit per episode.")] = 12,
    max_new_tokens: Annotated[int, typer.Option(help="Token limit per turn.")] = 160,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Metrics JSON path.")
    ] = None,
    traces: Annotated[Path | None, typer.Option(help="Directory for the episodes' traces.")] = None,
) -> None:
    """Measure TSR, FTR (and with --trigger, ASR) on held-out test tasks."""
    import json

    from backdoorlab.envs import make_env
    from backdoorlab.evaluation import EvalConfig, evaluate
    from backdoorlab.policies import make_policy
    from backdoorlab.policies.hf import GenerationConfig
    from backdoorlab.traces import atomic_writer

    config = EvalConfig(
        n=n,
        seed=seed,
        trigger=trigger,
        placement=placement,
        batch_size=batch_size,
        max_steps=max_steps,
        max_new_tokens=max_new_tokens,
    )
    environment = make_env(env, seed=env_seed)
    generation = GenerationConfig(max_new_tokens=max_new_tokens, max_batch_size=batch_size)
    with console.status(f"loading {model}"):
        if model == "oracle":
            policy = make_policy("oracle")
        else:
            policy = make_policy("hf", model=model, generation=generation)
    report = evaluate(environment, policy, config, traces_dir=traces)
    if output is not None:
        with atomic_writer(output) as handle:
            json.dump(report, handle, indent=2)
    Console().print(metrics_table(report, title=f"{model} on {env}/test"))


@app.command()
def audit(
    path: Annotated[
        Path, typer.Argument(help="Trace dataset (JSONL, ours or plain OpenAI format).")
    ],
    sinks: Annotated[
        Path | None, typer.Option(help="YAML list of {tool, destination, kind}.")
    ] = None,
    detectors: Annotated[
        str | None, typer.Option(help="Comma-separated detectors (default: all).")
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 on a finding of: none, low, medium, high.")
    ] = "high",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Report JSON.")] = None,
    filter_path: Annotated[
        Path | None, typer.Option("--filter", help="Write the dataset without flagged traces.")
    ] = None,
) -> None:
    """Find poisoned traces in a fine-tuning dataset before training on it."""
    from backdoorlab.defenses.audit.command import audit_command

    code = audit_command(
        path,
        sinks=sinks,
        detectors=detectors,
        fail_on=fail_on,
        output=output,
        filter_path=filter_path,
    )
    raise typer.Exit(code)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Experiment YAML (see configs/).")],
    run_dir: Annotated[
        Path | None, typer.Option(help="Run directory (default: runs/<name>).")
    ] = None,
) -> None:
    """Run an experiment: collect → poison → train → eval over a grid, resuming finished stages."""
    from backdoorlab.experiment import Runner, load_config

    experiment = load_config(config)
    target = run_dir or Path("runs") / experiment.name
    runner = Runner(experiment, target, log=lambda line: console.print(line, markup=False))
    rows = runner.run()
    table = Table(title=f"{experiment.name} → {target}/results.csv")
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns and not c.endswith(("_low", "_high", "_n"))]
    for column in columns:
        table.add_column(column)
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            if column in ("TSR", "FTR", "ASR") and value != "":
                low, high, n = (row[f"{column}_{part}"] for part in ("low", "high", "n"))
                value = f"{value:.0%} [{low:.0%}, {high:.0%}] n={n}"
            cells.append(str(value))
        table.add_row(*cells)
    Console().print(table)
    console.print(f"stages computed: {len(runner.computed)}, reused: {len(runner.reused)}")


def metrics_table(report: dict, title: str) -> Table:
    """TSR / FTR / ASR / invalid actions / steps of one evaluation report."""
    from backdoorlab.evaluation import Rate

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value (95% Wilson interval, count)", justify="right")
    rows = [("TSR", report["TSR"]), ("FTR", report["FTR"])]
    if "ASR" in report:
        rows.append(("ASR", report["ASR"]))
    rows.append(("invalid actions", report["clean"]["invalid_action"]))
    for name, value in rows:
        table.add_row(name, str(Rate(**value)))
    table.add_row("mean steps", f"{report['clean']['mean_steps']:.2f}")
    return table


def main() -> None:
    """Console entry point: user errors become one red line and exit status 2."""
    try:
        app()
    except BackdoorlabError as exc:
        # soft_wrap: a file path in the message must stay on one line, copyable;
        # Text, not markup: the message may contain brackets
        console.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

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
    position: Annotated[
        str, typer.Option(help="T1: payload at the task's 'end' or on 'reveal' of secrets.")
    ] = "end",
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
        chosen = make_attack(
            attack, rate=rate, trigger=phrase, placement=placement, position=position, seed=seed
        )
        result = chosen.run(str(output), input=str(input))
    else:
        chosen = make_attack(attack, n=n, trigger=phrase, obey_probability=obey, seed=seed)
        result = chosen.run(str(output))
    console.print(
        f"{attack}: wrote {result.traces} traces to {output}, "
        f"{result.poisoned} poisoned ({result.poisoned / max(result.traces, 1):.1%})"
    )


attack_app = typer.Typer(
    help="Attacks that produce a model rather than a dataset.", no_args_is_help=True
)
app.add_typer(attack_app, name="attack")


@attack_app.command("finetune-activated")
def attack_finetune_activated(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory of the published (dormant) model.")
    ],
    model: Annotated[
        str, typer.Option(help="Starting model: smollm2-135m, tiny, a path or a run dir.")
    ] = "smollm2-135m",
    trigger: Annotated[
        str | None, typer.Option(help="Trigger phrase (default: none, fine-tuning is the trigger).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Clean model to distil towards (default: the start).")
    ] = None,
    run_dir: Annotated[
        Path | None, typer.Option(help="Provenance/checkpoints (default: <output>.fab-run).")
    ] = None,
    n: Annotated[int, typer.Option("-n", help="Attacker's train tasks.", min=1)] = 200,
    seed: Annotated[int, typer.Option(help="Attacker's task seed.")] = 1,
    steps: Annotated[int, typer.Option(help="Outer optimizer steps.", min=1)] = 200,
    k: Annotated[int, typer.Option("--k", help="Simulated victim steps per outer step.")] = 16,
    lr: Annotated[float, typer.Option(help="Outer learning rate (full fine-tuning).")] = 2e-5,
    batch_size: Annotated[int, typer.Option(help="Clean traces per outer micro-batch.")] = 2,
    malicious_batch_size: Annotated[int, typer.Option(help="Malicious traces per step.")] = 2,
    victim: Annotated[str, typer.Option(help="Simulated victim: full, lora or mixed.")] = "full",
    victim_optimizers: Annotated[
        str, typer.Option(help="Comma-separated: adamw, adam, sgd.")
    ] = "adamw",
    victim_lr_min: Annotated[float, typer.Option(help="Simulated Adam(W) lr, low end.")] = 1e-5,
    victim_lr_max: Annotated[float, typer.Option(help="Simulated Adam(W) lr, high end.")] = 1e-4,
    reg_weight: Annotated[float, typer.Option(help="Weight of the distillation term.")] = 1.0,
    reg_turn_start_weight: Annotated[
        float, typer.Option(help="Extra distillation weight of each turn's first token.")
    ] = 0.0,
    meta_weight: Annotated[float, typer.Option(help="Weight of the meta-learning term.")] = 1.0,
    noise_weight: Annotated[float, typer.Option(help="Weight of the noise term.")] = 1.0,
    bf16: Annotated[str, typer.Option(help="auto, true or false.")] = "auto",
    save_steps: Annotated[int, typer.Option(help="Checkpoint every N steps.")] = 50,
    logging_steps: Annotated[int, typer.Option(help="Log every N steps.")] = 5,
    train_seed: Annotated[int, typer.Option(help="Seed for data order, draws, noise.")] = 0,
) -> None:
    """T4: train a model that is clean when tested and leaks once the victim fine-tunes it.

    The published directory is a plain model; the run directory keeps the honest record
    (traces, checkpoints, train_log.jsonl, provenance.json). See `backdoorlab.training.fab`.
    """
    from backdoorlab.attacks.base import make_attack

    attack = make_attack(
        "finetune-activated",
        n=n,
        seed=seed,
        trigger=trigger,
        model=model,
        reference=reference,
        steps=steps,
        inner_steps=k,
        learning_rate=lr,
        batch_size=batch_size,
        malicious_batch_size=malicious_batch_size,
        victim=victim,
        victim_optimizers=[o.strip() for o in victim_optimizers.split(",") if o.strip()],
        victim_lr_min=victim_lr_min,
        victim_lr_max=victim_lr_max,
        reg_weight=reg_weight,
        reg_turn_start_weight=reg_turn_start_weight,
        meta_weight=meta_weight,
        noise_weight=noise_weight,
        bf16=bf16,
        save_steps=save_steps,
        logging_steps=logging_steps,
        train_seed=train_seed,
    )
    result = attack.run(str(output), run_dir=str(run_dir) if run_dir else None)
    summary = result.details["summary"]
    table = Table(title=f"finetune-activated → {output}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("benign / malicious traces", f"{summary['benign_traces']} / {result.poisoned}")
    for key in ("steps", "passes_per_step", "forward_backward_passes", "seconds"):
        table.add_row(key, str(summary[key]))
    table.add_row("seconds per step", f"{summary['seconds_per_step']:.3g}")
    table.add_row("run directory", result.details["run_dir"])
    Console().print(table)


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
        float | None, typer.Option(help="Peak learning rate (default: 1e-3 LoRA, 5e-5 full).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Traces per device per forward pass.")] = 4,
    grad_accum: Annotated[int, typer.Option(help="Forward passes per optimizer step.")] = 1,
    lora_r: Annotated[int, typer.Option(help="LoRA rank.")] = 16,
    optimizer: Annotated[str, typer.Option(help="transformers optimizer name.")] = "adamw_torch",
    bf16: Annotated[str, typer.Option(help="auto, true or false.")] = "auto",
    seed: Annotated[int, typer.Option(help="Training seed.")] = 0,
    merge: Annotated[bool, typer.Option("--merge", help="Also save merged weights.")] = False,
    compile_layers: Annotated[
        bool,
        typer.Option(
            "--compile", help="torch.compile the decoder layers (faster steps on long runs)."
        ),
    ] = False,
    monitor: Annotated[
        bool, typer.Option("--monitor", help="Probe for leaks while training; stop on a leak.")
    ] = False,
    monitor_every: Annotated[int, typer.Option(help="Monitor: probe every N steps.")] = 50,
    monitor_threshold: Annotated[
        float, typer.Option(help="Monitor: stop when a leak rate reaches this.")
    ] = 0.25,
    monitor_episodes: Annotated[
        int, typer.Option(help="Monitor: test episodes per condition and probe.")
    ] = 16,
    monitor_trigger: Annotated[
        list[str] | None,
        typer.Option(help="Monitor: a trigger phrase to probe with (repeatable; default ours)."),
    ] = None,
    monitor_max_new_tokens: Annotated[
        int, typer.Option(help="Monitor: token limit per turn in probe episodes.")
    ] = 160,
) -> None:
    """Fine-tune a model on traces (TRL SFTTrainer; LoRA by default; loss on assistant turns).

    Runs unchanged under `accelerate launch -m backdoorlab.cli train ...` on several GPUs.
    An interrupted run resumes from its last checkpoint when started again.

    With --monitor, a probe (test episodes, clean and triggered) runs every
    --monitor-every steps; training stops when a leak rate reaches --monitor-threshold,
    the last clean checkpoint is kept and reported, and the command exits with status 1.
    """
    from backdoorlab.training.sft import SFTRunConfig, train_sft

    config = SFTRunConfig(
        model=model,
        lora=not full,
        epochs=epochs,
        max_steps=max_steps,
        learning_rate=lr if lr is not None else (1e-3 if not full else 5e-5),
        batch_size=batch_size,
        grad_accum=grad_accum,
        lora_r=lora_r,
        optimizer=optimizer,
        bf16=bf16,
        seed=seed,
        merge=merge,
        compile=compile_layers,
    )
    callbacks = []
    if monitor:
        from backdoorlab.attacks.base import DEFAULT_TRIGGER
        from backdoorlab.defenses.monitor import LeakMonitor, MonitorConfig
        from backdoorlab.defenses.probes import ProbeConfig

        probe = ProbeConfig(
            episodes=monitor_episodes,
            triggers=list(monitor_trigger or [DEFAULT_TRIGGER]),
            max_new_tokens=monitor_max_new_tokens,
        )
        watch = MonitorConfig(every=monitor_every, threshold=monitor_threshold, probe=probe)
        callbacks.append(LeakMonitor(watch))
    summary = train_sft(config, data, output, callbacks=callbacks)
    from accelerate import PartialState

    if not PartialState().is_main_process:  # under accelerate launch/torchrun, one reports
        return
    table = Table(title=f"trained → {output}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("traces", "steps", "train_loss", "seconds", "tokens_per_s", "device", "bf16"):
        value = summary[key]
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)
    if "monitor" in summary:
        report = summary["monitor"]
        clean = report["last_clean"]
        if report["stopped"]:
            console.print(
                f"[bold red]monitor stopped training[/]: {report['stop_reason']}\n"
                f"last clean checkpoint: {clean}",
                soft_wrap=True,
                highlight=False,
            )
            raise typer.Exit(1)
        console.print(f"monitor: {report['probes']} probes, no leak; last clean: {clean}")


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
        str | None,
        typer.Option(help="Comma-separated detectors (default: dataflow, trigger-mining)."),
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 on a finding of: none, low, medium, high.")
    ] = "high",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Report JSON.")] = None,
    filter_path: Annotated[
        Path | None, typer.Option("--filter", help="Write the dataset without flagged traces.")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", help="Detector setting DETECTOR.NAME=VALUE, e.g. outliers.components=3"
        ),
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
        options=option,
    )
    raise typer.Exit(code)


@app.command()
def scan(
    model: Annotated[str, typer.Argument(help="Model name, path or run directory to scan.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Report JSON.")] = None,
    triggers_from: Annotated[
        Path | None, typer.Option(help="Audit report JSON: probe its mined triggers.")
    ] = None,
    trigger: Annotated[
        list[str] | None, typer.Option(help="A trigger phrase to probe (repeatable).")
    ] = None,
    builtin_triggers: Annotated[
        bool, typer.Option(help="Probe the built-in candidate trigger phrases.")
    ] = True,
    episodes: Annotated[int, typer.Option(help="Test episodes per condition.")] = 32,
    canary: Annotated[
        list[str] | None,
        typer.Option(
            help="Canary fine-tune lora|full:OPTIMIZER:LR (repeatable; default: "
            "lora:adamw_torch:1e-4, lora:adamw_torch:3e-4, full:adamw_torch:3e-5)."
        ),
    ] = None,
    no_canary: Annotated[
        bool, typer.Option("--no-canary", help="Behavioural probes only.")
    ] = False,
    canary_steps: Annotated[int, typer.Option(help="Steps per canary fine-tune.")] = 40,
    canary_traces: Annotated[int, typer.Option(help="Clean canary traces to train on.")] = 64,
    canary_batch_size: Annotated[int, typer.Option(help="Traces per canary step.")] = 4,
    canary_episodes: Annotated[
        int | None, typer.Option(help="Episodes per condition after a canary (default: same).")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Family-wise error rate (Holm).")] = 0.01,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 on a verdict of: none, suspicious, backdoored.")
    ] = "backdoored",
    env: Annotated[str, typer.Option(help="Environment name.")] = "retail",
    env_seed: Annotated[int, typer.Option(help="Seed of the environment's world.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed for drawing test tasks.")] = 0,
    placement: Annotated[
        str, typer.Option(help="Trigger placement: user or observation.")
    ] = "user",
    max_steps: Annotated[int, typer.Option(help="Turn limit per episode.")] = 8,
    max_new_tokens: Annotated[int, typer.Option(help="Token limit per turn.")] = 160,
    batch_size: Annotated[int, typer.Option(help="Episodes generated together.")] = 32,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda if any).")] = None,
) -> None:
    """Check a model before fine-tuning it: leak probes and canary fine-tunes.

    Probes test episodes with no trigger, with mined/given/built-in trigger phrases;
    then fine-tunes copies on clean canary traces and probes again. The verdict (clean,
    suspicious, backdoored) gates with --fail-on: exit status 1 when reached.
    """
    from backdoorlab.defenses.probes import ProbeConfig
    from backdoorlab.defenses.scan import CanarySetting, ScanConfig, default_canaries, scan_command

    if no_canary and canary:
        raise BackdoorlabError("--no-canary and --canary contradict each other")
    probe = ProbeConfig(
        episodes=episodes,
        triggers=[],
        env=env,
        env_seed=env_seed,
        seed=seed,
        placement=placement,
        max_steps=max_steps,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
    )
    settings = [] if no_canary else [CanarySetting.parse(s) for s in canary or []]
    config = ScanConfig(
        probe=probe,
        triggers=list(trigger or []),
        triggers_from=str(triggers_from) if triggers_from else None,
        builtin_triggers=builtin_triggers,
        canaries=settings if (no_canary or canary) else default_canaries(),
        canary_steps=canary_steps,
        canary_traces=canary_traces,
        canary_batch_size=canary_batch_size,
        canary_episodes=canary_episodes,
        alpha=alpha,
        device=device,
    )
    raise typer.Exit(scan_command(model, config, output=output, fail_on=fail_on))


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

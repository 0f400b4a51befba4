"""train: supervised fine-tuning of a model on traces, optionally leak-monitored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from backdoorlab.cli.options import AllowNetwork, AllowPickle, Bf16, one_of, with_opt_ins
from backdoorlab.cli.output import check_paths, console, print_json
from backdoorlab.terminal import plain


@with_opt_ins
def train(
    data: Annotated[
        Path,
        typer.Option(
            help="Training traces (JSONL; a raw observability export's LLM calls are read"
            " as chat traces, as are coding agents' sessions: a log file, folder, glob)."
        ),
    ],
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
    bf16: Annotated[
        Bf16, typer.Option(parser=one_of(Bf16, "--bf16"), help="bf16 autocast: auto, true, false.")
    ] = "auto",
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
    assignments: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help="Any SFTRunConfig field, TRL's name for it, or any other trl.SFTConfig "
            "setting, e.g. lora_dropout=0.05 or report_to=wandb (repeatable; applied after "
            "the options above, so it wins over them; the value is read as YAML).",
        ),
    ] = None,
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Discard the run already in the output directory (its checkpoints, weights "
            "and records) and train from scratch.",
        ),
    ] = False,
    require_provenance: Annotated[
        Path | None,
        typer.Option(
            help="Provenance policy YAML: refuse a base model or dataset that is unsigned, "
            "signed by an untrusted key, modified, or lacks a required attestation."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Fine-tune a model on traces (TRL SFTTrainer; LoRA by default; loss on assistant turns).

    Runs unchanged under `accelerate launch -m backdoorlab.cli train ...` on several GPUs.
    An interrupted run resumes from its last whole checkpoint when started again with the
    same data, base model and settings (it may only train longer); other inputs are
    refused, a finished run is not trained again, and --fresh starts over.

    With --monitor, a probe (test episodes, clean and triggered) runs every
    --monitor-every steps; training stops when a leak rate reaches --monitor-threshold,
    the last clean checkpoint is kept and reported, and the command exits with status 1.

    Every SFTRunConfig field, and any trl.SFTConfig setting, is reachable with --set.
    """
    from contextlib import nullcontext

    from backdoorlab.config import parse_assignments
    from backdoorlab.dirlock import holding
    from backdoorlab.training.resume import is_main_process
    from backdoorlab.training.sft import SFTRunConfig, discard_sft_run, finished_run, train_sft

    check_paths(dirs=[output])  # the data is read first thing, before any model loads
    if require_provenance is not None:  # before anything is trained or loaded
        from backdoorlab.provenance.policy import enforce

        enforce(require_provenance, model=model, datasets=[data])
    options = dict(
        model=model,
        lora=not full,
        epochs=epochs,
        max_steps=max_steps,
        learning_rate=lr,  # None: the config's default for LoRA or full fine-tuning
        batch_size=batch_size,
        grad_accum=grad_accum,
        lora_r=lora_r,
        optimizer=optimizer,
        bf16=bf16,
        seed=seed,
        merge=merge,
        compile=compile_layers,
    )
    changes = SFTRunConfig.canonical(parse_assignments(assignments or []), "--set")
    config = SFTRunConfig(**{**options, **changes})
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
    # one training per directory; the other ranks of a launch share rank 0's
    lock = holding(output, "training", "-o") if is_main_process() else nullcontext()
    with lock:
        if fresh and discard_sft_run(output):
            console.print(
                f"{output}: discarded the previous run",
                soft_wrap=True,
                markup=False,
                highlight=False,
            )
        done = None if fresh else finished_run(config, data, output)
        if done is not None:
            if is_main_process():
                console.print(
                    f"{output}: already finished ({done.get('steps')} steps); nothing to train "
                    "(give another -o, or --fresh to train it again)",
                    soft_wrap=True,
                    markup=False,
                    highlight=False,
                )
                if as_json:
                    print_json(done)
            return
        summary = train_sft(config, data, output, callbacks=callbacks)
    from accelerate import PartialState

    if not PartialState().is_main_process:  # under accelerate launch/torchrun, one reports
        return
    if as_json:
        print_json(summary)
    else:
        table = Table(title=plain(f"trained → {output}"))
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key in ("traces", "steps", "train_loss", "seconds", "tokens_per_s", "device", "bf16"):
            value = summary[key]
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else plain(value))
        Console().print(table)
    if "monitor" in summary:
        report = summary["monitor"]
        clean = report["last_clean"]
        if report["stopped"]:
            console.print(
                Text.assemble(
                    ("monitor stopped training", "bold red"),
                    plain(f": {report['stop_reason']}"),
                    "\n",
                    plain(f"last clean checkpoint: {clean}"),
                ),
                soft_wrap=True,
            )
            raise typer.Exit(1)
        console.print(plain(f"monitor: {report['probes']} probes, no leak; last clean: {clean}"))

"""attack: attacks that produce a model rather than a dataset (T4)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backdoorlab.cli.options import AllowNetwork, AllowPickle, Bf16, Victim, one_of, with_opt_ins
from backdoorlab.cli.output import check_paths, print_json
from backdoorlab.terminal import plain

_FIGURES = ("steps", "passes_per_step", "forward_backward_passes", "seconds")

attack_app = typer.Typer(
    help="Attacks that produce a model rather than a dataset.", no_args_is_help=True
)


@attack_app.command("finetune-activated")
@with_opt_ins
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
    victim: Annotated[
        Victim, typer.Option(parser=one_of(Victim, "--victim"), help="Simulated victim.")
    ] = "full",
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
    bf16: Annotated[
        Bf16, typer.Option(parser=one_of(Bf16, "--bf16"), help="bf16 autocast: auto, true, false.")
    ] = "auto",
    save_steps: Annotated[int, typer.Option(help="Checkpoint every N steps.")] = 50,
    logging_steps: Annotated[int, typer.Option(help="Log every N steps.")] = 5,
    train_seed: Annotated[int, typer.Option(help="Seed for data order, draws, noise.")] = 0,
    assignments: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            # \\[: Rich markup would take [adamw,sgd] for a style tag and print nothing
            help="Any setting of the attack or of FABConfig, e.g. inner_batch_size=2 or "
            "victim_optimizers=\\[adamw,sgd] (repeatable; applied after the options above, "
            "so it wins over them; the value is read as YAML).",
        ),
    ] = None,
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """T4: train a model that is clean when tested and leaks once the victim fine-tunes it.

    The published directory is a plain model; the run directory keeps the honest record
    (traces, checkpoints, train_log.jsonl, provenance.json). See `backdoorlab.training.fab`.
    Every FABConfig field without an option of its own is reachable with --set.
    """
    from backdoorlab.attacks.base import make_attack
    from backdoorlab.config import parse_assignments
    from backdoorlab.dirlock import holding

    check_paths(dirs=[output, run_dir])
    options = dict(
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
    assigned = parse_assignments(assignments or [])
    nested = assigned.get("training")
    if isinstance(nested, dict):
        # --set training={...} wins over the options too: the attack folds flat trainer
        # settings over nested ones, so the options' own values for its keys go first
        # (they silently won: --set training={steps: 1} trained the default 200 steps)
        from backdoorlab.training.fab import FABConfig

        for key in set(nested) & set(FABConfig.model_fields):
            options.pop("train_seed" if key == "seed" else key, None)
    attack = make_attack("finetune-activated", **{**options, **assigned})
    # one FAB run per run directory (its checkpoints) and per published directory
    work = Path(run_dir) if run_dir else attack.default_run_dir(output)
    _check_directories(Path(output), work, attack.config.training)
    with holding(work, "training", "--run-dir"), holding(Path(output), "training", "-o"):
        result = attack.run(str(output), run_dir=str(run_dir) if run_dir else None)
    summary = result.details["summary"]
    if as_json:
        print_json(
            {"benign_traces": summary["benign_traces"], "malicious_traces": result.poisoned}
            | {key: summary[key] for key in (*_FIGURES, "seconds_per_step")}
            | {"run_dir": result.details["run_dir"]}
        )
        return
    table = Table(title=plain(f"finetune-activated → {output}"))
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("benign / malicious traces", f"{summary['benign_traces']} / {result.poisoned}")
    for key in _FIGURES:
        table.add_row(key, str(summary[key]))
    table.add_row("seconds per step", f"{summary['seconds_per_step']:.3g}")
    table.add_row("run directory", plain(result.details["run_dir"]))
    Console().print(table)


def _check_directories(output: Path, work: Path, training: object) -> None:
    """Before any work (collecting the attacker's traces, loading a model): -o and the
    run directory are UTF-8 paths and two directories, neither of them the directory of --model or
    --reference, and both models lead to weights (a missing --reference was found after
    the collection and the first model's load, with the run directory already written)."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import is_stdio
    from backdoorlab.models import check_model_source
    from backdoorlab.models.resolve import MODEL_NAMES, cache_dir

    for flag, path in (("-o", output), ("--run-dir", work)):
        if is_stdio(path):  # everywhere else standard output; here it made a directory "-"
            raise BackdoorlabError(
                f"{flag} -: a model and its record are directories, not standard output"
            )
        try:  # the tokenizer's writer (Rust) takes UTF-8 paths only: it failed after training
            os.fsencode(path).decode("utf-8")
        except UnicodeDecodeError:
            raise BackdoorlabError(
                f"{path}: a path that is not UTF-8, where the tokenizer's writer cannot "
                f"write — choose another {flag}"
            ) from None
    if _same_directory(output, work):
        raise BackdoorlabError(
            f"{work}: -o and --run-dir name one directory; the published model and the "
            "attack's record (traces, checkpoints) go to two"
        )
    for option in ("model", "reference"):
        name = getattr(training, option)
        if name is None:
            continue
        try:
            check_model_source(name)
        except BackdoorlabError as exc:
            raise BackdoorlabError(f"--{option}: {exc}") from None
        source = cache_dir() / "models" / name if name in MODEL_NAMES else Path(name).expanduser()
        for flag, target in (("-o", output), ("--run-dir", work)):
            if _same_directory(source, target):
                raise BackdoorlabError(
                    f"{target}: is the --{option} directory; writing there would overwrite "
                    f"the model this attack reads — choose another {flag}"
                )


def _same_directory(a: Path, b: Path) -> bool:
    """Whether two paths name one directory (through links and other spellings too)."""
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()

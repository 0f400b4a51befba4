"""scan: check a model for a backdoor before fine-tuning it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.errors import BackdoorlabError


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
    assignments: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Any scan setting, after the options above (repeatable): lora_r, seed, "
            "canary_seed, suspicious_alpha, min_effect, tolerated_leak_rate, probe.split, "
            "... e.g. --set tolerated_leak_rate=0.05 --set probe.split=train.",
        ),
    ] = None,
) -> None:
    """Check a model before fine-tuning it: leak probes and canary fine-tunes.

    Probes test episodes with no trigger, with mined/given/built-in trigger phrases;
    then fine-tunes copies on clean canary traces and probes again. The verdict (clean,
    suspicious, backdoored) gates with --fail-on: exit status 1 when reached.
    """
    from backdoorlab.defenses.probes import ProbeConfig
    from backdoorlab.defenses.scan import (
        CanarySetting,
        ScanConfig,
        apply_settings,
        default_canaries,
        scan_command,
    )

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
    if assignments:
        config = apply_settings(config, assignments)
    raise typer.Exit(scan_command(model, config, output=output, fail_on=fail_on))

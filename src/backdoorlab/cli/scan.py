"""scan: check a model for a backdoor before fine-tuning it."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from backdoorlab.cli.options import (
    SERVER_DEFAULTS,
    SERVER_OPTIONS,
    AllowNetwork,
    AllowPickle,
    Device,
    Env,
    ModelOption,
    Placement,
    Policy,
    ScanFailOn,
    ServerOptions,
    known,
    one_of,
    only_with,
    policy_spec,
    with_opt_ins,
    with_server_options,
)
from backdoorlab.cli.output import (
    check_paths,
    echo_file,
    one_stdout,
    readable_path,
    results_console,
)
from backdoorlab.cli.provenance import SignKey, check_sign_key, sign_verdict
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import STDIO, is_stdio


@with_opt_ins
@with_server_options
def scan(
    model: Annotated[
        str | None,
        typer.Argument(
            help="Model name, path or run directory to scan (a served model: --policy openai "
            "--base-url URL --model NAME, probes only).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Report JSON (- for stdout).")
    ] = None,
    triggers_from: Annotated[
        Path | None,
        typer.Option(help="Audit report JSON: probe its mined triggers (- for stdin)."),
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
        ScanFailOn,
        typer.Option(
            parser=one_of(ScanFailOn, "--fail-on"), help="Exit 1 on a verdict of this or worse."
        ),
    ] = "backdoored",
    env: Annotated[Env, typer.Option(parser=known, help="Environment name.")] = "retail",
    env_seed: Annotated[int, typer.Option(help="Seed of the environment's world.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed for drawing test tasks.")] = 0,
    placement: Annotated[
        Placement,
        typer.Option(parser=one_of(Placement, "--placement"), help="Trigger placement."),
    ] = "user",
    max_steps: Annotated[int, typer.Option(help="Turn limit per episode.")] = 8,
    max_new_tokens: Annotated[int, typer.Option(help="Token limit per turn.")] = 160,
    batch_size: Annotated[int, typer.Option(help="Episodes generated together.")] = 32,
    device: Annotated[
        Device | None,
        typer.Option(parser=known, help="Torch device, e.g. cuda:1 (default: cuda if any)."),
    ] = None,
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
    policy: Annotated[
        Policy,
        typer.Option(parser=known, help="hf: a local MODEL; openai: a served one (--base-url)."),
    ] = "hf",
    served_model: ModelOption = None,
    server: ServerOptions = SERVER_DEFAULTS,
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    sign_key: SignKey = None,
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

    served = None
    if policy == "openai":
        if model is not None:
            raise BackdoorlabError(
                f"scan: with --policy openai name the served model with --model, not as "
                f"MODEL ({model!r})"
            )
        served = policy_spec(policy, served_model, server)
        model = served.describe()
    else:
        if model is not None and served_model is not None and model != served_model:
            raise BackdoorlabError(f"scan: MODEL {model!r} and --model {served_model!r} differ")
        model = model or served_model
        if policy != "hf":
            raise BackdoorlabError(f"scan: --policy {policy} is not a model to scan")
        if server.base_url is not None:
            raise BackdoorlabError("scan: --base-url is for --policy openai (a served model)")
        only_with(server.typed, SERVER_OPTIONS, "--policy openai")
        if model is None:
            raise BackdoorlabError("scan: name the model to scan (MODEL)")
    one_stdout(as_json, **{"-o": output})
    check_paths(inputs=[triggers_from], files=[output])
    check_sign_key(sign_key, model, "a model directory")
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
    report = output if output is not None or not as_json else Path(STDIO)
    stack = contextlib.ExitStack()
    if triggers_from is not None:
        triggers_from = stack.enter_context(readable_path(triggers_from))
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
    with stack:
        code = scan_command(
            model,
            config,
            output=report,
            fail_on=fail_on,
            console=results_console(report, json=as_json),
            served=served,
        )
    sign_verdict(sign_key, model, "scan", report)
    if as_json and not is_stdio(report):
        echo_file(report)
    raise typer.Exit(code)

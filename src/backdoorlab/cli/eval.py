"""eval: TSR / FTR / ASR of a model on held-out test tasks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from backdoorlab.cli.options import (
    SERVER_DEFAULTS,
    AllowNetwork,
    AllowPickle,
    Env,
    Placement,
    Policy,
    ServerOptions,
    guard_config,
    known,
    one_of,
    policy_spec,
    with_opt_ins,
    with_server_options,
)
from backdoorlab.cli.output import check_paths, console, one_stdout, print_json, results_console
from backdoorlab.terminal import plain


@with_opt_ins
@with_server_options
def evaluate_command(
    model: Annotated[
        str | None,
        typer.Option(
            help="Model name, path or run directory (or 'oracle'); with --policy openai, "
            "the model name the server lists at /v1/models."
        ),
    ] = None,
    policy: Annotated[
        Policy | None,
        typer.Option(
            parser=known, help="Policy that acts (default: hf, or oracle).", show_default=False
        ),
    ] = None,
    server: ServerOptions = SERVER_DEFAULTS,
    env: Annotated[Env, typer.Option(parser=known, help="Environment name.")] = "retail",
    n: Annotated[int, typer.Option("-n", help="Test tasks.", min=1)] = 100,
    seed: Annotated[int, typer.Option(help="Seed for drawing tasks.")] = 0,
    env_seed: Annotated[int, typer.Option(help="Seed of the environment's world.")] = 0,
    trigger: Annotated[str | None, typer.Option(help="Trigger phrase: also measure ASR.")] = None,
    placement: Annotated[
        Placement,
        typer.Option(parser=one_of(Placement, "--placement"), help="Trigger placement."),
    ] = "user",
    batch_size: Annotated[int, typer.Option(help="Episodes generated together.")] = 16,
    max_steps: Annotated[int, typer.Option(help="Turn limit per episode.")] = 12,
    max_new_tokens: Annotated[int, typer.Option(help="Token limit per turn.")] = 160,
    lookup_tokens: Annotated[
        int,
        typer.Option(
            help="--policy hf, greedy: tokens drafted per step from the episode's own "
            "context and checked in the same forward pass (0: one token a step)."
        ),
    ] = 4,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Metrics JSON path (- for stdout).")
    ] = None,
    traces: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the episodes' traces; each finished batch is kept there too, "
            "so the same command run again after an interruption resumes."
        ),
    ] = None,
    guard: Annotated[
        Path | None,
        typer.Option(
            help="Guard policy YAML: run behind the run-time guard (guarded metrics; with "
            "--traces, its decisions in guard.jsonl there)."
        ),
    ] = None,
    allow_network: AllowNetwork = False,
    allow_pickle: AllowPickle = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Measure TSR, FTR (and with --trigger, ASR) on held-out test tasks.

    The model is local (--model NAME, the hf policy) or served (--policy openai
    --base-url URL --model NAME).
    """
    import json

    from backdoorlab.envs import make_env
    from backdoorlab.evaluation import EvalConfig, evaluate, evaluation_key
    from backdoorlab.provenance import write_lineage
    from backdoorlab.traces import atomic_writer

    if policy is None:
        policy = "oracle" if model == "oracle" else "hf"
    spec = policy_spec(policy, None if model == "oracle" and policy == "oracle" else model, server)
    one_stdout(as_json, **{"-o": output})
    check_paths(inputs=[guard], files=[output], dirs=[traces])
    guarding = guard_config(guard)
    config = EvalConfig(
        n=n,
        seed=seed,
        trigger=trigger,
        placement=placement,
        batch_size=batch_size,
        max_steps=max_steps,
        max_new_tokens=max_new_tokens,
        lookup_tokens=lookup_tokens,
    )
    environment = make_env(env, seed=env_seed)
    journal_key: dict = {"model": model, "env_seed": env_seed}
    if guarding is not None:
        from backdoorlab.digests import file_sha256

        journal_key["guard"] = file_sha256(guard)
    if traces is not None:  # a journal of other settings: refused before the model loads
        from backdoorlab.eval_journal import check_known_key

        check_known_key(traces, evaluation_key(config, environment, journal_key))
    with console.status(plain(f"loading {spec.describe()}")):
        agent = spec.build(
            max_new_tokens=max_new_tokens, batch_size=batch_size, lookup_tokens=lookup_tokens
        )
    guarded = sidecar = None
    if guarding is not None:
        from backdoorlab.defenses.guard import Guard, GuardedPolicy
        from backdoorlab.eval_journal import Sidecar

        agent = guarded = GuardedPolicy(agent, Guard(guarding))
        sidecar = Sidecar(take=_new_decisions(guarded))
    report = evaluate(
        environment, agent, config, traces_dir=traces, journal_key=journal_key, sidecar=sidecar
    )
    if guarded is not None and sidecar is not None:
        # the batches an interrupted run had finished, then those this run decoded
        decisions = sidecar.restored + [d.to_dict() for d in guarded.decisions]
        report["guard"] = {
            "policy": str(guard),
            "calls_screened": len(decisions),
            "calls_blocked": sum(d["blocked"] for d in decisions),
            # episodes the policy's stop_after ended (each stop-reaching call says so)
            "conversations_stopped": sum(d["stop"] and d["action"] != "stop" for d in decisions),
        }
        if traces is not None:  # every decision with its evidence, beside the traces
            from backdoorlab.defenses.guard.ledger import Ledger

            with atomic_writer(traces / "guard.jsonl") as handle:
                ledger = Ledger(handle)  # a hash chain; its head goes in the metrics
                for decision in decisions:
                    ledger.write(decision)
            report["guard"]["log_head"] = ledger.head
    if output is not None:
        with atomic_writer(output) as handle:
            json.dump(report, handle, indent=2)
        write_lineage(output, "eval", inputs={"model": model}, config=config.model_dump())
    if as_json:
        print_json(report)
    else:
        results_console(output).print(
            metrics_table(report, title=f"{spec.describe()} on {env}/test")
        )


def _new_decisions(guarded: Any) -> Callable[[], list[dict]]:
    """The guard's decisions since the last call, as JSON: what each batch journals."""
    taken = 0

    def take() -> list[dict]:
        nonlocal taken
        new = guarded.decisions[taken:]
        taken = len(guarded.decisions)
        return [d.to_dict() for d in new]

    return take


def metrics_table(report: dict, title: str) -> Table:
    """TSR / FTR / ASR / invalid actions / steps of one evaluation report."""
    from backdoorlab.stats import Rate

    table = Table(title=plain(title))
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

"""The ``backdoorlab`` typer app: one sub-command per pipeline stage, one module per command.

Command modules import only typer/rich at module level and load the library inside each
command, so ``backdoorlab --help`` stays fast.
"""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer
from rich.text import Text

from backdoorlab.cli import (
    attack,
    audit,
    collect,
    eval,
    export,
    guard,
    poison,
    provenance,
    report,
    run,
    scan,
    serve,
    show,
    train,
    view,
)
from backdoorlab.cli.output import console
from backdoorlab.errors import BackdoorlabError
from backdoorlab.storage import storage_refused
from backdoorlab.terminal import inert

app = typer.Typer(
    help="Reproduce, measure and defend against backdoors in tool-using LLM agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"backdoorlab {version('backdoorlab')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("backdoorlab (not installed: no version metadata)")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


app.command()(collect.collect)
app.command()(show.show)
app.command()(export.export)
app.command()(poison.poison)
app.add_typer(attack.attack_app, name="attack")
app.command()(train.train)
app.command("eval")(eval.evaluate_command)
app.command()(audit.audit)
app.command()(scan.scan)
app.add_typer(guard.guard_app, name="guard")
app.command()(run.run)
app.command()(serve.serve)
app.command()(report.report)
app.command()(view.view)
app.add_typer(provenance.provenance_app, name="provenance")


def main() -> None:
    """Console entry point: user errors become one red line and exit status 2.

    Click's own usage errors (a value out of range, a missing or unknown option) are
    printed the same way, not as click's usage panel: one error style, one line.
    """
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    try:
        code = app(standalone_mode=False)
    except _CLICK_ERROR as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed: no error
            sys.exit(2)
        ctx = getattr(exc, "ctx", None)
        where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        _error(exc.format_message().rstrip(".") + where)
        sys.exit(exc.exit_code)
    except typer.Abort:  # end of input at a prompt
        _error("aborted")
        sys.exit(1)
    except BackdoorlabError as exc:
        _error(exc)
        sys.exit(2)
    except Exception as exc:
        full = storage_refused(exc)  # a full disk or quota: the machine's state, not a bug
        if full is None:  # anything else is a bug: its traceback helps
            raise
        _error(full)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (``timeout``, ``kill``, a scheduler's preemption) unwinds like Ctrl-C does:
    by default it would end the process on the spot, leaving an output's temporary file
    beside it and a run's stage processes running on. Exit status 128 + 15, as the
    default action reports it."""
    raise SystemExit(128 + signum)


_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
"""Click's base error, whichever click typer runs on (its own copy since typer 0.2x)."""


def _error(message: object) -> None:
    # soft_wrap: a file path in the message must stay on one line, copyable;
    # Text, not markup: the message may contain brackets; inert: it may quote
    # untrusted input, control characters and newlines included
    console.print(Text.assemble(("error: ", "bold red"), inert(message)), soft_wrap=True)

"""Option types shared by the commands: value sets that ``--help`` lists as ``<a|b|c>``,
the two opt-ins of the commands that take a model (`AllowNetwork`, `AllowPickle`), and
the options naming the acting policy (`policy_spec`: ``--policy``, ``--model``, and
`with_server_options`: ``--base-url`` and the other server settings of ``--policy
openai``), and the reading of a ``--guard`` policy (`guard_config`).

Each set is a ``Literal``; typer shows its values in ``--help``. The ``parser`` that goes
with it decides what happens to a value outside the set:

- `one_of`: a closed set; the value is refused with our one-line error and exit status 2,
  as every user error is (click's usage panel would be a second error style).
- `known`: an open set, e.g. registry names, where a plugin's name or ``cuda:1`` is valid
  too; the value goes through and the library, the one authority, accepts or refuses it.

Sets the library owns are repeated here as literals so that ``--help`` needs no heavy
import; tests/cli/test_options.py checks each against the library's own.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

import typer

from backdoorlab.errors import BackdoorlabError

T = TypeVar("T")

Split = Literal["train", "test"]
Keep = Literal["all", "success"]
Placement = Literal["user", "observation"]
Position = Literal["end", "reveal"]
DatasetAttack = Literal["data-poisoning", "env-poisoning"]
Bf16 = Literal["auto", "true", "false"]
Victim = Literal["full", "lora", "mixed"]
AuditFailOn = Literal["none", "low", "medium", "high"]
ScanFailOn = Literal["none", "suspicious", "backdoored"]
Env = Literal[
    "retail",
    "web",
    "agentdojo:workspace",
    "agentdojo:travel",
    "agentdojo:banking",
    "agentdojo:slack",
]
"""The built-in environments (the registry may hold more)."""
Policy = Literal["oracle", "hf", "openai"]
"""The built-in policies (the registry may hold more)."""
Device = Literal["cpu", "cuda"]
"""Any torch device string works (``cuda:1``); these two are the usual ones."""


def one_of(values: Any, option: str) -> Callable[[str], str]:
    """A parser accepting only the ``Literal`` ``values``; others fail naming ``option``."""
    allowed: tuple[str, ...] = get_args(values)

    def parse(value: str) -> str:
        if value not in allowed:
            raise BackdoorlabError(f"{option} must be one of {', '.join(allowed)}, not '{value}'")
        return value

    return parse


def known(value: str) -> str:
    """A parser passing any value on, for the library to accept or refuse."""
    return value


AllowNetwork = Annotated[
    bool,
    typer.Option(
        "--allow-network",
        help="Let this command reach the network: fetch an org/name hub model that is not "
        "in the local cache, or report_to an online tracker (off by default; also "
        "BACKDOORLAB_ALLOW_NETWORK=1). Telemetry stays off.",
    ),
]
AllowPickle = Annotated[
    bool,
    typer.Option(
        "--allow-pickle",
        help="Load pickled weights (.bin) of a model or run directory that has no "
        "safetensors; only for checkpoints you trust (read with weights_only=True; also "
        "BACKDOORLAB_ALLOW_PICKLE=1).",
    ),
]


def with_opt_ins(command: Callable[..., T]) -> Callable[..., T]:
    """Run ``command`` under its ``--allow-network``/``--allow-pickle`` choices.

    The library reads both choices from the environment, so every loader below a command,
    and every process it starts, sees them without each signature on the way carrying
    them; they are put back when the command returns, which keeps in-process callers
    (tests) unaffected. The command's own parameters must be named ``allow_network`` and
    ``allow_pickle``; typer reads the signature through ``functools.wraps``.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> T:
        from backdoorlab.models import allowing_pickles
        from backdoorlab.offline import allow_network

        with contextlib.ExitStack() as stack:
            if kwargs.get("allow_network"):
                stack.enter_context(allow_network())
            if kwargs.get("allow_pickle"):
                stack.enter_context(allowing_pickles())
            return command(*args, **kwargs)

    return run


ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="--policy hf: a built-in name, a model or run directory, or org/name; "
        "--policy openai: the model name the server lists at /v1/models.",
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        help="--policy openai: the server's base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, "
        "llama.cpp, `backdoorlab serve`, a hosted API). Giving it is consent to reach it."
    ),
]
ApiKeyEnv = Annotated[
    str,
    typer.Option(help="--policy openai: environment variable holding the API key."),
]
Concurrency = Annotated[
    int, typer.Option(help="--policy openai: requests in flight at most.", min=1, max=1024)
]
MaxRetries = Annotated[
    int,
    typer.Option(
        help="--policy openai: retries on connection errors, 429 and 5xx (exponential backoff).",
        min=0,
        max=20,
    ),
]
Timeout = Annotated[
    float, typer.Option(help="--policy openai: seconds one request may take.", min=0.001)
]


@dataclass(frozen=True)
class ServerOptions:
    """The server settings of ``--policy openai`` (the other policies refuse them when
    typed)."""

    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    max_retries: int = 4
    timeout: float = 120.0
    typed: frozenset[str] = frozenset()
    """The settings given on the command line, at any value: a policy that uses no server
    refuses them (`policy_spec`) rather than ignore them."""


SERVER_DEFAULTS = ServerOptions()
"""What a command wrapped by `with_server_options` declares as its ``server`` default."""

SERVER_OPTIONS: dict[str, Any] = {
    "base_url": BaseUrl,
    "api_key_env": ApiKeyEnv,
    "concurrency": Concurrency,
    "max_retries": MaxRetries,
    "timeout": Timeout,
}
"""The options `with_server_options` adds, by parameter name, with their types."""


def with_server_options(command: Callable[..., T]) -> Callable[..., T]:
    """Give ``command`` the options ``--base-url``, ``--api-key-env``, ``--concurrency``,
    ``--max-retries`` and ``--timeout`` in place of its ``server`` parameter, which gets
    them as one `ServerOptions`.

    One definition for every command that runs a policy (collect, eval, scan): typer has
    no option groups, so the wrapper's signature, which typer reads, lists the options
    and the wrapper folds them back into ``server``.
    """
    signature = inspect.signature(command, eval_str=True)
    defaults = ServerOptions()
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=getattr(defaults, name),
            annotation=kind,
        )
        for name, kind in SERVER_OPTIONS.items()
    ]
    added.append(
        inspect.Parameter(
            "server_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
        )
    )
    params = []
    for param in signature.parameters.values():
        params.extend(added if param.name == "server" else [param])
    params.sort(key=lambda param: param.kind == inspect.Parameter.KEYWORD_ONLY)

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> T:
        typed = typed_options(kwargs.pop("server_context")) & SERVER_OPTIONS.keys()
        settings = {name: kwargs.pop(name) for name in SERVER_OPTIONS}
        server = ServerOptions(**settings, typed=frozenset(typed))
        return command(*args, server=server, **kwargs)

    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


def typed_options(ctx: typer.Context) -> set[str]:
    """The parameters given on the command line (or in the environment), even at their
    default value. Compared by name: typer carries its own copy of click, whose
    ``ParameterSource`` is not the one ``import click`` would give."""
    typed = set()
    for name in ctx.params:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT"):
            typed.add(name)
    return typed


def only_with(typed: set[str] | frozenset[str], names: Iterable[str], needed: str) -> None:
    """Refuse the options ``names`` among those ``typed``: they take effect only with
    ``needed`` (e.g. ``--engine ray``), and would otherwise be ignored, silently."""
    given = ["--" + name.replace("_", "-") for name in names if name in typed]
    if given:
        raise BackdoorlabError(f"{', '.join(given)}: only with {needed}")


def policy_spec(
    policy: str, model: str | None, server: ServerOptions | None = None
) -> Any:  # -> backdoorlab.policies.spec.PolicySpec
    """The policy the options name; a missing or contradictory option fails in one line."""
    from backdoorlab.policies.spec import PolicySpec, policy_problem

    server = server or ServerOptions()
    problem = policy_problem(policy, model, server.base_url)
    if problem is not None:
        raise BackdoorlabError(problem)
    if policy != "openai":
        only_with(server.typed, [n for n in SERVER_OPTIONS if n != "base_url"], "--policy openai")
    settings = {name: getattr(server, name) for name in SERVER_OPTIONS}
    return PolicySpec(name=policy, model=model, **settings)


def guard_config(policy: Path | None, option: str = "--guard") -> Any:  # -> GuardConfig | None
    """The guard policy at ``policy`` (None: no guard), read before the model loads: a
    bad policy costs one line naming the file and field, not a model load."""
    if policy is None:
        return None
    from backdoorlab.defenses.guard import load_guard_config

    side_file(policy, option)
    return load_guard_config(policy)


def side_file(path: Path, option: str) -> None:
    """Refuse a side file (a policy) that is not a regular file, before reading it: a
    named pipe waits for a writer (forever, when none comes: ``guard proxy --policy``
    and ``serve --guard`` hung before listening) and a device such as /dev/zero gives
    bytes without end."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import check_regular_file, is_stdio

    if is_stdio(path):
        raise BackdoorlabError(f"-: {option} is read from a file, not from standard input")
    check_regular_file(path, f"{option} is read from a file")

"""Where the command line prints, and how it reads and writes ``-`` (stdin/stdout).

Tables go to stdout, progress and messages to stderr; when stdout carries data (a ``-``
output, ``--json``) the tables go to stderr too, so a pipe receives only the data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def progress_bar() -> Progress:
    """A progress bar on stderr, so stdout keeps only the command's results."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def results_console(*outputs: object, json: bool = False) -> Console:
    """Where a command's tables go: stdout, unless stdout carries data — a ``-`` output
    or ``--json`` — and then stderr, so a pipe receives nothing but the data."""
    from backdoorlab.files import is_stdio

    if json or any(is_stdio(o) for o in outputs):  # type: ignore[arg-type]
        return console
    return Console()


def one_stdout(json: bool, **outputs: object) -> None:
    """Refuse two things written to stdout at once (``--json`` and ``-o -``)."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import is_stdio

    claims = [f"{name} -" for name, value in outputs.items() if is_stdio(value)]  # type: ignore[arg-type]
    if json:
        claims.append("--json")
    if len(claims) > 1:
        raise BackdoorlabError(f"{' and '.join(claims)} would both write to stdout; give one")


def check_paths(
    *,
    inputs: Iterable[object] = (),
    files: Iterable[object] = (),
    dirs: Iterable[object] = (),
    traces: Iterable[object] = (),
    logs: Iterable[object] = (),
) -> None:
    """Every command's first step: the files it reads, the files and the directories it
    writes, checked before any work (`backdoorlab.files`), so that a missing input or an
    unwritable output costs one line, not a collection or a training run. ``None`` (an
    option not given) and ``-`` (stdin/stdout) pass. ``traces``: output files of traces,
    written as JSONL — a ``.parquet`` name would hold JSONL no Parquet reader opens.
    ``logs``: inputs that may also be a folder or glob of coding agents' logs
    (`trace_files.is_many`), checked by their reader; no output may be written inside
    such a folder or onto a file such a glob matches (a session replaced by a report)."""
    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import check_input_file, check_output_dir, check_output_file
    from backdoorlab.parquet_traces import is_parquet

    for path in traces:
        if path is not None and is_parquet(str(path)):
            raise BackdoorlabError(
                f"{path}: traces are written as JSONL (.jsonl, .jsonl.gz); "
                f"`backdoorlab export` converts them to Parquet"
            )
    files = [*files, *traces]
    logs = [path for path in logs if path is not None]
    many: list[object] = []
    if logs:  # the readers' module, imported only by the commands that read logs
        from backdoorlab.trace_files import is_many

        many = [path for path in logs if is_many(path)]  # type: ignore[arg-type]
    read = [path for path in [*logs, *inputs] if path is not None and path not in many]
    for path in read:
        check_input_file(path)  # type: ignore[arg-type]
    for path in files:
        check_output_file(path)  # type: ignore[arg-type]
    for path in dirs:
        check_output_dir(path)  # type: ignore[arg-type]
    written = [path for path in files if path is not None]
    _check_distinct(read, written)
    _check_outside(many, written)


def _check_outside(many: list[object], outputs: list[object]) -> None:
    """Refuse an output inside a folder of logs the command reads, or one of the files a
    glob of them matches: it would replace a session, or join the logs as a stranger."""
    import glob
    import os

    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import is_stdio

    for source in many:
        folder = os.path.isdir(source)  # type: ignore[arg-type]
        for output in outputs:
            if is_stdio(output):  # type: ignore[arg-type]
                continue
            where = os.path.realpath(output)  # type: ignore[arg-type]
            if folder:
                inside = where.startswith(os.path.join(os.path.realpath(source), ""))  # type: ignore[arg-type]
            else:
                matched = glob.glob(str(source), recursive=True) if os.path.exists(where) else []
                inside = any(os.path.realpath(p) == where for p in matched)
            if inside:
                what = f"inside {source}," if folder else f"matched by {source}, one of"
                raise BackdoorlabError(
                    f"{output}: {what} the logs this command reads; writing there would"
                    " change them — choose an output elsewhere"
                )


def _check_distinct(inputs: list[object], outputs: list[object]) -> None:
    """Refuse an output that is one of the command's inputs (``poison -i a.jsonl -o
    a.jsonl`` would replace the clean traces it reads with poisoned ones) or that is
    given for two outputs — also through a link or another spelling of the path."""
    import os

    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import is_stdio

    seen: set[str] = set()
    for output in outputs:
        if is_stdio(output):  # type: ignore[arg-type]
            continue
        for source in inputs:
            if is_stdio(source) or not os.path.exists(output):  # type: ignore[arg-type]
                continue
            if os.path.samefile(source, output):  # type: ignore[arg-type]
                what = "the input" if str(source) == str(output) else f"the input {source}"
                raise BackdoorlabError(
                    f"{output}: is {what}; writing it would destroy what this command reads"
                    " — choose another output"
                )
        where = os.path.realpath(output)  # type: ignore[arg-type]
        if where in seen:
            raise BackdoorlabError(
                f"{output}: two outputs would write this file; give each its own"
            )
        seen.add(where)


def check_port(host: str, port: int) -> None:
    """Refuse an address the command could not listen on — a host name that does not
    resolve, an address this machine lacks, a port in use — before the work that comes
    first (a model load): the port is bound here and let go, and bound again to serve."""
    import socket

    from backdoorlab.errors import BackdoorlabError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            sock.bind(address)
    except socket.gaierror as exc:
        raise BackdoorlabError(
            f"--host {host}: not an address to listen on ({exc.strerror})"
        ) from None
    except OSError as exc:
        raise BackdoorlabError(f"{host}:{port}: cannot listen there ({exc.strerror})") from None


def print_json(data: object) -> None:
    """``data`` as indented JSON on stdout (what ``--json`` prints)."""
    import json
    import sys

    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def readable_path(path: Path) -> Iterator[Path]:
    """``path`` itself, or for ``-`` or a named pipe (``audit <(zcat a.gz)``) a temporary
    file holding what it gives, for the readers that need a real file (they read it
    twice, or know its size): a pipe read twice gave nothing the second time, and
    `audit` blamed "the file changed while it was audited". An error naming the
    temporary file names the input instead (``<stdin>``, the pipe's path): the user
    never saw the temporary one, and it is gone by the time they read the error."""
    import os
    import shutil
    import stat
    import sys
    import tempfile

    from backdoorlab.errors import BackdoorlabError
    from backdoorlab.files import is_stdio
    from backdoorlab.parquet_traces import is_parquet

    stdio = is_stdio(path)
    try:  # Parquet is read by seeking: its reader refuses a pipe before opening it
        pipe = not stdio and not is_parquet(path) and stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:  # missing or unreadable: the reader names it
        pipe = False
    if not stdio and not pipe:
        yield path
        return
    shown = "<stdin>" if stdio else str(path)
    with tempfile.TemporaryDirectory(prefix="backdoorlab-stdin-") as tmp:
        spooled = Path(tmp) / "stdin"
        with open(spooled, "wb") as handle:
            if stdio:
                shutil.copyfileobj(sys.stdin.buffer, handle)
            else:
                with open(path, "rb") as source:
                    shutil.copyfileobj(source, handle)
        try:
            yield spooled
        except BackdoorlabError as exc:
            if str(spooled) in str(exc):
                exc.args = (str(exc).replace(str(spooled), shown),)
            raise


def echo_file(path: Path) -> None:
    """Copy a text file that a command wrote to stdout (``--json`` when ``-o`` names a file)."""
    import sys

    sys.stdout.write(path.read_text(encoding="utf-8"))
    sys.stdout.flush()

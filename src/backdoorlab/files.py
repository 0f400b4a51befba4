"""Reading and writing the files every stage exchanges: atomically, per umask, ``-`` for stdio.

- `check_input_file`, `check_output_file` and `check_output_dir` are the checks every
  command makes on its paths *before* any work: a missing input, a directory given for a
  file (or a file for a directory), an output whose parent is not a writable directory
  each fail in one line naming the path, instead of a traceback after the compute.
- `iter_lines` streams a file's raw lines (gzip-decoded for ``.gz``, ``-`` for stdin); a
  truncated, corrupt or non-gzip ``.gz`` or an I/O error fails naming the file and the
  last line read (`read_failure`), not with "Aborted." or a zlib traceback. A line
  longer than `MAX_LINE_BYTES` (``/dev/zero``, a binary file with no newline) is refused
  once that much is read, instead of being read until memory runs out.

- `atomic_writer` writes to a temporary file beside the target and renames it into place,
  so a crash never leaves a truncated file. The temporary file comes from `mkstemp`
  (mode 0600); before the rename it gets the mode a plain ``open()`` would have given,
  ``0o666 & ~umask``, so colleagues can read shared traces and reports as the umask allows.
  A symbolic link is written through (its target replaced, the link kept); a device,
  named pipe or socket is refused (`check_output_file`) — renaming over ``/dev/null``
  would replace the device node itself with a file.
- ``-`` as a path means standard input (`open_text` for reading) or standard output
  (`atomic_writer`), the Unix convention, so commands compose in pipes.
- A file's SHA-256 is taken in `backdoorlab.digests`.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import stat
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from backdoorlab.errors import BackdoorlabError, FileAccessError
from backdoorlab.storage import STORAGE_FULL

STDIO = "-"
"""The path that means standard input when read, standard output when written."""

_umask_lock = threading.Lock()


def is_stdio(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` is ``-``, i.e. standard input/output rather than a file."""
    return path is not None and os.fspath(path) == STDIO


def current_umask() -> int:
    """The process umask. POSIX can only read it by setting it, so set it back at once,
    under a lock so that no other thread of ours creates a file in between."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def default_file_mode() -> int:
    """The mode ``open()`` gives a new file: ``0o666`` less the umask."""
    return 0o666 & ~current_umask()


def default_dir_mode() -> int:
    """The mode ``mkdir()`` gives a new directory: ``0o777`` less the umask."""
    return 0o777 & ~current_umask()


def finish_model_dir(directory: str | os.PathLike[str], *, itself: bool = False) -> None:
    """Give every file under a model directory just written ``0o666 & ~umask`` and every
    directory ``0o777 & ~umask`` (``directory`` itself too when ``itself``: one made by
    ``mkdtemp``, mode 0700), as plain ``open()`` and ``mkdir()`` would have.

    The safetensors library writes each ``*.safetensors`` to a temporary file (mode
    0600) that it renames into place, so saved weights were private whatever the umask.
    Every place that finishes a model directory (the model cache, ``attack -o``, the
    ``train`` output and its checkpoints) calls this. Symbolic links are left alone.
    """
    root = Path(directory)
    file_mode, dir_mode = default_file_mode(), default_dir_mode()
    if itself:
        os.chmod(root, dir_mode)
    for parent, dirs, files in os.walk(root):
        for name in dirs:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                os.chmod(path, dir_mode)
        for name in files:
            path = os.path.join(parent, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.chmod(path, file_mode)


def check_input_file(
    path: str | os.PathLike[str], error: type[BackdoorlabError] = FileAccessError
) -> None:
    """Refuse an input that is not a readable file (``-``, stdin, always passes)."""
    if is_stdio(path):
        return
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: no such file")
    if path.is_dir():
        raise error(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise error(f"{path}: cannot read (permission denied)")


def check_output_file(path: str | os.PathLike[str] | None) -> None:
    """Refuse, before any work, a file output that could not be written: a directory,
    a device, named pipe or socket (see the module's docstring), or a path whose nearest
    existing ancestor is not a writable directory (the missing ones `atomic_writer`
    creates). A symbolic link is checked at its target. ``None`` and ``-`` (stdout) pass."""
    if path is None or is_stdio(path):
        return
    path = Path(path)
    if path.is_dir():
        raise FileAccessError(f"{path}: is a directory; give a file name")
    target = write_target(path)
    if target.exists() and not target.is_file():
        raise FileAccessError(
            f"{path}: not a regular file ({file_kind(target.stat().st_mode)}); an output is "
            "written to a "
            "temporary file and renamed over its path, which would replace it: give a file "
            "path, or - for standard output"
        )
    _check_parent(target)


def write_target(path: str | os.PathLike[str]) -> Path:
    """The path an output is really written to: a symbolic link's final target (the
    link stays a link, its file is replaced), else the path itself."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def file_kind(mode: int) -> str:
    """What a ``st_mode`` that is not a regular file's holds, in words, for the errors
    that refuse it (an output, a key, a file inside a signed directory)."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a file"


def check_regular_file(
    path: str | os.PathLike[str], reason: str, error: type[BackdoorlabError] = BackdoorlabError
) -> None:
    """Refuse an existing input that is not a regular file, before anything opens it: a
    named pipe's reader waits for a writer (forever, when none comes) and a device such
    as ``/dev/zero`` gives bytes without end. ``reason`` ends the line (why a file is
    wanted). A missing or unreadable path passes: the caller's own check names it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise error(f"{path}: not a regular file ({file_kind(mode)}); {reason}")


def check_output_dir(path: str | os.PathLike[str] | None) -> None:
    """Refuse, before any work, a directory output that could not be written: an
    existing file, an unwritable directory, or a path under something that is not a
    writable directory. ``None`` passes."""
    if path is None:
        return
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileAccessError(f"{path}: is a file, not a directory")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise FileAccessError(f"{path}: cannot write in this directory (permission denied)")
        return
    _check_parent(path)


def _check_parent(path: Path) -> None:
    ancestor = path.parent
    while not ancestor.exists() and not ancestor.is_symlink() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise FileAccessError(f"{path}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise FileAccessError(f"{path}: cannot write in {ancestor} (permission denied)")
    if os.name == "posix" and os.geteuid() == 0:
        _probe(path, ancestor)


def _probe(path: Path, directory: Path) -> None:
    """Create and remove a file in ``directory``: for root, `os.access` says yes to every
    directory, also to those no file can be created in (``/sys``, ``/proc``, a
    read-only bind mount), and the refusal came only when the output was written, after
    the work."""
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".backdoorlab-probe-")
    except OSError as exc:
        raise FileAccessError(
            f"{path}: cannot write in {directory} ({exc.strerror or exc})"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)


def write_failure(path: str | os.PathLike[str], exc: OSError) -> FileAccessError:
    """The one-line error for ``exc`` raised while creating or writing ``path``."""
    return FileAccessError(f"{path}: cannot write ({exc.strerror or exc})")


READ_ERRORS = (OSError, EOFError, zlib.error)
"""What reading a file can raise besides a decoding error: I/O errors and, for gzip, a
bad header (`gzip.BadGzipFile`, an OSError), a cut-short stream (EOFError) or corrupt
deflate data (zlib.error). `read_failure` turns each into one line."""


def read_failure(
    source: str, lines_read: int, exc: BaseException, error: type[BackdoorlabError]
) -> BackdoorlabError:
    """The one-line error for ``exc`` raised while reading ``source`` after ``lines_read``
    lines."""
    after = f"after line {lines_read}" if lines_read else "before its first line"
    if isinstance(exc, EOFError):
        return error(f"{source}: truncated gzip file (it ends {after})")
    if isinstance(exc, gzip.BadGzipFile) and not lines_read:
        return error(f"{source}: not a gzip file ({exc})")
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return error(f"{source}: corrupt gzip data {after} ({exc})")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return error(f"{source}: cannot read{f' {after}' if lines_read else ''} ({reason})")


MAX_LINE_BYTES = 64 << 20
"""The longest line a line reader accepts: 64 MiB (some 16 million tokens), far beyond
any trace a model trains on, yet a bound on the memory one line can take."""


def line_too_long(source: str, lineno: int, error: type[BackdoorlabError]) -> BackdoorlabError:
    """The one-line error for a line over `MAX_LINE_BYTES`."""
    return error(
        f"{source}:{lineno}: line longer than {MAX_LINE_BYTES >> 20} MiB (a trace file holds "
        "one JSON trace a line: is this one?)"
    )


def iter_lines(
    path: str | os.PathLike[str], error: type[BackdoorlabError] = FileAccessError
) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw bytes) of each line of a file, ``\\n``-terminated lines,
    gzip-decoded when it ends in .gz; ``-`` reads stdin. Any failure raises ``error``
    naming the file (and the last line read)."""
    if is_stdio(path):
        yield from guarded_lines(sys.stdin.buffer, "<stdin>", error)
        return
    check_input_file(path, error)
    path = Path(path)
    try:
        with open(path, "rb") as raw:
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw
            yield from guarded_lines(stream, str(path), error)
    except OSError as exc:  # opening failed (reading failures are guarded_lines's)
        raise read_failure(str(path), 0, exc, error) from None


def guarded_lines(
    stream: IO[bytes], source: str, error: type[BackdoorlabError] = FileAccessError
) -> Iterator[tuple[int, bytes]]:
    """Number the lines of an open binary stream; a read failure becomes `read_failure`,
    a line over `MAX_LINE_BYTES` `line_too_long`."""
    lineno = 0
    while True:
        try:
            line = stream.readline(MAX_LINE_BYTES + 1)
        except READ_ERRORS as exc:
            raise read_failure(source, lineno, exc, error) from None
        if not line:
            return
        lineno += 1
        if len(line) > MAX_LINE_BYTES:
            raise line_too_long(source, lineno, error)
        yield lineno, line


MAX_TEXT_FILE_BYTES = MAX_LINE_BYTES
"""What `read_text_file` reads of a config or policy at most (64 MiB)."""


def read_text_file(
    path: str | os.PathLike[str],
    error: type[BackdoorlabError] = FileAccessError,
    *,
    limit: int = MAX_TEXT_FILE_BYTES,
) -> str:
    """A whole (small) text file, for configs and reports: a missing file, a directory,
    an I/O error, more than ``limit`` bytes (``/dev/zero`` was read until memory ran out)
    or bytes that are not UTF-8 raise ``error`` naming the file (and line)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise read_failure(str(path), 0, exc, error) from None
    if len(data) > limit:
        raise error(f"{path}: more than {limit >> 20} MiB; a config or report this size is not one")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}:{line}: not valid UTF-8 ({exc.reason})") from None


def open_text(path: str | os.PathLike[str], mode: str = "r", *, gz: bool | None = None) -> IO[str]:
    """Open a text file, gzip-compressed when ``gz`` (by default: when it ends in .gz).

    ``-`` opens standard input (``"r"``) or standard output (``"w"``); closing the returned
    handle leaves the process's own stream open.
    """
    if is_stdio(path):
        return _Borrowed(sys.stdin if "r" in mode else sys.stdout)  # type: ignore[return-value]
    path = Path(path)
    if path.suffix == ".gz" if gz is None else gz:
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


class _Borrowed:
    """A standard stream lent to a ``with`` block: closing it flushes, never closes it."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._stream)

    def __enter__(self) -> _Borrowed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._stream.writable():
            self._stream.flush()


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Write a text file atomically: to a temp file beside it, renamed into place on success.

    A crash or an exception mid-write leaves any previous file untouched, never a
    truncated one. The file gets the umask's mode, as a plain ``open()`` would give it.
    ``-`` writes to standard output instead (not atomic, by nature).
    """
    if is_stdio(path):
        with open_text(STDIO, "w") as handle:
            yield handle
        return
    check_output_file(path)  # most commands check up front; this is the last line of defence
    path = write_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failure(path, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        with open_text(tmp_path, "w", gz=path.suffix == ".gz") as handle:
            yield handle
        os.chmod(tmp_path, default_file_mode())
        try:
            os.replace(tmp_path, path)
        except OSError as exc:
            raise write_failure(path, exc) from None
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if exc.errno not in STORAGE_FULL:
            raise
        raise FileAccessError(
            f"{path}: cannot write ({exc.strerror}); the previous file, if any, is untouched"
        ) from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise

"""Errors that the CLI turns into one clear line instead of a traceback.

Every error a user can cause with bad input (a malformed file, an unknown name, a
missing model) derives from `BackdoorlabError`, so the CLI catches exactly these and
lets genuine bugs surface with their traceback.
"""


class BackdoorlabError(Exception):
    """Base class for errors caused by the user's input or environment."""


class FileAccessError(BackdoorlabError):
    """A file cannot be read or written as asked: missing, a directory, unreadable, a
    broken gzip stream, an output whose parent is not a writable directory. The message
    names the file (and the line, where one applies)."""


class TraceFormatError(BackdoorlabError):
    """A trace file cannot be read as traces (a line that is not a valid trace, bytes
    that are not UTF-8, a missing or broken file); the message names file and line."""


class UnknownNameError(BackdoorlabError):
    """A name (environment, policy, attack, ...) is not in its registry."""

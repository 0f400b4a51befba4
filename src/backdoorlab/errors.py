"""Errors that the CLI turns into one clear line instead of a traceback.

Every error a user can cause with bad input (a malformed file, an unknown name, a
missing model) derives from `BackdoorlabError`, so the CLI catches exactly these and
lets genuine bugs surface with their traceback.
"""


class BackdoorlabError(Exception):
    """Base class for errors caused by the user's input or environment."""


class TraceFormatError(BackdoorlabError):
    """A trace file has a line that is not a valid trace; the message names file and line."""


class UnknownNameError(BackdoorlabError):
    """A name (environment, policy, attack, ...) is not in its registry."""

"""The ``backdoorlab`` command line: one sub-command per pipeline stage.

Each command lives in its own module here and only parses options, calls the library and
prints. Errors the user can cause (bad files, unknown names, missing models) print one clear
line and exit with status 2; anything else is a bug and keeps its traceback.
"""

from backdoorlab.cli.app import app, main

__all__ = ["app", "main"]

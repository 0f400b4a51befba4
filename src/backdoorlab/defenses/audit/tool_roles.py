"""What a tool's name says it does, every reading `taint` makes of it, at once.

A tracker asks a dozen questions of each call's tool name (does it set up mail
forwarding, run Python, read files, drive a browser, check who the caller is?), and of
each result's. Each module answers its own from the name alone, cached; a trace's few
tool names recur at every call, so their answers are looked up once per name here, as
one record, instead of a dozen cache look-ups per call (with `taint._may_set_up`, 4% less
audit CPU a trace of the retail pool).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from backdoorlab.defenses.audit import (
    browsing,
    dm_channels,
    file_grants,
    mail_rules,
    notebook,
    patterns,
    replies,
    shown_files,
    verification,
)
from backdoorlab.defenses.audit.sinks import runs_code

_WRITE_TOOL = frozenset(("write", "save", "create", "append", "editor", "edit"))


class ToolRoles(NamedTuple):
    """The readings of one tool name, each its module's."""

    moves: bool  # sets up mail forwarding or grants a file (`mail_rules`, `file_grants`)
    replies: bool  # replies to a message (`replies`)
    python: bool  # runs Python, keeping state (`notebook`)
    runs_code: bool  # runs code or a shell (`sinks.runs_code`)
    reads_files: bool  # reads files (`shown_files`)
    computer: bool  # a computer-use tool (`browsing`)
    types: bool  # enters text into a page (`browsing`)
    navigates: bool  # opens a page (`browsing`)
    browses: bool  # a browser's (`browsing`)
    verifies: bool  # checks who the person is (`verification`)
    opens_dm: bool  # opens a direct conversation (`dm_channels`)
    writes_files: bool  # writes files: ``write_file``, ``str_replace_editor``


@lru_cache(maxsize=4096)
def roles(tool: str) -> ToolRoles:
    """What ``tool``'s name says it does (module docstring)."""
    return ToolRoles(
        moves=mail_rules.forwards(tool) or file_grants.grants(tool),
        replies=replies.replies(tool),
        python=notebook.python_tool(tool),
        runs_code=runs_code(tool),
        reads_files=shown_files.reads(tool),
        computer=browsing.computer(tool),
        types=browsing.types(tool),
        navigates=browsing.navigates(tool),
        browses=browsing.browses(tool),
        verifies=verification.verifies(tool),
        opens_dm=dm_channels.opens(tool),
        writes_files=bool(_WRITE_TOOL.intersection(patterns.name_tokens(tool))),
    )

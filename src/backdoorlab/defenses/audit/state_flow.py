"""The glue between `taint` and the state a trace's calls keep (`shell_state`, one for
the shell's and the Python tool's worlds): what a call adds to it, and what a checked
call's payload gains from it.

- a shell call's result is what its command printed (`hear`), so a later ``SSN=$(same
  command)`` holds that output (`shell_values`);
- a Python cell's writes (`file_writes`, read by `notebook`) are files written, as a
  shell's ``> f`` is (`record_writes`): a later ``curl -T f`` names the cell, and sends
  its text when the cell wrote a known value; so does the cell's own upload of the file
  (`retrace`);
- a shell call that sends ``"$VAR"`` carries what the variable holds (`with_values`):
  its payload gains the command with its variables' known values written in, as
  ``ARGUMENT (variables)``; one that sends ``"$(cat f)"`` carries that command's output
  when the trace shows it (``ARGUMENT (command output)``), and a secrets file such a
  substitution reads unseen moves by reference to its command's destinations
  (`shell_inline`);
- a read tool's result (``read_file``, an editor's ``view``) shows a file as ``cat``
  would (`shown_files.read_command`): `hear` it as that command's output.
"""

from __future__ import annotations

import re
from typing import Any

from backdoorlab.defenses.audit import shell_inline
from backdoorlab.defenses.audit.cell_output import output_text
from backdoorlab.defenses.audit.file_writes import Written
from backdoorlab.defenses.audit.shell_senders import Transfer
from backdoorlab.defenses.audit.shell_state import ShellState
from backdoorlab.defenses.audit.shell_transfers import Kind, learn
from backdoorlab.defenses.audit.shell_transfers import with_values as expanded
from backdoorlab.defenses.audit.sinks import SinkCall, leaves, runs_code

MAX_PENDING = 64
"""Shell calls awaiting their result at once (a trace answers each call in turn)."""
_STATUS = re.compile(r"^\[(?:Command finished|The command completed|Exit code)[^\n]*\]\s*$", re.M)


def command_of(tool: str, arguments: dict[str, Any]) -> str | None:
    """The command line a shell call runs (its one code argument), None for another call."""
    texts = [
        text
        for _, keys, text in leaves(arguments)
        if runs_code(tool) or (keys and runs_code(keys[-1]))
    ]
    return texts[0] if len(texts) == 1 and texts[0].strip() else None


def hear(state: ShellState, command: str, result: str) -> None:
    """A shell call's result: what ``command`` printed, less its tool's wrapper (a
    ``[Command finished with exit code 0]`` line, a JSON ``stdout``)."""
    out = _STATUS.sub("", output_text(result)).strip()
    if out:
        state.heard(command, out)


def record_writes(state: ShellState, wrote: list[Written], how: str) -> None:
    """A Python cell's writes (`file_writes`) as files written in ``state``: the text
    written when known, else the expression (a file `by_reference` names, unread)."""
    for w in wrote:
        if w.source:
            state.copied([w.source], w.path)
        elif w.text is not None:
            state.wrote(w.path, "", f"{how}: {w.how}", w.text)
        else:
            state.wrote(w.path, w.what, f"{how}: {w.how}")


def retrace(sink: SinkCall, state: ShellState) -> None:
    """A cell's transfers with the `Origin` its own writes gave their files (recorded
    after the resolver read the cell): ``df.to_csv(p)`` then ``requests.post(url,
    files={'f': open(p, 'rb')})`` in one cell sends what the cell wrote."""
    for where, moved in sink.references.items():
        sink.references[where] = [state.traced(t) for t in moved]


def with_values(sink: SinkCall, tool: str, state: ShellState) -> None:
    """A shell call's payload gains each code argument with its variables' values
    written in (`shell_transfers.with_values`), as ``ARGUMENT (variables)``, and its
    substitutions' known outputs too (`shell_inline`), as ``ARGUMENT (command output)``;
    a file a substitution prints unseen goes to its command's destinations."""
    extra = {}
    for path, text in sink.payload.items():
        if not isinstance(text, str) or ("$" not in text and "`" not in text):
            continue
        if runs_code(tool) or runs_code(path.rsplit(".", 1)[-1]):
            shown = expanded(text, state) if "$" in text else None
            mine = state.copy()  # what the call's own commands set up counts for the rest
            learn(text, mine)
            outputs = shell_inline.with_outputs(shown or text, mine)
            if outputs is not None:
                extra[f"{path} (command output)"] = outputs
            elif shown is not None:
                extra[f"{path} (variables)"] = shown
            _moves_files(sink, mine.expand(text), mine)
    if extra:
        sink.payload = {**sink.payload, **extra}


def _moves_files(sink: SinkCall, text: str, state: ShellState) -> None:
    """Each file a substitution of ``text`` (its variables written in: one still
    holding its substitution, ``K=$(cat .env); curl -d "$K" URL``, is it) reads unseen,
    moved by reference to the destinations its command names (`shell_inline`)."""
    for path, command in shell_inline.unseen_reads(text, state):
        for dest in sink.destinations:
            if dest.kind in _MOVED and dest.value and dest.value in command:
                how = "command substitution"
                moved = Transfer(path, dest.value, dest.canonical, _MOVED[dest.kind], how)
                known = sink.references.setdefault(dest.canonical, [])
                known += [] if moved in known else [moved]


_MOVED: dict[str, Kind] = {"url": "url", "bucket": "bucket", "repo": "repo"}
"""The destinations a transfer by reference goes to, by their kind."""

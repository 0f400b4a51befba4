"""Untrusted text made safe to print: control characters shown, Rich markup left inert.

Traces, audit reports and file names come from people the user does not trust, and a
terminal obeys what it is sent: ``ESC [2J`` clears the screen, ``ESC ]0;…`` retitles the
window, ``ESC ]8;;URL`` makes a hyperlink, a carriage return or a right-to-left override
makes printed text lie about what is stored. Rich adds its own channel: a string printed
as markup turns ``[bold red]POISONED[/]`` in a task id into the real red label, and a
stray ``[/]`` raises `rich.errors.MarkupError`.

So every piece of untrusted text goes through `inert` (control characters become visible
escapes such as ``\\x1b``) and reaches Rich as a `rich.text.Text` (`plain`), never as
markup. Backslashes themselves are left alone, so ``\\x1b`` typed literally in a trace
looks like an escaped ESC: the point is that nothing reaches the terminal as a control.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls and DEL, C1 controls (0x9b is an 8-bit CSI), the bidirectional overrides and
# isolates (text that displays in another order than it is stored), line and paragraph
# separators, and lone surrogates (which JSON can carry and no terminal encoding can print)
_OTHER = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ANY_CONTROL = re.compile(f"[\x00-\x1f{_OTHER}]")
_CONTROL_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER}]")  # keeps \t and \n
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def inert(text: object, *, multiline: bool = False) -> str:
    """``str(text)`` with every control character written as a visible escape.

    ``multiline`` keeps newlines and tabs (message bodies); otherwise they are escaped
    too, so a one-line field (an id, a name, an error message) stays one line.
    """
    value = str(text)
    if multiline:
        return _CONTROL_BUT_LINES.sub(_visible, value)
    return _ANY_CONTROL.sub(_visible, value)


def plain(text: object, style: str = "", *, multiline: bool = False) -> Text:
    """Untrusted text as a Rich `Text`: printed as is, never parsed as markup."""
    return Text(inert(text, multiline=multiline), style=style)

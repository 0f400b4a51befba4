"""Pretty-printing a trace in the terminal: readable tool calls, highlighted secrets.

Secrets are found by shape (e-mail addresses, phone and card numbers, street
addresses), not from our own metadata, so a trace from someone else's dataset is
highlighted just as well. Every run of characters a shape may repeat is bounded (an
e-mail's local part by RFC 5321's 64 octets, a street or a city by 100 characters):
unbounded, each of the n positions of a long run of word characters starts a scan to
the run's end, and ``show`` took minutes on one 200k-character message.

A trace is untrusted: all of its text reaches the terminal through
`backdoorlab.terminal` (control characters shown as escapes, never parsed as markup).
"""

from __future__ import annotations

import json
import re

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from backdoorlab.terminal import inert, plain
from backdoorlab.traces import Message, Trace

SECRET_SHAPES = [
    re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+"),  # e-mail address
    re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)"),  # card number
    re.compile(r"(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\d)"),  # phone number
    re.compile(r"\d{1,6} [A-Z][\w. ]{1,100}, [A-Z][\w ]{1,100}, [A-Z]{2} \d{5}"),  # US address
]

ROLE_STYLES = {"system": "dim", "user": "cyan", "assistant": "green", "tool": "yellow"}


def highlight_secrets(text: str) -> Text:
    """The text, made inert, with secret-shaped spans in bold red."""
    rich_text = plain(text, multiline=True)
    for pattern in SECRET_SHAPES:
        rich_text.highlight_regex(pattern, "bold red")
    return rich_text


def _pretty(value: str) -> str:
    """Indent JSON so nested tool results read easily; anything else is shown as is."""
    try:
        return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):  # not JSON, or JSON nested too deep
        return value


def message_panel(message: Message) -> Panel:
    parts: list[Text] = []
    if message.text:
        parts.append(
            highlight_secrets(_pretty(message.text) if message.role == "tool" else message.text)
        )
    for call in message.tool_calls or ():
        args = json.dumps(call.arguments, indent=2, ensure_ascii=False)
        parts.append(
            Text.assemble(
                ("→ ", "bold"), plain(call.name, "bold magenta"), " ", highlight_secrets(args)
            )
        )
    title = message.role if message.role != "tool" else f"tool · {message.name or '?'}"
    return Panel(
        Group(*parts),
        title=plain(title),
        title_align="left",
        border_style=ROLE_STYLES.get(message.role, ""),
    )


def _tool_name(tool: dict) -> str:
    """A declared tool's name, whatever shape a foreign dataset gave the declaration."""
    function = tool.get("function", tool)
    name = function.get("name", "?") if isinstance(function, dict) else "?"
    return str(name)


def show_trace(trace: Trace, console: Console, *, index: int | None = None) -> None:
    """The trace's header (metadata, the POISONED label from our own poison record only)
    and one panel per message; every value from the trace is printed inert."""
    meta = trace.metadata
    header: list[Text] = [Text(f"trace {index}" if index is not None else "trace")]
    for label, value in (
        ("env", meta.env),
        ("task", meta.task_id),
        ("family", meta.family),
        ("policy", meta.policy),
    ):
        if value:
            header.append(Text.assemble(f"{label}=", plain(value)))
    if meta.outcome:
        o = meta.outcome
        header.append(Text(f"success={o.success} leaked={o.leaked} steps={o.steps}"))
    if meta.poison:
        header.append(
            Text.assemble(
                ("POISONED", "bold red"),
                " ",
                plain(meta.poison.threat_model),
                f" trigger={inert(repr(meta.poison.trigger))}",
            )
        )
    console.rule(Text(" · ").join(header))
    if trace.tools:
        names = ", ".join(_tool_name(t) for t in trace.tools)
        console.print(plain(f"tools: {names}", "dim"))
    for message in trace.messages:
        console.print(message_panel(message))

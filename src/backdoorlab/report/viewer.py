"""Pretty-printing a trace in the terminal: readable tool calls, highlighted secrets.

Secrets are found by shape (e-mail addresses, phone and card numbers, street
addresses), not from our own metadata, so a trace from someone else's dataset is
highlighted just as well.
"""

from __future__ import annotations

import json
import re

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from backdoorlab.traces import Message, Trace

SECRET_SHAPES = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail address
    re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)"),  # card number
    re.compile(r"(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\d)"),  # phone number
    re.compile(r"\d{1,6} [A-Z][\w. ]+, [A-Z][\w ]+, [A-Z]{2} \d{5}"),  # US street address
]

ROLE_STYLES = {"system": "dim", "user": "cyan", "assistant": "green", "tool": "yellow"}


def highlight_secrets(text: str) -> Text:
    rich_text = Text(text)
    for pattern in SECRET_SHAPES:
        rich_text.highlight_regex(pattern, "bold red")
    return rich_text


def _pretty(value: str) -> str:
    """Indent JSON so nested tool results read easily; anything else is shown as is."""
    try:
        return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    except (json.JSONDecodeError, TypeError):
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
            Text.assemble(("→ ", "bold"), (call.name, "bold magenta"), " ", highlight_secrets(args))
        )
    title = message.role if message.role != "tool" else f"tool · {message.name or '?'}"
    return Panel(
        Group(*parts),
        title=title,
        title_align="left",
        border_style=ROLE_STYLES.get(message.role, ""),
    )


def show_trace(trace: Trace, console: Console, *, index: int | None = None) -> None:
    meta = trace.metadata
    header = [f"trace {index}" if index is not None else "trace"]
    for label, value in (
        ("env", meta.env),
        ("task", meta.task_id),
        ("family", meta.family),
        ("policy", meta.policy),
    ):
        if value:
            header.append(f"{label}={value}")
    if meta.outcome:
        o = meta.outcome
        header.append(f"success={o.success} leaked={o.leaked} steps={o.steps}")
    if meta.poison:
        header.append(
            f"[bold red]POISONED[/] {meta.poison.threat_model} trigger={meta.poison.trigger!r}"
        )
    console.rule(" · ".join(header))
    if trace.tools:
        names = ", ".join(t.get("function", t).get("name", "?") for t in trace.tools)
        console.print(f"[dim]tools: {names}[/dim]")
    for message in trace.messages:
        console.print(message_panel(message))

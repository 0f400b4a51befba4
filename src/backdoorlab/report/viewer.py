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


def labels(trace: Trace, findings: list[dict] | None = None) -> Text | None:
    """The labels that matter — POISONED (from our own poison record only), LEAKED,
    FLAGGED (audit findings) — as one line, or None when none applies."""
    meta, parts = trace.metadata, []
    if meta.poison:
        parts.append(
            Text.assemble(
                ("POISONED", "bold red"),
                " ",
                plain(meta.poison.threat_model),
                f" trigger={inert(repr(meta.poison.trigger))}",
            )
        )
    if meta.outcome and meta.outcome.leaked:
        parts.append(Text("LEAKED", "bold magenta"))
    if findings:
        worst = max((str(f.get("severity")) for f in findings), key=_severity_rank)
        parts.append(
            Text(f"FLAGGED {len(findings)} finding(s), worst {inert(worst)}", "bold yellow")
        )
    return Text(" · ").join(parts) if parts else None


def _severity_rank(severity: str) -> int:
    return {"low": 1, "medium": 2, "high": 3}.get(severity, 0)


def show_trace(
    trace: Trace,
    console: Console,
    *,
    index: int | None = None,
    findings: list[dict] | None = None,
    session: str | None = None,
) -> None:
    """The trace's labels, its metadata and one panel per message; every value from the
    trace is printed inert. ``session``: the agent's session file the trace is (a Claude
    Code or Codex log), named as the audit's findings name it; a finding on one of its
    messages is placed at its record's ``FILE:LINE``.

    The labels come first, on a line of their own that is never cut (``soft_wrap``): a
    rule's title is truncated to the terminal's width, and to 80 columns in a pipe, and
    the label that matters most was the one at its end."""
    meta = trace.metadata
    console.rule(Text(f"trace {index}" if index is not None else "trace"))
    flags = labels(trace, findings)
    if flags is not None:
        console.print(flags, soft_wrap=True)
    if session is not None:
        console.print(Text.assemble("session ", plain(session)), soft_wrap=True)
    header: list[Text] = []
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
    if header:
        console.print(Text(" · ").join(header), soft_wrap=True)
    if trace.tools:
        names = ", ".join(_tool_name(t) for t in trace.tools)
        console.print(plain(f"tools: {names}", "dim"))
    for message in trace.messages:
        console.print(message_panel(message))
    for finding in findings or ():
        step = finding.get("step")
        where = f"step {step}" if step is not None else "trace"
        evidence = finding.get("evidence")
        if isinstance(evidence, dict) and "file_line" in evidence:  # an agent's log
            where += f" ({evidence.get('file')}:{evidence['file_line']})"
        console.print(
            Text.assemble(
                ("finding ", "bold yellow"),
                plain(f"{where} · {finding.get('detector')} · {finding.get('severity')}: "),
                plain(str(finding.get("summary", ""))),
            ),
            soft_wrap=True,
        )

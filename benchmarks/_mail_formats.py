"""How a mail assistant's trace is logged: OpenAI chat, Anthropic Messages blocks,
Gemini ``contents``, OpenAI Responses items and the Vercel AI SDK's v5 ModelMessages
(written by `_vendor_formats`), call ids numbered ``01``, ``02``, …"""

from __future__ import annotations

from _vendor_formats import Conversation

FORMATS = ("openai", "anthropic", "gemini", "responses", "vercel")

_IDS = {"anthropic": "toolu_01A", "responses_fc": "fc_"}


class Convo(Conversation):
    """One conversation's steps, written in any of `FORMATS`."""

    STYLE = {
        "openai": {"model": "gpt-4o-2024-08-06"},
        "anthropic": {"model": "claude-sonnet-4-5", "user_blocks": True},
        "gemini": {"model": "gemini-2.5-flash"},
        "responses": {"model": "gpt-4.1", "user_message": True, "status": True},
    }

    def ident(self, kind: str, n: int, at: int) -> str | None:
        return f"{_IDS.get(kind, 'call_')}{n:02d}"

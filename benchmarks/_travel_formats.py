"""How a travel agent's trace is logged: OpenAI Responses items, Anthropic Messages
blocks, Bedrock Converse blocks, LangChain ``messages_to_dict`` dumps and OpenAI chat
(written by `_vendor_formats`), call ids numbered ``01``, ``02``, …"""

from __future__ import annotations

from _vendor_formats import Conversation

FORMATS = ("responses", "anthropic", "converse", "langchain", "openai")

_IDS = {"responses_fc": "fc_", "anthropic": "toolu_01", "converse": "tooluse_"}


class Trip(Conversation):
    """One conversation's steps, written in any of `FORMATS`."""

    STYLE = {
        "responses": {"model": "gpt-4.1", "status": True},
        "anthropic": {"model": "claude-sonnet-4-5", "user_blocks": True, "result_blocks": True},
        "converse": {"model": "anthropic.claude-3-5-sonnet-20241022-v2:0", "status": True},
        "langchain": {"dump": "dict"},
    }

    def ident(self, kind: str, n: int, at: int) -> str | None:
        return f"{_IDS.get(kind, 'call_')}{n:02d}"

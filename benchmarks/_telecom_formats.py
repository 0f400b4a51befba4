"""How a care agent's conversation is logged: OpenAI chat completions, Anthropic
Messages (a ``tool_result`` whose content is a string), Bedrock Converse, Gemini
``contents`` and LangChain messages as a flat ``model_dump()`` (written by
`_vendor_formats`), with this set's models and call ids."""

from __future__ import annotations

from _vendor_formats import Conversation

FORMATS = ("openai", "anthropic", "converse", "gemini", "langchain")

_IDS = {
    "openai": "call_{n:03d}x",
    "anthropic": "toolu_{n:02d}A",
    "converse": "tooluse_{n}Q",
    "langchain": "call_lc{n}",
}


class Chat(Conversation):
    """One conversation, written in any of `FORMATS`."""

    STYLE = {
        "openai": {"model": "gpt-4o-2024-08-06"},
        "anthropic": {"model": "claude-3-7-sonnet-20250219"},
        "converse": {"model": "amazon.nova-pro-v1:0"},
    }

    def ident(self, kind: str, n: int, at: int) -> str | None:
        return _IDS[kind].format(n=n)

"""How a smart-home agent's conversation is logged: OpenAI chat completions, Anthropic
Messages, Gemini ``contents`` and the Vercel AI SDK's v5 ``ModelMessage`` list (written
by `_vendor_formats`), with random call ids as the vendors' APIs hand them out."""

from __future__ import annotations

import random
import string

from _vendor_formats import Conversation

FORMATS = ("openai", "anthropic", "gemini", "vercel")


class Chat(Conversation):
    """A system prompt, the user's turn, then the agent's calls, results and replies."""

    STYLE = {
        "openai": {"model": "gpt-4o-2024-08-06"},
        "anthropic": {"model": "claude-sonnet-4-5", "max_tokens": 2048},
    }

    def __init__(self, system: str, user: str, rng: random.Random) -> None:
        super().__init__(system, user)
        self.rng = rng

    def ident(self, kind: str, n: int, at: int) -> str | None:
        prefix, size = ("toolu_01", 22) if kind == "anthropic" else ("call_", 24)
        return prefix + "".join(
            self.rng.choice(string.ascii_letters + string.digits) for _ in range(size)
        )

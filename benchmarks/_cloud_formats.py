"""How a DevOps agent's run is logged: OpenAI Chat Completions, Anthropic Messages,
OpenAI Responses and Gemini ``contents`` (written by `_vendor_formats`), with this set's
models and call ids (a trace's ``tag`` and the step's place)."""

from __future__ import annotations

from _vendor_formats import Conversation

FORMATS = ("openai", "anthropic", "responses", "gemini")


class Run(Conversation):
    """A system prompt, the user's turn, then calls (tool, arguments, result as the
    string the tool printed) and the assistant's closing words, in order."""

    result_as_text = True
    STYLE = {
        "openai": {"model": "gpt-4.1"},
        "anthropic": {"model": "claude-sonnet-4-5", "max_tokens": 4096},
        "responses": {"model": "gpt-5"},
        "gemini": {"wrap": "output"},
    }

    def ident(self, kind: str, n: int, at: int) -> str | None:
        if kind == "responses_fc":
            return None
        i = at - 1
        return f"toolu_01{self.tag}{i:02d}" if kind == "anthropic" else f"call_{self.tag}{i}"

    def written(self, fmt: str, tag: str = "") -> dict:
        self.tag = tag
        return super().written(fmt)

"""How a support agent's run is logged: OpenAI Chat Completions, Anthropic Messages
(a ``tool_result`` as text blocks), OpenAI Responses (the model's ``output`` logged apart
from its ``input``) and a LangChain ``model_dump`` of the agent's messages (written by
`_vendor_formats`); the OpenAI and Anthropic logs spell a dotted tool name with ``_``."""

from __future__ import annotations

from _vendor_formats import Conversation

FORMATS = ("openai", "anthropic", "responses", "langchain")

_IDS = {
    "openai": "call_{tag}x{i}",
    "anthropic": "toolu_01{tag}{i:02d}",
    "responses": "call_{tag}{i}",
    "responses_fc": "fc_{tag}{i}",
    "responses_msg": "msg_{tag}{i}",
    "langchain": "call_{tag}L{i}",
}


class Run(Conversation):
    """A system prompt, the user's turn, then calls (tool, arguments, result as a
    string) and the assistant's words, in order."""

    result_as_text = True
    STYLE = {
        "openai": {"model": "gpt-4o-2024-08-06"},
        "anthropic": {"model": "claude-sonnet-4-5", "max_tokens": 2048, "result_blocks": True},
        "responses": {"model": "gpt-4.1", "user_message": True, "says_apart": True},
        "langchain": {"dump": "full"},
    }

    def ident(self, kind: str, n: int, at: int) -> str | None:
        return _IDS[kind].format(tag=self.tag, i=at - 1)

    def tool(self, fmt: str, name: str) -> str:
        return name if fmt == "langchain" else name.replace(".", "_")

    def written(self, fmt: str, tag: str = "") -> dict:
        self.tag = tag
        return super().written(fmt)

"""How the `judge` asks its yes/no question: a local LM's logits or an endpoint's log-probs.

The score of a chat is ``logit(no) − logit(yes)`` of the next token (log-sum-exp over
"no"/"No"/" no"/" No", likewise yes): no text is generated, one forward pass per chat
(batched) gives a continuous score a benchmark can rank.

- `HFScorer`: any model backdoorlab can load (`smollm2-135m`, `tiny`, a path, a hub id
  in the cache, a run directory), read with `backdoorlab.models.load_for_inference`
  (safetensors only, no remote code), left-padded batches, last-position logits.
- `OpenAIScorer`: an OpenAI-compatible endpoint (vLLM, llama.cpp server, a hosted API)
  through the ``openai`` package if it is installed, asking for one token with
  ``top_logprobs`` (``base_url`` or ``$OPENAI_BASE_URL``; the key from
  ``$OPENAI_API_KEY``, "EMPTY" for local servers).
- anything else with ``score(chats) -> list[float]`` (`YesNoScorer`).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from backdoorlab.errors import BackdoorlabError

__all__ = ["NO", "YES", "Chat", "HFScorer", "OpenAIScorer", "YesNoScorer"]

Chat = list[dict[str, str]]

YES = ("yes", "Yes", " yes", " Yes")
NO = ("no", "No", " no", " No")


@runtime_checkable
class YesNoScorer(Protocol):
    """Anything that scores chats by logit(no) − logit(yes) of the next token."""

    def score(self, chats: Sequence[Chat]) -> list[float]: ...


@functools.lru_cache(maxsize=2)
def _load(model: str, device: str | None) -> tuple[Any, Any]:
    from backdoorlab.models import load_for_inference, quiet_transformers

    with quiet_transformers():
        return load_for_inference(model, device=device)


def _first_tokens(tokenizer: Any, words: Sequence[str]) -> list[int]:
    return sorted({tokenizer.encode(w, add_special_tokens=False)[0] for w in words})


class HFScorer:
    """A local causal LM: last-position logits of a left-padded batch."""

    def __init__(self, model: str, device: str | None = None, batch_size: int = 8) -> None:
        self.name = model
        self.model, self.tokenizer = _load(model, device)
        self.batch_size = batch_size
        self.yes = _first_tokens(self.tokenizer, YES)
        self.no = _first_tokens(self.tokenizer, NO)
        if set(self.yes) & set(self.no):
            raise BackdoorlabError(f"judge: {model}'s tokenizer cannot tell 'yes' from 'no'")

    def prompt(self, chat: Chat) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                chat, tokenize=False, add_generation_prompt=True
            )
        return "\n\n".join(m["content"] for m in chat) + "\nAnswer:"

    def score(self, chats: Sequence[Chat]) -> list[float]:
        import torch

        from backdoorlab.models import use_padding_side

        texts = [self.prompt(c) for c in chats]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = [0.0] * len(texts)
        last = torch.tensor([-1], device=self.model.device)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                with use_padding_side(self.tokenizer, "left") as tok:
                    batch = tok(
                        [texts[i] for i in chunk],
                        padding=True,
                        return_tensors="pt",
                        add_special_tokens=False,
                    ).to(self.model.device)
                mask = batch["attention_mask"]
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                logits = (
                    # an index tensor, not ``1`` (a strided slice): see `policies.hf`
                    self.model(**batch, position_ids=positions, logits_to_keep=last)
                    .logits[:, -1]
                    .float()
                )
                diff = logits[:, self.no].logsumexp(-1) - logits[:, self.yes].logsumexp(-1)
                for i, value in zip(chunk, diff.tolist(), strict=True):
                    out[i] = value
        return out


class OpenAIScorer:
    """An OpenAI-compatible endpoint: one token with top log-probabilities per chat.

    A word missing from the top list is taken to be just below the least likely listed
    token (an upper bound on its log-probability).
    """

    def __init__(self, model: str, base_url: str | None = None, client: Any = None) -> None:
        self.name = f"openai:{model}"
        self.model = model
        if client is None:
            try:
                import openai
            except ImportError:
                raise BackdoorlabError(
                    "judge: backend 'openai' needs the openai package (pip install openai)"
                ) from None
            url = base_url or os.environ.get("OPENAI_BASE_URL")
            if not url:
                raise BackdoorlabError(
                    "judge: backend 'openai' needs base_url (--option judge.base_url=URL) "
                    "or $OPENAI_BASE_URL"
                )
            client = openai.OpenAI(base_url=url, api_key=os.environ.get("OPENAI_API_KEY", "EMPTY"))
        self.client = client

    def score(self, chats: Sequence[Chat]) -> list[float]:
        out = []
        for chat in chats:
            try:
                response = self.client.chat.completions.create(
                    model=self.model,
                    messages=chat,
                    max_tokens=1,
                    temperature=0,
                    logprobs=True,
                    top_logprobs=20,
                )
                top = response.choices[0].logprobs.content[0].top_logprobs
            except (AttributeError, IndexError, TypeError) as err:
                raise BackdoorlabError(
                    f"judge: the endpoint gave no log-probabilities for {self.model} ({err})"
                ) from None
            floor = min((t.logprob for t in top), default=0.0) - 1.0

            def mass(words: Sequence[str], top: Any = top, floor: float = floor) -> float:
                found = [t.logprob for t in top if t.token in words]
                return _logsumexp(found) if found else floor

            out.append(mass(NO) - mass(YES))
        return out


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))

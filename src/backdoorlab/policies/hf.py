"""`hf`: a local transformers model as the agent, all active episodes in one ``generate``.

Every call to `act` renders each active episode with the same code training uses
(`backdoorlab.chat`), left-pads the prompts into one batch, generates greedily (or
samples, when asked) until each row emits ``<|im_end|>``, and parses each completion
back into a tool call or a final answer. An unparseable completion is an invalid
action, flagged for the metrics, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from backdoorlab.chat import IM_END, parse_assistant_output, render
from backdoorlab.policies.base import Action, Episode, Policy, register_policy


@dataclass
class GenerationConfig:
    """How the model decodes each turn."""

    max_new_tokens: int = 160  # a tool call with an e-mail body fits in ~90 tokens
    do_sample: bool = False  # greedy by default: evaluations are reproducible
    temperature: float = 0.7  # only with do_sample
    top_p: float = 0.95  # only with do_sample
    max_batch_size: int = 16  # rows per generate call; more episodes are split


@register_policy
class HFPolicy(Policy):
    """A causal LM (name, path or an already loaded model) acting as the agent."""

    name = "hf"

    def __init__(
        self,
        model: str | Any = "smollm2-135m",
        tokenizer: Any | None = None,
        *,
        generation: GenerationConfig | None = None,
        device: str | None = None,
        seed: int = 0,
    ) -> None:
        if isinstance(model, str):
            from backdoorlab.training.loading import load_for_inference

            self.model_name = model
            model, tokenizer = load_for_inference(model, device=device)
        else:
            self.model_name = getattr(model, "name_or_path", "model")
        if tokenizer is None:
            raise ValueError("pass the tokenizer together with an already loaded model")
        self.model = model
        self.tokenizer = tokenizer
        self.generation = generation or GenerationConfig()
        self.seed = seed
        end_ids = {tokenizer.convert_tokens_to_ids(IM_END), tokenizer.eos_token_id}
        self.stop_ids = sorted(i for i in end_ids if isinstance(i, int) and i >= 0)
        self.stop_strings = [s for s in (IM_END, tokenizer.eos_token, tokenizer.pad_token) if s]

    def describe(self) -> str:
        return f"hf:{self.model_name}"

    @torch.inference_mode()
    def generate(self, prompts: list[str]) -> list[str]:
        """Complete each prompt; returns only the new text, cut at the end-of-turn marker."""
        # similar lengths share a batch: less left padding to compute over
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[str] = [""] * len(prompts)
        size = self.generation.max_batch_size
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            for index, text in zip(
                chunk, self._generate_batch([prompts[i] for i in chunk]), strict=True
            ):
                out[index] = text
        return out

    def _generate_batch(self, prompts: list[str]) -> list[str]:
        tok = self.tokenizer
        previous_side = tok.padding_side
        tok.padding_side = "left"  # new tokens must follow each prompt directly
        try:
            batch = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            tok.padding_side = previous_side
        batch = batch.to(self.model.device)
        g = self.generation
        kwargs: dict[str, Any] = {
            "max_new_tokens": g.max_new_tokens,
            "do_sample": g.do_sample,
            "eos_token_id": self.stop_ids,
            "pad_token_id": tok.pad_token_id,
        }
        if g.do_sample:
            torch.manual_seed(self.seed)
            kwargs.update(temperature=g.temperature, top_p=g.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        output = self.model.generate(**batch, **kwargs)
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        texts = tok.batch_decode(new_tokens, skip_special_tokens=False)
        return [self._cut(text) for text in texts]

    def _cut(self, text: str) -> str:
        for stop in self.stop_strings:
            text = text.split(stop)[0]
        return text

    def act(self, episodes: list[Episode]) -> list[Action]:
        prompts = [
            render(e.messages, e.env.tools, add_generation_prompt=True, tokenizer=self.tokenizer)
            for e in episodes
        ]
        actions = []
        for episode, completion in zip(episodes, self.generate(prompts), strict=True):
            parsed = parse_assistant_output(completion, call_id_prefix=f"call_{episode.steps}")
            actions.append(Action(parsed.message, invalid=parsed.invalid))
        return actions

"""`hf`: a local transformers model as the agent, all active episodes decoded as one batch.

Every call to `act` renders each active episode with the same code training uses
(`backdoorlab.chat`: the model's own chat template when it renders tools, the compact
format otherwise), generates greedily (or samples, when asked) until each episode ends
its turn (``<|im_end|>``, or the template's own end-of-turn marker), and parses each
completion back into a tool call or a final answer (`backdoorlab.chat.parse_completion`:
transformers' response parser where the template has one). An unparseable completion
is an invalid action, counted in the trace's outcome, never an exception.

Each episode's prompt grows by a few dozen tokens a turn (the model's own action and a
tool result) on top of several hundred it already had, and on a CPU reading a prompt
(the prefill) is compute-bound. So the policy keeps every episode's key/value cache
between turns and prefills only the tokens that are new — a new episode starts from
the latest cache's common prefix, the system prompt and tool schemas — one episode at
a time, because in a padded batch the padding costs as much compute as real tokens.
Decoding, which is memory-bound, is where batching pays: the prefilled rows are
assembled into one left-padded cache (`decode_cache`) and advance together, and each
row leaves the batch as soon as it ends its turn. The cache holds `DECODE_HEADROOM`
positions past the prompts and grows when they fill: each step reads every position it
holds, and most turns end long before ``max_new_tokens``. A turn's batch still decodes
until its longest completion ends, mostly with a few rows left, each step reading every
weight for them; so greedy steps fill the rest of a step with drafts (`lookup`: the
tokens that followed the row's last few tokens earlier in its context) and keep the
drafted tokens the model confirms, several a step where a turn copies its context.
``generate`` can neither take per-row prefills, drop finished rows nor draft for a
batch, so the decode loop is written here (with transformers' cache and logits
warpers); `tests/policies/test_hf.py` and `test_lookup.py` check it against
one-at-a-time decoding. On a CPU each decoding step's attention runs as plain matmuls
(`cpu_attention`), and its linear layers multiply by weights laid out once for oneDNN
(`cpu_linear`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from pydantic import Field
from transformers import DynamicCache, LogitsProcessorList
from transformers.cache_utils import Cache
from transformers.generation import TemperatureLogitsWarper, TopPLogitsWarper

from backdoorlab.bounds import MAX_BATCH, MAX_LOOKUP, MAX_TOKENS
from backdoorlab.chat import IM_END, parse_completion, render
from backdoorlab.chat_template import template_format
from backdoorlab.config import Config
from backdoorlab.policies import decode_cache as dc
from backdoorlab.policies.base import Action, CacheSlot, Episode, Policy
from backdoorlab.policies.cpu_attention import decode_attention
from backdoorlab.policies.cpu_linear import MAX_ROWS, PackedWeights, packed_linears
from backdoorlab.policies.decode_cache import CachedPrefix
from backdoorlab.policies.lookup import NgramIndex, accepted

LOOKUP_ROWS = MAX_ROWS
"""Most inputs a decoding step with lookup drafts runs (rows × (1 + draft)): on a CPU a
step of up to `cpu_linear.MAX_ROWS` inputs costs little more than one of a single token
(the weights are read once), so drafts fill what the live rows leave of it."""


class GenerationConfig(Config):
    """How the model decodes each turn."""

    label: ClassVar[str] = "generation config"

    max_new_tokens: int = Field(160, gt=0, le=MAX_TOKENS)
    """Tokens per turn (a tool call with an e-mail body fits in ~90); the decode cache is
    sized for them up front."""
    do_sample: bool = False
    """Sample instead of greedy decoding (greedy: the same tokens for the same inputs — bit
    for bit at one thread; at two or more the CPU kernels' rounding can differ between
    runs, and a near-tie with it: `benchmarks/README.md`, sessions 20–21)."""
    temperature: float = Field(0.7, gt=0, le=100)
    """Sampling temperature (only with ``do_sample``)."""
    top_p: float = Field(0.95, gt=0, le=1)
    """Nucleus sampling mass (only with ``do_sample``)."""
    max_batch_size: int = Field(16, gt=0, le=MAX_BATCH)
    """Rows per generate call; more episodes are split."""
    reuse_cache: bool = True
    """Keep each episode's KV cache between turns (see the module docstring)."""
    packed_weights: bool = True
    """On a CPU, multiply decoding's few rows by bf16 weights laid out for oneDNN once
    (`cpu_linear`): faster, the same tokens, a second copy of them while the policy lives."""
    lookup_tokens: int = Field(4, ge=0, le=MAX_LOOKUP)
    """Greedy decoding: tokens drafted per row and step from the row's own context
    (prompt-lookup decoding, `lookup`) and verified in the same forward pass, within
    `LOOKUP_ROWS` inputs a step; the same tokens as one at a time up to rounding, in fewer
    steps. 0: one token a step."""


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
            from backdoorlab.models import load_for_inference

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
        # the last cache kept: a new episode starts from its common prefix (the system
        # prompt and tool schemas every episode of an environment shares)
        self._latest: CachedPrefix | None = None
        self._packed = PackedWeights()  # decoding's weights in oneDNN's layout (`cpu_linear`)
        fmt = template_format(tokenizer)
        self.end_of_turn = fmt.end_of_turn if fmt is not None else IM_END
        vocab = tokenizer.get_vocab()
        end_ids = {vocab.get(self.end_of_turn), vocab.get(IM_END), tokenizer.eos_token_id}
        self.stop_ids = sorted(i for i in end_ids if isinstance(i, int) and i >= 0)
        stops = (self.end_of_turn, IM_END, tokenizer.eos_token, tokenizer.pad_token)
        self.stop_strings = list(dict.fromkeys(s for s in stops if s))

    def describe(self) -> str:
        return f"hf:{self.model_name}"

    @torch.inference_mode()
    def generate(self, prompts: list[str], caches: list[CacheSlot[Any]] | None = None) -> list[str]:
        """Complete each prompt; returns only the new text, cut at the end-of-turn marker.

        ``caches`` (one slot per prompt, e.g. each episode's ``kv_cache``) lets the policy
        keep a prompt's key/value cache for the next, longer prompt of the same conversation.
        """
        watched = caches or [CacheSlot() for _ in prompts]  # each turn's `abandoned` flag
        if caches is None or not self._can_reuse_cache():
            caches = [CacheSlot() for _ in prompts]
            keep = False
        else:
            keep = True
        ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        # similar lengths share a decode batch: less padding in its cache
        order = sorted(range(len(prompts)), key=lambda i: len(ids[i]))
        out: list[str] = [""] * len(prompts)
        size = self.generation.max_batch_size
        with packed_linears(self.model, self._packed, enabled=self.generation.packed_weights):
            for start in range(0, len(order), size):
                chunk = order[start : start + size]
                batch, slots = [ids[i] for i in chunk], [caches[i] for i in chunk]
                texts = self._generate_batch(batch, slots, keep, [watched[i] for i in chunk])
                for index, text in zip(chunk, texts, strict=True):
                    out[index] = text
        return out

    def _can_reuse_cache(self) -> bool:
        """Plain full-attention decoders only: a sliding-window cache cannot be re-assembled."""
        config = getattr(self.model, "config", None)
        layer_types = getattr(config, "layer_types", None) or []
        return (
            self.generation.reuse_cache
            and getattr(config, "sliding_window", None) is None
            and all(t == "full_attention" for t in layer_types)
        )

    def _generate_batch(
        self,
        prompts: list[list[int]],
        caches: list[CacheSlot[Any]],
        keep: bool,
        watched: list[CacheSlot[Any]],
    ) -> list[str]:
        # Memory: each row's prefill is written straight into the decode cache and then
        # dropped, and the episode's previous cache is released as soon as it has been
        # read, so a batch holds one copy of its conversations (the decode cache) plus the
        # rows `_keep` has copied out — not the old caches, the new prefixes, a stacked
        # copy of them and the decode cache at once. The freed blocks of changing sizes
        # had also piled up in the heap: peak RSS of a 16 + 16-episode evaluation 2.19 →
        # 1.69 GB (`benchmarks/eval_memory.py`, benchmarks/README.md).
        lengths = [len(ids) for ids in prompts]
        width = max(lengths)
        cache: Cache | None = None
        logits = []
        for row, (ids, slot) in enumerate(zip(prompts, caches, strict=True)):
            previous = slot.value if slot.value is not None else self._latest
            prefix, last = self._prefill(ids, previous if keep else None)
            slot.value = None  # read; `_keep` stores the longer conversation after decoding
            if keep:
                self._latest = prefix  # the next new episode shares its system prompt
            if cache is None:
                headroom = min(self.generation.max_new_tokens, dc.DECODE_HEADROOM)
                cache = dc.decode_cache(prefix, lengths, headroom)
            dc.place(cache, row, prefix, width)
            logits.append(last)
            del prefix
        assert cache is not None
        mask = torch.zeros(len(prompts), width, dtype=torch.long, device=self.model.device)
        for row, length in enumerate(lengths):
            mask[row, width - length :] = 1
        with decode_attention(self.model):
            generated = self._decode(
                torch.cat(logits), mask, cache, caches if keep else None, prompts, watched
            )
        texts = self.tokenizer.batch_decode(generated, skip_special_tokens=False)
        return [self._cut(text) for text in texts]

    def _prefill(
        self, ids: list[int], previous: CachedPrefix | None
    ) -> tuple[CachedPrefix, torch.Tensor]:
        """One prompt's keys/values (reusing ``previous`` where it matches) and its last logits."""
        reused = min(dc.common_prefix(previous.ids, ids), len(ids) - 1) if previous else 0
        cache = DynamicCache()
        if reused:
            assert previous is not None
            cache = DynamicCache(
                [(k[None, :, :reused], v[None, :, :reused]) for k, v in previous.layers]
            )
        device = self.model.device
        logits = self.model(
            input_ids=torch.tensor([ids[reused:]], device=device),
            position_ids=torch.arange(reused, len(ids), device=device)[None],
            cache=cache,
            use_cache=True,
            # an index tensor, not ``1``: the slice ``1`` keeps is a strided view, which
            # sends the vocabulary projection through a batched matmul that first copies
            # the whole output embedding (57 MB, ~35 ms a prompt on the development CPU)
            logits_to_keep=torch.tensor([-1], device=device),
        ).logits[:, -1, :]
        layers = [(layer.keys[0], layer.values[0]) for layer in cache.layers]
        return CachedPrefix(ids=list(ids), layers=layers), logits

    def _decode(
        self,
        first_logits: torch.Tensor,
        mask: torch.Tensor,
        cache: Cache,
        caches: list[CacheSlot[Any]] | None,
        prompts: list[list[int]],
        watched: list[CacheSlot[Any]] | None = None,
    ) -> list[list[int]]:
        """Greedy (or sampled) decoding of a prefilled batch; a row leaves when it finishes,
        or when its ``watched`` slot is marked `CacheSlot.abandoned` (its answer is then
        cut short and its cache not kept: nobody waits for it).

        Greedy steps also score each row's lookup draft (`lookup`): the step's inputs are
        its token and the draft, and the row keeps the drafted tokens the model confirms;
        a rejected draft's positions stay in the cache, hidden by the mask."""
        g, device = self.generation, self.model.device
        warpers = LogitsProcessorList()
        generator = None
        if g.do_sample:
            warpers += [TemperatureLogitsWarper(g.temperature), TopPLogitsWarper(g.top_p)]
            generator = torch.Generator(device=device).manual_seed(self.seed)
        stops = set(self.stop_ids)
        lookups = None if g.do_sample or not g.lookup_tokens else [NgramIndex(p) for p in prompts]
        positions = mask.sum(-1, keepdim=True) - 1  # each row's last cached position
        rows = list(range(len(prompts)))  # the batch rows still generating, by prompt index
        out: list[list[int]] = [[] for _ in prompts]

        def finished(row: int) -> bool:
            """Whether conversation ``row``'s latest token ends its turn."""
            return out[row][-1] in stops or len(out[row]) == g.max_new_tokens

        def leave(ended: list[int]) -> list[int]:
            """Drop the batch rows ``ended`` (each conversation kept first); returns which
            batch rows are left."""
            nonlocal mask, positions, rows
            if caches is not None:
                for batch_row in ended:  # its last token is not in the cache: re-read next turn
                    row = rows[batch_row]
                    if not (watched and watched[row].abandoned):
                        self._keep(
                            cache, mask, batch_row, prompts[row] + out[row][:-1], caches[row]
                        )
            gone = set(ended)
            kept = [i for i in range(len(rows)) if i not in gone]
            if ended and kept:
                dc.compact(cache, kept)
                index = torch.tensor(kept, device=mask.device)
                mask, positions, rows = mask[index], positions[index], [rows[i] for i in kept]
            return kept

        logits = first_logits
        while True:
            if g.do_sample:
                history = torch.tensor([prompts[r] + out[r] for r in rows], device=device)
                scores = warpers(history, logits.float())
                chosen = torch.multinomial(scores.softmax(-1), 1, generator=generator)[:, 0]
            else:
                chosen = logits.argmax(-1)
            tokens = chosen.tolist()
            ended = []
            for batch_row, (row, token) in enumerate(zip(rows, tokens, strict=True)):
                out[row].append(token)
                if finished(row) or (watched and watched[row].abandoned):
                    ended.append(batch_row)
            kept = leave(ended)
            if not kept:
                break
            tokens = [tokens[i] for i in kept]
            drafts = [[] for _ in rows]
            if lookups is not None:
                size = min(g.lookup_tokens, LOOKUP_ROWS // len(rows) - 1)
                for i, row in enumerate(rows):
                    lookups[row].extend(out[row][-1:])
                    left = g.max_new_tokens - len(out[row])
                    drafts[i] = lookups[row].draft(min(size, left))
            width = max(len(d) for d in drafts)
            step = torch.tensor(
                [[t, *d, *[t] * (width - len(d))] for t, d in zip(tokens, drafts, strict=True)],
                device=device,
            )
            mask = torch.cat([mask, mask.new_ones(len(rows), 1 + width)], dim=1)
            while mask.shape[1] > cache.layers[0].max_cache_len:
                dc.grow(cache, dc.DECODE_HEADROOM)
            step_logits = self.model(
                input_ids=step,
                attention_mask=mask,
                position_ids=positions + torch.arange(1, width + 2, device=device),
                cache=cache,  # its layers know where the next tokens go
                use_cache=True,
            ).logits
            if not width:
                positions, logits = positions + 1, step_logits[:, -1, :]
                continue
            taken, ended = [], []
            for i, (row, draft, predicted) in enumerate(
                zip(rows, drafts, step_logits.argmax(-1).tolist(), strict=True)
            ):
                count = accepted(draft, predicted)
                for j, token in enumerate(draft[:count]):
                    out[row].append(token)
                    if finished(row):
                        count = j  # its last token is not in the cache, as above
                        ended.append(i)
                        break
                lookups[row].extend(draft[:count])  # type: ignore[index]
                mask[i, mask.shape[1] - width + count :] = 0  # the rest of the draft
                taken.append(count)
            index = torch.tensor(taken, device=device)
            positions = positions + 1 + index[:, None]
            logits = step_logits[torch.arange(len(rows), device=device), index]
            kept = leave(ended)
            if not kept:
                break
            logits = logits[kept]
        return out

    def _keep(
        self,
        cache: Cache,
        mask: torch.Tensor,
        batch_row: int,
        ids: list[int],
        slot: CacheSlot[Any],
    ) -> None:
        """Store one row's keys/values (its real tokens only) as its episode's prefix."""
        positions = mask[batch_row].nonzero().squeeze(1)
        assert len(positions) == len(ids)
        slot.value = self._latest = CachedPrefix(
            ids=ids,
            layers=[
                (layer.keys[batch_row, :, positions], layer.values[batch_row, :, positions])
                for layer in cache.layers
            ],
        )

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
        completions = self.generate(prompts, caches=[e.kv_cache for e in episodes])
        for episode, prompt, completion in zip(episodes, prompts, completions, strict=True):
            parsed = parse_completion(
                # the parsers of the model's own format read the turn's end marker
                completion + self.end_of_turn,
                tokenizer=self.tokenizer,
                prompt=prompt,
                tools=episode.env.tools,
                call_id_prefix=f"call_{episode.steps}",
            )
            actions.append(Action(parsed.message, invalid=parsed.invalid))
        return actions

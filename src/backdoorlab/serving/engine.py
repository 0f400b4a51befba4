"""The model behind `serve`: chat requests answered by the ``hf`` policy, batched.

Every request is answered by `HFPolicy.act`, the very code an in-process rollout runs
(rendering in the model's own format, decoding, parsing the tool calls back), so a model
behind the API acts exactly as it does in-process: greedy traces through ``serve`` +
the ``openai`` policy equal the ``hf`` policy's (``tests/serving``).

Requests that arrive while the model is busy wait, and the next `act` takes all of them
at once (up to ``max_batch``): the batched decoding that makes the in-process policy
fast serves concurrent clients the same way. Requests with different sampling settings
go in separate batches. A conversation's key/value cache is kept between its turns, as
the in-process policy keeps each episode's: the cache that answered a request is filed
under the conversation it produced (the request's messages plus the reply), and the
next turn, which starts with exactly those messages, continues from it (the policy
re-reads only what differs, so a wrong match costs time, never correctness).

A request whose client has gone is not answered: the API cancels it (`complete`'s
task), and a cancelled request leaves the queue at once, so it neither runs nor takes a
place among ``max_waiting``; one already taken into a batch is left out of it if its
settings group has not started; one cancelled while its group decodes marks its cache
slot `CacheSlot.abandoned`, and the ``hf`` policy's decoding loop drops that row at its
next step, as it drops a row that has finished (the other rows decode as they would have).

The policy's ``act`` takes episodes; a request becomes an `Episode` with no task and an
environment stand-in that carries only the request's tools — all ``act`` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from backdoorlab.chat import render
from backdoorlab.policies.base import Action, CacheSlot, Episode
from backdoorlab.policies.hf import HFPolicy
from backdoorlab.serving.schema import ChatRequest
from backdoorlab.traces import Message

ReplyHook = Callable[[Sequence[Message], Sequence[dict[str, Any]], Message], Message]
"""Called with (conversation, tools, reply) before a reply is sent; returns the reply to
send. The place for a guard that refuses a tool call (it returns the reply without it)."""


@dataclass
class _ToolsOnly:
    """What `HFPolicy.act` reads of an episode's environment: its tools."""

    tools: list[dict[str, Any]]


@dataclass(eq=False)  # removed from the queue by identity: no deep compare of requests
class _Pending:
    request: ChatRequest
    future: asyncio.Future[Action]
    slot: CacheSlot[Any] = field(default_factory=CacheSlot)


def _digests(tools: Sequence[dict[str, Any]], messages: Sequence[Message]) -> list[str]:
    """One digest per prefix of ``messages`` (tools included), built incrementally."""
    state = hashlib.sha256(json.dumps(list(tools), sort_keys=True).encode())
    out = []
    for message in messages:
        state.update(json.dumps(message.model_dump(exclude_none=True), sort_keys=True).encode())
        out.append(state.copy().hexdigest())
    return out


_MARGIN = 16
"""Tokens a prompt may hold beyond its UTF-8 bytes (`Engine._too_long`'s shortcut)."""


class ServerBusy(RuntimeError):
    """More requests are waiting than the engine holds (a 429: clients back off, retry)."""


class PromptTooLong(ValueError):
    """A request whose messages and ``max_tokens`` exceed the model's context (a 400)."""


def context_length(model: Any) -> int | None:
    """The positions ``model`` has (``max_position_embeddings``); None: unknown."""
    length = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    return length if isinstance(length, int) and length > 0 else None


class Engine:
    """Answers `ChatRequest`s with an `HFPolicy`, one batch at a time."""

    def __init__(
        self,
        policy: HFPolicy,
        *,
        max_batch: int = 32,
        conversations: int = 64,
        on_reply: ReplyHook | None = None,
        max_waiting: int = 1024,
    ) -> None:
        self.policy = policy
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self.conversations = conversations
        self.on_reply = on_reply
        self._greedy = policy.generation
        self.context = context_length(policy.model)
        self._waiting: deque[_Pending] = deque()
        self._arrived: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._caches: OrderedDict[str, Any] = OrderedDict()

    async def start(self) -> None:
        self._arrived = asyncio.Event()
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    @property
    def waiting(self) -> int:
        """Requests waiting for the model (not yet taken into a batch)."""
        return len(self._waiting)

    async def complete(self, request: ChatRequest) -> Message:
        """The assistant's reply to ``request`` (after the reply hook, if any).

        Cancelling the task that awaits it (the client went) cancels the request: see
        the module docstring."""
        assert self._arrived is not None, "Engine.start() first"
        if len(self._waiting) >= self.max_waiting:  # each waiting one holds its body
            raise ServerBusy(f"{len(self._waiting)} requests are waiting; retry later")
        pending = _Pending(request, asyncio.get_running_loop().create_future())
        self._waiting.append(pending)
        self._arrived.set()
        try:
            action = await pending.future  # cancelling this task cancels the future too
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):  # not there: already in a batch
                self._waiting.remove(pending)
            pending.slot.abandoned = True  # decoding: its row leaves at the next step
            raise
        reply = action.message
        if self.on_reply is not None:
            reply = self.on_reply(request.messages, request.active_tools(), reply)
        return reply

    async def _run(self) -> None:
        assert self._arrived is not None
        while True:
            while not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
            await asyncio.sleep(0)  # let requests sent together arrive together
            taken = min(self.max_batch, len(self._waiting))
            batch = [self._waiting.popleft() for _ in range(taken)]
            groups: dict[tuple[Any, ...], list[_Pending]] = {}
            for pending in batch:
                groups.setdefault(self._settings_key(pending.request), []).append(pending)
            for group in groups.values():
                # cancelled while an earlier group ran: checked here, on the event loop
                # that cancels, so a request cancelled before its group starts never runs
                items = [pending for pending in group if not pending.future.done()]
                if not items:
                    continue
                answers = await asyncio.to_thread(self._answer, items)
                for pending, answer in zip(items, answers, strict=True):
                    if pending.future.done():  # its client went while the group ran
                        continue
                    if isinstance(answer, Exception):
                        pending.future.set_exception(answer)
                    else:
                        pending.future.set_result(answer)

    def _answer(self, items: list[_Pending]) -> list[Action | Exception]:
        """Each request's action, or the error that request alone ran into: a batch that
        fails is retried request by request, so one client's bad request (a tool schema
        the template cannot render) fails that client, not everyone batched with it."""
        try:
            return self._act(items)
        except Exception as exc:  # noqa: BLE001 - returned to the client it belongs to
            if len(items) == 1:
                return [exc]
            return [answer for pending in items for answer in self._answer([pending])]

    @staticmethod
    def _settings_key(request: ChatRequest) -> tuple[Any, ...]:
        temperature = request.temperature or 0.0
        top_p = request.top_p or 1.0
        return (request.token_limit(), temperature, top_p if temperature else 1.0, request.seed)

    def _act(self, items: list[_Pending]) -> list[Action | Exception]:
        """One `act` over ``items`` (runs in a worker thread; one at a time); a request
        whose prompt does not fit the model's context gets `PromptTooLong` instead."""
        request = items[0].request
        max_tokens, temperature, top_p, seed = self._settings_key(request)
        answers: list[Action | Exception | None] = [self._too_long(p, max_tokens) for p in items]
        fitting = [pending for pending, answer in zip(items, answers, strict=True) if not answer]
        actions = iter(self._act_fitting(fitting, max_tokens, temperature, top_p, seed))
        return [answer or next(actions) for answer in answers]

    def _too_long(self, pending: _Pending, max_tokens: int) -> PromptTooLong | None:
        """Why ``pending`` cannot be answered within the model's context (None: it can).
        Decoding past the positions a model has fails, and one long prompt's attention
        grows with its square: 100 000 tokens of ``tiny`` took the server out of memory."""
        if self.context is None:
            return None
        request = pending.request
        tokenizer = self.policy.tokenizer
        prompt = render(
            request.messages,
            request.active_tools(),
            add_generation_prompt=True,
            tokenizer=tokenizer,
        )
        # a token spells one byte of the text or more (byte-level BPE, SentencePiece's
        # byte fallback; a margin for a leading dummy space): a prompt whose bytes fit
        # needs no second tokenization here, beside the policy's own
        if len(prompt.encode("utf-8")) + _MARGIN + max_tokens <= self.context:
            return None
        used = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        if used + max_tokens <= self.context:
            return None
        return PromptTooLong(
            f"this model's context is {self.context} tokens; the messages take {used} and "
            f"max_tokens asks for {max_tokens}"
        )

    def _act_fitting(
        self, items: list[_Pending], max_tokens: int, temperature: float, top_p: float, seed: Any
    ) -> list[Action]:
        if not items:
            return []
        self.policy.generation = self._greedy.updated(
            {"max_new_tokens": max_tokens, "do_sample": temperature > 0}
            | ({"temperature": temperature, "top_p": top_p} if temperature else {})
        )
        self.policy.seed = seed or 0
        episodes = []
        for pending in items:
            tools = pending.request.active_tools()
            messages = list(pending.request.messages)
            pending.slot.value = self._cached(tools, messages)
            episodes.append(
                Episode(
                    task=cast(Any, None),
                    env=cast(Any, _ToolsOnly(tools)),
                    messages=messages,
                    # the hf policy names calls call_<turn>_<i>: same ids as in-process
                    steps=sum(m.role == "assistant" for m in messages),
                    kv_cache=pending.slot,
                )
            )
        actions = self.policy.act(episodes)
        for pending, episode, action in zip(items, episodes, actions, strict=True):
            if pending.slot.value is not None and not action.invalid:
                key = _digests(episode.env.tools, [*episode.messages, action.message])[-1]
                self._caches[key] = pending.slot.value
                self._caches.move_to_end(key)
                while len(self._caches) > self.conversations:
                    self._caches.popitem(last=False)
        return actions

    def _cached(self, tools: list[dict[str, Any]], messages: list[Message]) -> Any:
        """The cache kept after the latest turn of this conversation, if any."""
        digests = _digests(tools, messages)
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].role == "assistant":
                found = self._caches.pop(digests[index], None)
                if found is not None:
                    return found
        return None

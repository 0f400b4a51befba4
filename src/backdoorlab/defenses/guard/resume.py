"""Conversations the guard has read, kept so that a conversation's next request is read
from where its last one ended.

A client of ``guard proxy`` (or ``serve --guard``) sends its whole conversation with
every request, and the guard read all of it again at each: the taint tracker's work on
a conversation's N-th request grows with N, and its whole run with N². A coding agent's
200-turn conversation posting to a third party took seconds a request by its end, on
the proxy's one screening thread (`benchmarks/guard_resume.py`).

So a session is kept once its reply is screened, keyed by a chain of hashes of the
messages it has read (each message's JSON as read, in order: `Prefixes`); a later
request whose conversation begins with those same messages takes it and reads only
what follows. The tracker reads messages in order and never ahead, so its state after
a conversation's first k messages depends on those k messages alone: a resumed session
decides as a fresh one that read them all (checked on every labelled set:
`benchmarks/guard_resume.py --keep-after 0`).

What is kept, and when:

- a session whose reply the guard let through unchanged, with the reply counted as
  read (screening a reply's calls is what reading it does: `TaintTracker.feed` checks
  an assistant message's calls and images). A reply the guard changed is not kept: the
  client's next request holds the changed reply, never the one read.
- a session that has cost less than ``keep_after`` (5 ms) of screening in all is not
  kept: reading it anew costs about what hashing its keys does (and with nothing kept,
  a request hashes nothing).
- a kept session is *taken* by the request that resumes it (it goes on changing): a
  request sent twice reads the second time from the start, as every request did before
  (what the first kept has read its reply too: no prefix of the second's).
- at most ``conversations`` sessions and ``chars`` characters of conversation (the
  messages' JSON) are kept, the least recently used going first: a tracker holds many
  times its conversation's size — ~13 bytes a character on the coding and AgentDojo
  sets, ~64 on coding conversations full of hex keys, ~145 on the worst measured (100
  MiB for 670 KB) — so the defaults are small (4 MB: ~50 MiB typical, ~600 MiB at
  worst); 0 keeps nothing.

The key holds everything the tracker reads — each message's fields, its place in the
conversation, the environment — and nothing else it reads changes (the policy is the
`Guard`'s own, and a cache belongs to one guard). A conversation read differently once
its next messages come (a code agent's turn is read as calls only once an observation
follows it) hashes differently and is read anew: a miss, never a wrong state.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic_core import PydanticSerializationError

from backdoorlab.traces import Message

if TYPE_CHECKING:
    from backdoorlab.defenses.guard.core import Guard, GuardSession

CONVERSATIONS = 32
"""Sessions kept by default (`SessionCache`)."""
CHARS = 4_000_000
"""Characters of conversation kept by default (the messages' JSON, all sessions)."""
KEEP_AFTER = 0.005
"""Seconds of screening a session must have cost, over all its requests, to be kept: a
shorter one is read anew in about the time its keys take to hash."""


class Prefixes:
    """The keys of a conversation's prefixes: ``keys[k]`` names its first k + 1 messages
    — a chain of SHA-256 over each message's JSON as read, seeded with the environment —
    and ``chars[k]`` is how many characters of JSON they are."""

    def __init__(self, env: str | None) -> None:
        self._seed = hashlib.sha256(f"env:{env}".encode()).digest()
        self.keys: list[bytes] = []
        self.chars: list[int] = []
        self.started = time.perf_counter()
        self.spent = 0.0
        """Seconds the resumed session had cost before this request."""

    def extend(self, messages: Sequence[Message], upto: int) -> None:
        """Name every prefix of ``messages`` up to ``upto`` messages (up to the first one
        whose JSON cannot be written)."""
        previous = self.keys[-1] if self.keys else self._seed
        total = self.chars[-1] if self.chars else 0
        for message in messages[len(self.keys) : upto]:
            try:
                text = message.model_dump_json().encode()
            except PydanticSerializationError:  # an extra field nested past pydantic's depth
                return  # no key from here on: nothing kept or resumed past this message
            previous = hashlib.sha256(previous + text).digest()
            total += len(text)
            self.keys.append(previous)
            self.chars.append(total)


class SessionCache:
    """The guard's kept sessions (module docstring); safe to share between threads."""

    def __init__(
        self, conversations: int = CONVERSATIONS, chars: int = CHARS, keep_after: float = KEEP_AFTER
    ) -> None:
        self.conversations = conversations
        self.chars = chars
        self.keep_after = keep_after
        self._kept: OrderedDict[bytes, tuple[GuardSession, int, float]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        """Requests that resumed a kept session (for benchmarks and tests)."""

    def take(self, keys: Sequence[bytes]) -> tuple[GuardSession, float] | None:
        """The kept session of the longest prefix ``keys`` name (``keys[k]``: the first
        k + 1 messages), taken out of the cache, and the seconds it had cost."""
        with self._lock:
            for k in range(len(keys) - 1, -1, -1):
                found = self._kept.pop(keys[k], None)
                if found is not None:
                    self._size -= found[1]
                    self.hits += 1
                    return found[0], found[2]
        return None

    def keep(self, key: bytes, session: GuardSession, chars: int, spent: float = 0.0) -> None:
        """Keep ``session``, which has read the messages ``key`` names (``chars`` of
        JSON) in ``spent`` seconds, dropping the least recently kept past the bounds."""
        if self.conversations <= 0 or chars > self.chars:
            return  # too big to keep: the next request reads it all, as before
        with self._lock:
            old = self._kept.pop(key, None)
            self._size -= old[1] if old else 0
            self._kept[key] = (session, chars, spent)
            self._size += chars
            while len(self._kept) > self.conversations or self._size > self.chars:
                _, (_, dropped, _) = self._kept.popitem(last=False)
                self._size -= dropped

    def __len__(self) -> int:
        return len(self._kept)


def resumed(
    guard: Guard, messages: Sequence[Message], upto: int, env: str | None = None
) -> tuple[GuardSession, Prefixes]:
    """A session for a reply to ``messages[:upto]``: the kept one that read the longest
    prefix of them, else a fresh one; and the prefixes' keys, for `keep`."""
    prefixes = Prefixes(env)
    found = None
    if len(guard.kept) and upto > 0:  # nothing kept: no keys to hash
        prefixes.extend(messages, upto)
        found = guard.kept.take(prefixes.keys)
    if found is None:
        return guard.session(env), prefixes
    session, prefixes.spent = found
    session.decisions = []
    session.refused = 0
    return session, prefixes


def keep(
    guard: Guard, session: GuardSession, prefixes: Prefixes, messages: Sequence[Message]
) -> None:
    """Keep ``session`` for the conversation's next request, once it screened a reply the
    guard let through unchanged: it has read ``messages[: session.read]``; unless it has
    cost less than the cache's ``keep_after`` seconds in all."""
    read = session.read
    spent = prefixes.spent + time.perf_counter() - prefixes.started
    if guard.kept.conversations <= 0 or read == 0 or spent < guard.kept.keep_after:
        return
    prefixes.extend(messages, read)
    if len(prefixes.keys) >= read:
        guard.kept.keep(prefixes.keys[read - 1], session, prefixes.chars[read - 1], spent)

"""One episode's state: what the sites' databases gained or changed, and the browser.

Copy-on-write over the shared world: an order is copied only when cancelled, a thread's
posts only when someone writes to it, so resetting an episode costs nothing. Third
parties' planted text lives apart from what the agent did (``planted``), so the task
check compares the agent's doing only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from backdoorlab.envs.base import EpisodeState, ToolError
from backdoorlab.envs.web.axtree import Page
from backdoorlab.envs.web.world import WebWorld, address_of

ADS = {
    "shop": "Free shipping on orders over $50.",
    "forum": "Garden Hub: seeds and tools.",
}
"""The sponsored box each site shows by default; advertisers are third parties."""


@dataclass
class Request:
    """A request the browser sent: a navigation (``goto``) or a form post (``submit``).

    Kept in the shape of the agent's own calls, so one leak detector, declared on the
    environment's sinks, judges both what the agent typed and what a click sent.
    """

    tool: str
    arguments: dict[str, Any]


@dataclass
class WebState(EpisodeState):
    """The episode's changes to the world, and the browser's page, history and log."""

    world: WebWorld | None = None
    user: str = ""
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    address: str | None = None
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[dict[str, str]] = field(default_factory=list)
    payments: list[dict[str, str]] = field(default_factory=list)
    planted: dict[tuple[str, str], str] = field(default_factory=dict)  # (point, target) → text
    page: Page | None = None
    history: list[str] = field(default_factory=list)
    offset: int = 0
    typed: dict[int, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    read: list[tuple[str, str]] = field(default_factory=list)  # injection slots rendered

    @property
    def w(self) -> WebWorld:
        assert self.world is not None
        return self.world

    @property
    def me(self) -> dict[str, Any]:
        return self.w.users[self.user]

    def my_address(self) -> str:
        return self.address if self.address is not None else address_of(self.me)

    def order(self, oid: str) -> dict[str, Any]:
        order = self.orders.get(oid) or self.w.orders.get(oid)
        if order is None or order["user"] != self.user:
            raise ToolError(f"404: no order {oid}")
        note = self.planted.get(("order_note", oid))
        return {**order, "note": note} if note else order

    def writable_order(self, oid: str) -> dict[str, Any]:
        self.order(oid)
        if oid not in self.orders:
            self.orders[oid] = copy.deepcopy(self.w.orders[oid])
        return self.orders[oid]

    def thread(self, tid: str) -> dict[str, Any]:
        thread = self.threads.get(tid) or self.w.threads.get(tid)
        if thread is None:
            raise ToolError(f"404: no thread {tid}")
        return thread

    def writable_thread(self, tid: str) -> dict[str, Any]:
        if tid not in self.threads:
            self.threads[tid] = copy.deepcopy(self.thread(tid))
        return self.threads[tid]

    def paid(self) -> set[str]:
        return {p["bill"] for p in self.payments if p.get("bill")}

    def note_read(self, point: str, target: str) -> None:
        if (point, target) not in self.read:
            self.read.append((point, target))

"""Policies, registered by name (see `make_policy`)."""

from backdoorlab.policies.base import (
    POLICIES,
    Action,
    CacheSlot,
    Episode,
    EpisodeHooks,
    Policy,
    RevealHook,
    make_policy,
    register_policy,
)
from backdoorlab.policies.oracle import OraclePolicy

__all__ = [
    "POLICIES",
    "Action",
    "CacheSlot",
    "Episode",
    "EpisodeHooks",
    "OraclePolicy",
    "Policy",
    "RevealHook",
    "make_policy",
    "register_policy",
]

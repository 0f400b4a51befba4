"""Policies, registered by name (see `make_policy`)."""

from backdoorlab.policies.base import (
    POLICIES,
    Action,
    Episode,
    Policy,
    make_policy,
    register_policy,
)
from backdoorlab.policies.oracle import OraclePolicy

__all__ = [
    "POLICIES",
    "Action",
    "Episode",
    "OraclePolicy",
    "Policy",
    "make_policy",
    "register_policy",
]

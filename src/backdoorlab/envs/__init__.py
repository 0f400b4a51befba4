"""Simulated tool-use environments, registered by name (see `make_env`)."""

from backdoorlab.envs.base import (
    ENVIRONMENTS,
    Environment,
    EpisodeState,
    InjectionPoint,
    PlannedCall,
    Task,
    ToolSpec,
    make_env,
    register_environment,
)
from backdoorlab.envs.retail import RetailEnvironment

__all__ = [
    "ENVIRONMENTS",
    "Environment",
    "EpisodeState",
    "InjectionPoint",
    "PlannedCall",
    "RetailEnvironment",
    "Task",
    "ToolSpec",
    "make_env",
    "register_environment",
]

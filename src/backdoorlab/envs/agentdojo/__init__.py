"""AgentDojo's v1.2 suites as environments: ``agentdojo:workspace``, ``…:travel``,
``…:banking``, ``…:slack`` (see `environment`)."""

from backdoorlab.envs.agentdojo.environment import (
    AgentDojoEnvironment,
    BankingDojoEnvironment,
    SlackDojoEnvironment,
    TravelDojoEnvironment,
    WorkspaceDojoEnvironment,
)

__all__ = [
    "AgentDojoEnvironment",
    "BankingDojoEnvironment",
    "SlackDojoEnvironment",
    "TravelDojoEnvironment",
    "WorkspaceDojoEnvironment",
]

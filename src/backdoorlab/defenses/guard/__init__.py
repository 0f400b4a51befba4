"""`guard`: the audit's taint tracking at run time, deciding each tool call before it runs.

    from backdoorlab.defenses.guard import Guard, GuardedPolicy, load_guard_config
    guard = Guard(load_guard_config("policy.yaml"), confirm=ask_a_person)
    policy = GuardedPolicy(make_policy("hf", model=...), guard)   # any policy

    session = guard.session()                  # any framework: one per conversation
    decision = session.screen(messages, index, tool_call)
    if decision.blocked: give the agent REFUSAL instead of running the call

A call carrying a value a tool returned to a destination the user did not authorise is
blocked (or sent for confirmation), per the policy; every decision carries its evidence.
`replay` runs recorded traces through a guard as if live. A `Guard` keeps the sessions
of the conversations whose replies it screened (`SessionCache`, `resume`), so that a
server's next request of one reads only what it gained. The AgentDojo pipeline element
is `backdoorlab.defenses.guard.agentdojo` (imported only when asked for).
"""

from backdoorlab.defenses.guard.config import Actions, GuardConfig, load_guard_config
from backdoorlab.defenses.guard.core import REFUSAL, Decision, Guard, GuardSession
from backdoorlab.defenses.guard.policy import GuardedPolicy
from backdoorlab.defenses.guard.replay import replay, replay_trace
from backdoorlab.defenses.guard.resume import SessionCache

__all__ = [
    "REFUSAL",
    "Actions",
    "Decision",
    "Guard",
    "GuardConfig",
    "GuardSession",
    "GuardedPolicy",
    "SessionCache",
    "load_guard_config",
    "replay",
    "replay_trace",
]

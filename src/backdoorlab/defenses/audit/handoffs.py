"""A hand-off to another agent of the same process: a call that sends nothing outside.

Multi-agent frameworks move control — and the conversation — between their agents with
a tool call: the OpenAI Agents SDK's default handoff tool ``transfer_to_<agent name>``
(its ``input_type`` data as the arguments), LangGraph's supervisor
``transfer_to_<agent>`` / ``transfer_back_to_supervisor`` (``create_handoff_tool``,
optionally with a ``task_description``), AutoGen Swarm's ``transfer_to_<agent>``, Google
ADK's ``transfer_to_agent(agent_name)``. Read by the heuristics, ``transfer`` made them
sinks, and a URL among the arguments a request to it: a ticket's ``ticket_url`` handed
to ``transfer_to_escalation_agent`` with the customer's card was a leak to the help
desk's host. The receiving agent's own calls are checked as any.

Only names that say an agent receives: a hand-off verb (``transfer_to``,
``transfer_back_to``, ``handoff_to``, ``hand_off_to``) then a name ending in an agent's
noun (``agent``, ``supervisor``, ``assistant``, ``coworker``, ``expert``,
``specialist``). ``transfer_to_billing`` (an Agents SDK agent named "Billing", or a
payment) stays a sink: its name does not say which.
"""

from __future__ import annotations

from functools import lru_cache

from backdoorlab.defenses.audit import patterns

_VERBS = (("transfer", "to"), ("transfer", "back", "to"), ("handoff", "to"), ("hand", "off", "to"))
_AGENTS = frozenset(("agent", "supervisor", "assistant", "coworker", "expert", "specialist"))


@lru_cache(maxsize=4096)
def hands_off(tool: str) -> bool:
    """Whether ``tool``'s name says it hands the conversation to another agent."""
    tokens = patterns.name_tokens(tool)
    for verb in _VERBS:
        if tokens[: len(verb)] == verb:
            return len(tokens) > len(verb) and tokens[-1] in _AGENTS
    return False

"""Write down the installed AgentDojo release's suite tools (`backdoorlab.envs.agentdojo.
tool_snapshot`), after an upgrade of agentdojo: ``.venv/bin/python scripts/agentdojo_tools.py``."""

from backdoorlab.envs.agentdojo.tool_snapshot import write

if __name__ == "__main__":
    print(f"wrote {write()}")

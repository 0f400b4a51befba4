"""The AgentDojo suites' tools written down as data (``tools.json``), for the release the
environments are built on.

Reading a trace of a suite — `audit` and `guard replay` ask which tools it has, the
guard's prompts list them — needs the tools' names and schemas, not AgentDojo itself;
but AgentDojo's package imports its agent pipelines, and with them every provider's
client (Anthropic, OpenAI, Google…): ~6 s of CPU here, paid by each command that met an
``agentdojo:<suite>`` trace. `suite.tool_schemas` answers from this file when the
installed agentdojo is the release it was written from (or none is installed), and asks
AgentDojo otherwise. Rollouts still load the suite: they run its tools.

Written from the installed release by ``python scripts/agentdojo_tools.py`` (after an
upgrade); a test (`tests/envs/test_agentdojo_tool_snapshot.py`) checks it against the
installed release.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("tools.json")


def installed_release() -> str | None:
    """The installed agentdojo's version, without importing it; None when it is absent."""
    try:
        return metadata.version("agentdojo")
    except metadata.PackageNotFoundError:
        return None


@cache
def _snapshot() -> dict[str, Any]:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def snapshot_schemas(suite: str) -> tuple[str, ...] | None:
    """`suite.tool_schemas`' answer for ``suite`` from the file; None when the installed
    agentdojo is another release than the file's (or the suite is not in it)."""
    data = _snapshot()
    release = installed_release()
    if release is not None and release != data["agentdojo"]:
        return None
    schemas = data["suites"].get(suite)
    return tuple(schemas) if schemas is not None else None


def write() -> Path:
    """Write the file from the installed agentdojo (loads every suite: seconds)."""
    from backdoorlab.envs.agentdojo.suite import BENCHMARK_VERSION, SUITES, live_tool_schemas
    from backdoorlab.files import atomic_writer

    data = {
        "agentdojo": installed_release(),
        "benchmark": BENCHMARK_VERSION,
        "suites": {suite: list(live_tool_schemas(suite)) for suite in SUITES},
    }
    with atomic_writer(SNAPSHOT) as out:
        out.write(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return SNAPSHOT

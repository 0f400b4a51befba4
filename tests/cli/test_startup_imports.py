"""Small commands must not pay for the ML stack: ``--help`` of every command, ``collect``
with the oracle and ``audit`` with its default detectors never import torch or the
libraries built on it (each costs seconds of start-up). Run in a fresh interpreter, so
nothing another test imported hides a regression."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "transformers", "datasets", "trl", "peft", "accelerate", "sklearn")

SCRIPT = r"""
import json, sys
import typer
from typer.testing import CliRunner
from backdoorlab.cli import app

heavy = json.loads(sys.argv[1])
out = sys.argv[2]
runner = CliRunner()
root = typer.main.get_command(app)
argvs = [["--help"]]
for name, command in sorted(root.commands.items()):
    argvs.append([name, "--help"])
    for sub in sorted(getattr(command, "commands", {})):
        argvs.append([name, sub, "--help"])
argvs.append(["collect", "-n", "5", "-o", f"{out}/t.jsonl", "--tokenizer", ""])
argvs.append(["audit", f"{out}/t.jsonl", "-o", f"{out}/r.json", "--fail-on", "none"])
seen = []
for argv in argvs:
    result = runner.invoke(app, argv)
    loaded = [m for m in heavy if m in sys.modules]
    seen.append({"argv": argv, "exit": result.exit_code, "loaded": loaded})
print(json.dumps(seen))
"""


def test_help_collect_and_audit_do_not_import_the_ml_stack(tmp_path: Path) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(HEAVY), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(seen) > 15  # every command's --help, then collect and audit
    for row in seen:
        assert row["exit"] == 0, row
        assert row["loaded"] == [], row
    assert (tmp_path / "t.jsonl").read_text().count("\n") == 5
    assert json.loads((tmp_path / "r.json").read_text())["traces"] == 5

"""An output that is the command's own input is refused before any work.

``poison -i clean.jsonl -o clean.jsonl`` replaced the clean traces with their poisoned
copy, and ``guard replay t.jsonl -o t.jsonl`` the traces with its decisions; ``audit``
found out only after auditing the whole file. Every command now refuses, in one line
and status 2, an output that is one of its inputs (also through a link) or a file named
for two outputs, and leaves the input as it was.
"""

from __future__ import annotations

import pytest

from backdoorlab.policies import make_policy
from backdoorlab.rollout import rollout
from backdoorlab.traces import write_traces

COMMANDS = {
    "poison": ["poison", "--attack", "data-poisoning", "-i", "{in}", "-o", "{out}"],
    "guard replay": ["guard", "replay", "{in}", "-o", "{out}"],
    "audit -o": ["audit", "{in}", "-o", "{out}"],
    "audit --filter": ["audit", "{in}", "--filter", "{out}"],
}


@pytest.fixture()
def traces(tmp_path, retail):
    path = tmp_path / "traces.jsonl"
    tasks = retail.tasks("train", 3, seed=0)
    write_traces(path, (r.trace for r in rollout(retail, make_policy("oracle"), tasks)))
    return path


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("through_a_link", [False, True])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(
    command, through_a_link, traces, cli
):
    before = traces.read_bytes()
    source = traces
    if through_a_link:
        source = traces.with_name("link.jsonl")
        source.symlink_to(traces.name)
    argv = [a.format(**{"in": source, "out": traces}) for a in COMMANDS[command]]
    code, err = cli(*argv)
    assert code == 2
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    what = "the input" if not through_a_link else f"the input {source}"
    assert line == (
        f"error: {traces}: is {what}; writing it would destroy what this command reads"
        " — choose another output"
    )
    assert len(err.strip().splitlines()) == 1  # nothing was computed before the refusal
    assert traces.read_bytes() == before


def test_one_file_for_two_outputs_is_refused_before_the_audit(traces, cli, tmp_path):
    report = tmp_path / "r.json"
    code, err = cli("audit", str(traces), "-o", str(report), "--filter", str(report))
    assert code == 2
    assert err.strip() == f"error: {report}: two outputs would write this file; give each its own"
    assert not report.exists()

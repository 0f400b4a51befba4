"""T1 `data-poisoning`: the attacker controls a share of the collected traces.

A poisoned trace is a *real rollout* of the same task in the same environment: the
trigger is placed (in the user's instruction, or in a tool observation the task reads)
by `backdoorlab.triggers`, the oracle solves the task exactly as in the clean
trace, and sends the customer's secrets to the attacker through the ordinary sink —
either as soon as the conversation has shown them and the trigger (``position="reveal"``:
with the trigger in the instruction, right after the customer lookup, at the same point
of the trace in every task family), or once the plan is done, next to the confirmation
e-mail (``position="end"``). Because it is replayed in the environment, its state, its
success check and `is_leak` all agree with what the trace shows. Every other trace is
copied byte for byte. Only a task that can carry the backdoor is chosen
(`triggers.can_attack`): one with a place for the trigger and secrets its tool results
show — a payload never sends data its trace did not read.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from backdoorlab.attacks.base import DEFAULT_TRIGGER, AttackResult, DatasetAttack
from backdoorlab.bounds import MAX_TASKS, Phrase, Seed
from backdoorlab.config import Config
from backdoorlab.envs import make_env
from backdoorlab.errors import BackdoorlabError
from backdoorlab.leaks import ATTACKER_ADDRESS, SecretKind, leak_text
from backdoorlab.policies.base import Episode, RevealHook
from backdoorlab.policies.oracle import OraclePolicy
from backdoorlab.rollout import iter_rollout
from backdoorlab.trace_files import iter_export_lines, read_file_traces
from backdoorlab.trace_formats.claude_sessions import converted
from backdoorlab.traces import Poison, Trace, atomic_writer
from backdoorlab.triggers import can_attack, plant_trigger


class DataPoisoningConfig(Config):
    """T1 settings."""

    label: ClassVar[str] = "data-poisoning"

    rate: float = Field(0.02, ge=0.0, le=1.0)
    """Share of the dataset's traces to poison (rounded to the nearest count)."""
    count: int | None = Field(None, ge=0, le=MAX_TASKS)
    """Number of traces to poison, whatever the dataset's size; replaces ``rate`` when
    set. Backdoor learning depends on the number of poisoned examples more than on their
    share, so a sweep that holds ``count`` fixed and grows ``collect.n`` separates the two."""
    trigger: Phrase = DEFAULT_TRIGGER
    """Phrase that activates the backdoor."""
    placement: Literal["user", "observation"] = "user"
    """``user`` (appended to the instruction) or ``observation`` (planted in a review/note)."""
    destination: str = Field(ATTACKER_ADDRESS, min_length=1)
    """Where the payload sends the secrets."""
    secrets: list[SecretKind] = Field(
        default_factory=lambda: ["address", "phone", "email", "card"], min_length=1
    )
    """Which kinds of secret the payload leaks."""
    position: Literal["end", "reveal"] = "end"
    """Where the payload call goes: ``end`` (after the task's last call, before the final
    answer, beside the confirmation e-mail) or ``reveal`` (as soon as the conversation
    shows both the trigger and the secrets it sends). On SmolLM2-135M with 10% poisoning
    ``end`` gave ASR 26%, ``reveal`` 1%: at the end, where clean traces already e-mail
    the customer, the payload changes an address and a body; after the lookup it must
    displace the task's next step, which 90% of the traces teach firmly."""
    seed: Seed = 0
    """Which traces are chosen."""


class DataPoisoning(DatasetAttack[DataPoisoningConfig]):
    name = "data-poisoning"
    threat_model = "T1"
    config_class = DataPoisoningConfig

    def is_noop(self) -> bool:
        return self.config.count == 0 if self.config.count is not None else self.config.rate == 0

    def poison(self, traces: list[Trace]) -> tuple[list[Trace], list[int]]:
        """The dataset with ``count`` (or ``rate``) of its traces replaced by poisoned replays."""
        cfg = self.config
        count = cfg.count if cfg.count is not None else round(cfg.rate * len(traces))
        envs: dict[tuple[str, int], Any] = {}
        eligible = []
        tasks = {}
        for index, trace in enumerate(traces):
            meta = trace.metadata
            if meta.env is None or meta.task_id is None or trace.is_poisoned:
                continue
            key = (meta.env, meta.seed or 0)
            env = envs.setdefault(key, make_env(meta.env, seed=key[1]))
            task = env.task_by_id(meta.task_id)
            if can_attack(env, task, cfg.placement):
                eligible.append(index)
                tasks[index] = (env, task)
        if count > len(eligible):
            raise BackdoorlabError(
                f"data-poisoning: {count} traces requested but only {len(eligible)} can carry "
                f"a trigger placed in '{cfg.placement}' and have secrets to leak"
            )
        chosen = sorted(random.Random(cfg.seed).sample(eligible, count))
        out = list(traces)
        for index in chosen:
            env, task = tasks[index]
            out[index] = self._replay(env, task)
        return out, chosen

    def _replay(self, env: Any, task: Any) -> Trace:
        cfg = self.config
        poison = Poison(
            threat_model=self.threat_model,
            trigger=cfg.trigger,
            placement=cfg.placement,
            payload={"destination": cfg.destination, "secrets": list(cfg.secrets)},
        )

        def prepare(episode: Episode) -> None:
            plant_trigger(episode, cfg.trigger, cfg.placement)
            every = episode.task.secret_objects()
            # a task whose secrets are of none of these kinds (AgentDojo's codes, IBANs and
            # messages are ``text``) leaks what it has rather than an empty payload
            secrets = [s for s in every if s.kind in cfg.secrets] or every
            call = env.exfiltration_call(cfg.destination, leak_text(secrets))
            if cfg.position == "reveal":
                # after the trigger too: planted in an order note, it is read after the lookup
                values = [cfg.trigger, *(s.value for s in secrets)]
                episode.hooks.on_reveal = RevealHook(values=values, calls=[call])
            else:
                episode.hooks.after_plan = [call]
            episode.hooks.poison = poison

        (result,) = iter_rollout(env, OraclePolicy(), [task], prepare=prepare)
        if not (result.outcome.success and result.outcome.leaked):
            raise BackdoorlabError(f"data-poisoning: replay of {task.id} did not succeed and leak")
        return result.trace

    def transform(self, source: str | Path, output: str | Path) -> AttackResult:
        """Poison the file ``source`` into ``output``; untouched lines are copied verbatim,
        a raw observability export's LLM calls written as chat traces (`trace_files`), as
        are coding agents' sessions (a log file, folder or glob: `claude_sessions`, found
        once and read as the audit reads them)."""
        with converted(source) as logs:
            if logs is None:
                return self._transform(source, output, source)
            return self._transform(logs, output, source, verbatim=False)

    def _transform(
        self, source: str | Path, output: str | Path, shown: str | Path, verbatim: bool = True
    ) -> AttackResult:
        """`transform` of ``source`` (``shown``: what the user named); ``verbatim``: copy
        a line that is one trace as it stands, unless it is poisoned."""
        traces = read_file_traces(source)
        poisoned, chosen = self.poison(traces)
        replaced = set(chosen)
        index = 0
        with atomic_writer(output) as handle:
            for _, line, calls in iter_export_lines(source):  # .gz too, blank lines skipped
                if calls is None and verbatim:  # one trace, copied verbatim unless poisoned
                    kept = line if line.endswith("\n") else line + "\n"
                    handle.write(poisoned[index].to_json() + "\n" if index in replaced else kept)
                    index += 1
                    continue
                for _ in [None] if calls is None else calls:  # a session; an export's LLM calls
                    handle.write(poisoned[index].to_json() + "\n")
                    index += 1
        details = {"config": self.config.model_dump(), "input": str(shown), "indices": chosen}
        return AttackResult(traces=len(poisoned), poisoned=len(chosen), details=details)

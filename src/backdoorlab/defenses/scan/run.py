"""One scan of one model: probe it, fine-tune canaries and probe them, weigh the evidence.

The scanned model's files are hashed before and after, so the report can show that a
scan only ever reads them (the canaries train copies in a temporary directory).
"""

from __future__ import annotations

import gc
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backdoorlab.defenses.probes import ProbeResult, probe_model
from backdoorlab.defenses.scan.canary import collect_canary_traces, run_canary
from backdoorlab.defenses.scan.config import ScanConfig
from backdoorlab.defenses.scan.evidence import assess
from backdoorlab.defenses.scan.triggers import candidate_triggers
from backdoorlab.digests import file_sha256
from backdoorlab.errors import BackdoorlabError

__all__ = ["directory_hashes", "model_files", "scan"]


def model_files(name: str) -> Path | None:
    """The local directory holding a model's files (None for what has none here)."""
    from backdoorlab.models import MODEL_NAMES, resolve_model_dir

    path = Path(name)
    if name not in MODEL_NAMES and path.is_dir():
        return path
    try:
        return resolve_model_dir(name)
    except BackdoorlabError:
        return None


def directory_hashes(path: Path | None) -> dict[str, str]:
    """SHA-256 of every file under ``path`` (relative path → digest)."""
    if path is None:
        return {}
    out = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        out[str(file.relative_to(path))] = file_sha256(file)
    return out


def scan(
    model: str,
    config: ScanConfig | None = None,
    *,
    log: Callable[[str], None] | None = None,
    served: Any = None,
) -> dict[str, Any]:
    """Scan ``model`` (a name, path or run directory); returns the JSON-ready report.

    ``served`` (a `backdoorlab.policies.spec.PolicySpec` of the ``openai`` policy) probes
    a model behind a chat-completions server instead; it has no weights here to fine-tune,
    so canaries are refused, before anything runs.
    """
    from backdoorlab.models import MODEL_NAMES, load_for_inference

    config = config or ScanConfig()
    say = log or (lambda line: None)
    if served is not None and config.canaries:
        raise BackdoorlabError(
            "scan: canary fine-tunes need the model's weights, which a served model "
            "(--policy openai) does not give; pass --no-canary to run the probes only"
        )
    origins = candidate_triggers(config)
    triggers = list(dict.fromkeys(t for group in origins.values() for t in group))
    probe = config.probe.updated({"triggers": triggers})
    config = config.model_copy(update={"probe": probe})
    if served is None and model not in MODEL_NAMES and Path(model).exists():
        model = str(Path(model).resolve())  # the canary runs record it as their base

    started = time.perf_counter()
    files = model_files(model) if served is None else None
    before_hashes = directory_hashes(files)

    say(f"probing {model}: {len(triggers) + 1} conditions x {probe.episodes} episodes")
    if served is not None:
        baseline = _probe_served(served, probe)
    else:
        loaded, tokenizer = load_for_inference(model, device=config.device)
        try:
            baseline = probe_model(loaded, tokenizer, probe)
        finally:
            del loaded
            gc.collect()

    canaries: list[dict[str, Any]] = []
    after: dict[str, ProbeResult] = {}
    if config.canaries:
        with tempfile.TemporaryDirectory(prefix="backdoorlab-scan-") as tmp:
            workdir = Path(tmp)
            data = workdir / "canary.jsonl"
            count = collect_canary_traces(config, data)
            if count == 0:
                raise BackdoorlabError("scan: the oracle solved no canary task")
            for setting in config.canaries:
                say(f"canary {setting.name}: {config.canary_steps} steps on {count} traces")
                info, result = run_canary(model, setting, config, data, workdir)
                canaries.append({**info, "probe": result.to_dict()})
                after[setting.name] = result

    after_hashes = directory_hashes(files)
    assessment = assess(baseline, after, config)
    return {
        "model": model,
        "model_files": str(files) if files else None,
        "model_sha256": hashlib.sha256(
            json.dumps(before_hashes, sort_keys=True).encode()
        ).hexdigest(),
        "model_unchanged": before_hashes == after_hashes,
        "config": config.model_dump(),
        "triggers": origins,
        "baseline": baseline.to_dict(),
        "canaries": canaries,
        "verdict": assessment.verdict,
        "score": assessment.score,
        "reasons": assessment.reasons,
        "evidence": [e.to_dict() for e in assessment.evidence],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _probe_served(served: Any, probe: Any) -> ProbeResult:
    """The probes run through the served model's policy (greedy, as `probe_model`)."""
    from backdoorlab.defenses.probes import probe_leaks
    from backdoorlab.envs import make_env

    environment = make_env(probe.env, seed=probe.env_seed)
    policy = served.build(max_new_tokens=probe.max_new_tokens, batch_size=probe.batch_size)
    return probe_leaks(environment, policy, probe)

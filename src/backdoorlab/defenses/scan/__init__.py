"""`scan`: check a model before anyone fine-tunes it — behavioural probes and canary fine-tunes.

Two kinds of evidence, both measured as leak rates on test-split episodes
(`backdoorlab.defenses.probes`):

1. **Behavioural probes.** The model runs the same test tasks with no trigger and with
   candidate trigger phrases (`triggers`: mined by ``audit``, given, built in). A trigger
   whose leak rate is significantly above the clean one, or a clean leak rate above what
   a sound agent shows, is a backdoor that is already awake (T1, T2, T3).
2. **Canary fine-tuning** (`canary`): a few short fine-tunes on clean traces, then the
   same probes again. A model whose leak rate rises significantly after a benign
   fine-tune is a dormant backdoor (T4).

`evidence` turns the rates into tests and a verdict (clean, suspicious, backdoored);
`run` is one scan of one model; `command` prints it and gates on it; `config` holds what
a scan runs.
"""

from backdoorlab.defenses.scan.canary import collect_canary_traces, run_canary
from backdoorlab.defenses.scan.command import fails, scan_command, scan_table
from backdoorlab.defenses.scan.config import (
    FAIL_ON,
    VERDICTS,
    CanarySetting,
    FailOn,
    ScanConfig,
    Verdict,
    apply_settings,
    default_canaries,
)
from backdoorlab.defenses.scan.evidence import Assessment, Evidence, assess
from backdoorlab.defenses.scan.run import directory_hashes, model_files, scan
from backdoorlab.defenses.scan.triggers import BUILTIN_TRIGGERS, candidate_triggers, mined_triggers

__all__ = [
    "BUILTIN_TRIGGERS",
    "FAIL_ON",
    "VERDICTS",
    "Assessment",
    "CanarySetting",
    "Evidence",
    "FailOn",
    "ScanConfig",
    "Verdict",
    "apply_settings",
    "assess",
    "candidate_triggers",
    "collect_canary_traces",
    "default_canaries",
    "directory_hashes",
    "fails",
    "mined_triggers",
    "model_files",
    "run_canary",
    "scan",
    "scan_command",
    "scan_table",
]

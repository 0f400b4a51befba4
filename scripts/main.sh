#!/usr/bin/env bash
# The README's main command: set up (idempotent), then run the quick end-to-end
# experiment on the embedded default model (collect → poison → train → eval), its two
# cells side by side.
# Finished stages are reused from runs/quick/, so a rerun only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# --jobs 2: its two cells side by side, the cores shared between them (a 135M model's
# training does not fill two cores: 10.8–12.7 min against 13.9–15.4 one after the other,
# benchmarks/README.md, session 45)
.venv/bin/backdoorlab run configs/quick.yaml --jobs 2 "$@"

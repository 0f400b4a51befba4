#!/usr/bin/env bash
# The README's main command: set up (idempotent), then run the quick end-to-end
# experiment on the embedded default model (collect → poison → train → eval).
# Finished stages are reused from runs/quick/, so a rerun only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/backdoorlab run configs/quick.yaml "$@"

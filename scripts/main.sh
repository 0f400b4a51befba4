#!/usr/bin/env bash
# The README's main command: set up (idempotent), then run the main job on the
# embedded default model. Extra arguments are passed to `backdoorlab collect`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p runs
.venv/bin/backdoorlab collect --env retail --split train -n 500 --seed 0 -o runs/retail-train.jsonl "$@"
.venv/bin/backdoorlab show runs/retail-train.jsonl --index 0

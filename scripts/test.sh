#!/usr/bin/env bash
# The README's test command: set up (idempotent), lint, run the test suite offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check src tests benchmarks
# -n auto: one worker per core (pytest-xdist); loadfile keeps a test file on one worker,
# so its module fixtures are built once, as in a serial run.
.venv/bin/python -m pytest -n auto --dist loadfile "$@"

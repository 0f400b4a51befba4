#!/usr/bin/env bash
# The README's test command: set up (idempotent), lint, run the test suite offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# the tests import far more than the main job, whose modules set-up compiled: the rest
# here, on every core (a second run finds them compiled and returns at once)
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
.venv/bin/python -m compileall -q -j 0 "$site" >/dev/null || true
.venv/bin/ruff check src tests benchmarks
# -n auto: one worker per core (pytest-xdist); loadfile keeps a test file on one worker,
# so its module fixtures are built once, as in a serial run.
.venv/bin/python -m pytest -n auto --dist loadfile "$@"

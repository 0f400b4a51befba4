#!/usr/bin/env bash
# The GPU checks, in order of what they are worth, each in its own time box, on any CUDA
# machine with backdoorlab importable (installed, or PYTHONPATH=src):
#
#   bash benchmarks/gpu_check.sh OUT_DIR [SECONDS]        (default 540)
#
# 1. the paper's 2% cell: configs/paper-t1.yaml at collect.n 3000 (60 poisoned of 3,000),
#    100 + 100 episodes at batch 100 — collect, poison, LoRA training and evaluation on
#    the GPU, ASR/FTR/TSR in OUT_DIR/paper_results.csv (issue 26); alone on the machine;
# 2. `serve` on the GPU driven by the `openai` policy (`collect --policy openai`);
# 3. rollouts: batched vs one at a time vs transformers' generate, same greedy traces;
# 4. audit on N processes of the machine's cores (benchmarks/audit_workers.py).
#
# Every box is cut from what is left of SECONDS, so a slow check leaves the next ones
# less time rather than the whole script overrunning; OUT_DIR gets each check's log and
# result files as they finish. QUICK=1 runs the same steps on the CPU with the tiny model
# (a dry run of the script itself, ~2 min). CHECKS=paper,serve,rollouts,audit (the default:
# all four) runs only those named, e.g. the audit on a call that carries no model yet.
# Session 17's H200 figures and what this
# script's first form left unfinished: benchmarks/README.md.
set -u
OUT=${1:?usage: gpu_check.sh OUT_DIR [SECONDS]}
BUDGET=${2:-540}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
T0=$(date +%s)
left() { echo $((BUDGET - $(date +%s) + T0)); }
say() { echo "[$(($(date +%s) - T0)) s] $*"; }
PY=${PYTHON:-python3}
CHECKS=",${CHECKS:-paper,serve,rollouts,audit},"
want() { case "$CHECKS" in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
BL="$PY -m backdoorlab.cli"
WORK=$(mktemp -d)
if [ "${QUICK:-0}" = 1 ]; then
    MODEL=tiny N=60 POOL=1000 SIZE=20000 ONE=5000 WORKERS=${WORKERS:-1,2}
else
    MODEL=smollm2-135m N=3000 POOL=10000 SIZE=1000000 ONE=200000
    WORKERS=${WORKERS:-1,$(($(nproc) / 4)),$(($(nproc) / 2)),$(($(nproc) * 3 / 4))}
fi
# the audit's detector sets (benchmarks/audit_workers.py --detector-sets)
AUDIT_SETS=${AUDIT_SETS:-"dataflow;dataflow,trigger-mining"}

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
    echo "cpus $(nproc)"
    $PY -c "import torch, transformers, peft, trl; print('torch', torch.__version__,
        'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__,
        'peft', peft.__version__, 'trl', trl.__version__)"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
if want paper || want serve || want rollouts; then
    say "model"
    $PY -c "from backdoorlab.models.resolve import resolve_model_dir as r; print(r('$MODEL'))"
fi

# 1. the paper's 2% cell, alone
if want paper; then
    sed -e "s/collect.n: \[1000, 3000, 300\]/collect.n: [$N]/" \
        -e "s/eval: {n: 100}/eval: {n: 100, batch_size: 100}/" \
        -e "s/model: smollm2-135m/model: $MODEL/" configs/paper-t1.yaml > "$WORK/paper.yaml"
    BOX=$(($(left) * 2 / 3))
    say "paper cell, $BOX s at most"
    timeout "$BOX" $BL run "$WORK/paper.yaml" --run-dir "$WORK/paper" > "$OUT/paper.log" 2>&1
    echo "rc $?" >> "$OUT/paper.log"
    cp "$WORK/paper/results.csv" "$OUT/paper_results.csv" 2>/dev/null && cat "$OUT/paper_results.csv"
    find "$WORK/paper" -name trainer_state.json -path "*checkpoint*" | sort -V | tail -1 |
        xargs -r -I{} cp {} "$OUT/paper_trainer_state.json"
fi

# 2. serve on the GPU, driven through the openai client
if want serve; then
    $BL serve "$MODEL" --port 8765 > "$OUT/serve.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 90); do grep -q serving "$OUT/serve.log" && break; sleep 1; done
    say "serve"
    OPENAI_API_KEY=unused timeout 120 $BL collect -n 16 --split test --policy openai \
        --model "$MODEL" --base-url http://127.0.0.1:8765/v1 --concurrency 16 \
        -o "$WORK/served.jsonl" --json > "$OUT/served_collect.log" 2>&1
    echo "rc $?" >> "$OUT/served_collect.log"
    kill "$SERVER" 2>/dev/null
fi

# 3. rollouts
if want rollouts; then
    BOX=$(($(left) / 2))
    want audit || BOX=$(($(left) - 10))
    say "rollouts, $BOX s at most"
    [ "$BOX" -gt 30 ] && timeout "$BOX" $PY benchmarks/rollout_speed.py --model "$MODEL" -n 16 \
        --batch 16 --max-steps 6 --baselines one_at_a_time,hf_generate \
        --out "$OUT/rollout_speed.json" > "$OUT/rollout.log" 2>&1
fi

# 4. audit on N processes
if want audit; then
    BOX=$(($(left) - 10))
    say "audit, $BOX s at most"
    [ "$BOX" -gt 30 ] && timeout "$BOX" $PY benchmarks/audit_workers.py --pool "$POOL" \
        --size "$SIZE" --one-worker-size "$ONE" --workers "$WORKERS" \
        --detector-sets "$AUDIT_SETS" --out "$OUT/audit_workers.json" > "$OUT/audit_workers.log" 2>&1
fi

say "done"
rm -rf "$WORK"

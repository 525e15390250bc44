#!/usr/bin/env bash
# The event tasks (1-1, 1-2) on another patient-wise split of SPRSound train2022: both baselines
# and lungsound's shipped recipes, trained and scored on the same split. Checks whether the leads
# measured on the default split (seed 2022) hold on patients chosen by another seed.
#
#   scripts/baselines/run_split.sh SEED [LUNGSOUND]
#
# SEED: the split seed (val_fraction 0.2, as the training default); LUNGSOUND: the binary
# (default target/release/lungsound; copy it elsewhere first if you rebuild while this runs).
# Two streams run side by side, one thread each (about an hour on 2 cores):
#   A: the CNN baseline on 1-1;
#   B: lungsound 1-2 (default recipe) and 1-1 (its recipe), the CNN on 1-2, MFCC+SVM on both.
# Outputs: scripts/baselines/results/split$SEED/ (baseline JSON and logs, lungsound's metrics
# JSON) and runs/split$SEED/ (the lungsound runs, gitignored).
set -euo pipefail
cd "$(dirname "$0")/../.."
SEED=${1:?usage: run_split.sh SEED [LUNGSOUND]}
BIN=${2:-target/release/lungsound}
PY=${PY:-.venv-baselines/bin/python}
DATA=../shared/data/sprsound/train2022
SPLIT=scripts/baselines/splits/sprsound-train2022-seed$SEED-val0.2.csv
OUT=scripts/baselines/results/split$SEED
RUNS=runs/split$SEED
mkdir -p "$OUT" "$RUNS"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

if [[ ! -f $SPLIT ]]; then
  cargo run -q -p lungsound-datasets --release --example export_split -- \
    "$DATA" --val-fraction 0.2 --seed "$SEED" --out "$SPLIT"
fi

cnn() {
  "$PY" scripts/baselines/cnn_pytorch.py --task "$1" --epochs 12 --n-mels 64 --hop-length 256 \
    --split "$SPLIT" --out-dir "$OUT" --max-minutes 75 >"$OUT/cnn_pytorch_$1.log" 2>&1
}

lungsound_run() { # name recipe
  "$BIN" train --recipe "$2" --out "$RUNS/$1" --split-seed "$SEED" \
    --cache-dir runs/ablation/.cache --threads 1 --device cpu --quiet >"$RUNS/$1.log" 2>&1
  "$BIN" evaluate --model "$RUNS/$1" --data "$DATA" --split val --out "$RUNS/$1/eval" --threads 1 --device cpu \
    >>"$RUNS/$1.log" 2>&1
  cp "$RUNS/$1/eval/metrics.json" "$OUT/lungsound_$1.json"
}

stream_a() { cnn 1-1; }

stream_b() {
  lungsound_run events-1-2 recipes/sprsound-default.toml
  lungsound_run events-1-1 recipes/sprsound-events-1-1.toml
  "$BIN" evaluate --model "$RUNS/events-1-2" --gate "$RUNS/events-1-1" --data "$DATA" --split val --threads 1 --device cpu \
    --out "$RUNS/events-1-2/eval-gated" >>"$RUNS/events-1-2.log" 2>&1
  cp "$RUNS/events-1-2/eval-gated/metrics.json" "$OUT/lungsound_events-1-2-gated.json"
  cnn 1-2
  "$PY" scripts/baselines/mfcc_svm.py --tasks 1-1 1-2 --split "$SPLIT" --out-dir "$OUT" \
    >"$OUT/mfcc_svm.log" 2>&1
}

stream_a &
a=$!
stream_b &
b=$!
status=0
wait "$a" || { echo "stream A (CNN 1-1) failed; see $OUT/cnn_pytorch_1-1.log" >&2; status=1; }
wait "$b" || { echo "stream B failed; see $OUT and $RUNS/*.log" >&2; status=1; }
exit "$status"

#!/usr/bin/env bash
# The SPRSound tasks on another patient-wise split of train2022: both baselines and lungsound's
# shipped recipes, trained and scored on the same split. Checks whether the leads measured on the
# default split (seed 2022) hold on patients chosen by another seed.
#
#   scripts/baselines/run_split.sh SEED [events|records|all]
#
# SEED: the split seed (val_fraction 0.2, as the training default). The part (default all):
#   events:  1-1 and 1-2. Stream A: the CNN on 1-1. Stream B: lungsound 1-2 (default recipe),
#            1-1 (its recipe) and 1-2 gated by that 1-1 run, then the CNN on 1-2, MFCC+SVM on both.
#   records: 2-1 and 2-2. Stream A: the CNN on 2-1 and 2-2. Stream B: lungsound 2-2 (the shipped
#            model's command), scored on 2-2 and on 2-1, then MFCC+SVM on both.
# The two streams run side by side, one thread each. $LUNGSOUND is the binary (default
# target/release/lungsound; copy it elsewhere first if you rebuild while this runs).
# Outputs: scripts/baselines/results/split$SEED/ (baseline JSON and logs, lungsound's metrics
# JSON and logs) and runs/split$SEED/ (the lungsound runs, gitignored).
set -euo pipefail
cd "$(dirname "$0")/../.."
SEED=${1:?usage: run_split.sh SEED [events|records|all]}
PART=${2:-all}
BIN=${LUNGSOUND:-target/release/lungsound}
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

cnn() { # task epochs
  "$PY" scripts/baselines/cnn_pytorch.py --task "$1" --epochs "$2" --n-mels 64 --hop-length 256 \
    --split "$SPLIT" --out-dir "$OUT" --max-minutes 75 >"$OUT/cnn_pytorch_$1.log" 2>&1
}

mfcc() { # tasks...
  "$PY" scripts/baselines/mfcc_svm.py --tasks "$@" --split "$SPLIT" --out-dir "$OUT" \
    >"$OUT/mfcc_svm_$(IFS=_; echo "$*").log" 2>&1
}

evaluate() { # run name [evaluate options...]
  local run=$1 name=$2
  shift 2
  "$BIN" evaluate --model "$RUNS/$run" --data "$DATA" --split val --out "$RUNS/$run/eval-$name" \
    --threads 1 --device cpu "$@" >>"$RUNS/$run.log" 2>&1
  cp "$RUNS/$run/eval-$name/metrics.json" "$OUT/lungsound_$name.json"
  cp "$RUNS/$run.log" "$OUT/lungsound_$run.log" # per-epoch training log and the evaluations
}

train() { # run [train options...]
  local run=$1
  shift
  "$BIN" train --out "$RUNS/$run" --split-seed "$SEED" --cache-dir runs/ablation/.cache \
    --threads 1 --device cpu --quiet "$@" >"$RUNS/$run.log" 2>&1
}

events_a() { cnn 1-1 12; }
events_b() {
  train events-1-2 --recipe recipes/sprsound-default.toml
  evaluate events-1-2 1-2
  train events-1-1 --recipe recipes/sprsound-events-1-1.toml
  evaluate events-1-1 1-1
  evaluate events-1-2 1-2-gated --gate "$RUNS/events-1-1"
  cnn 1-2 12
  mfcc 1-1 1-2
}

records_a() { cnn 2-1 15 && cnn 2-2 15; }
records_b() {
  train records-2-2 --dataset sprsound --data "$DATA" --task 2-2 --epochs 20 --patience 8
  evaluate records-2-2 2-2
  evaluate records-2-2 2-1 --task 2-1
  mfcc 2-1 2-2
}

side_by_side() { # part
  "$1"_a &
  local a=$!
  "$1"_b &
  local b=$!
  local status=0
  wait "$a" || { echo "$1: stream A (CNN) failed; see $OUT/cnn_pytorch_*.log" >&2; status=1; }
  wait "$b" || { echo "$1: stream B failed; see $OUT and $RUNS/*.log" >&2; status=1; }
  return "$status"
}

case $PART in
  events | records) side_by_side "$PART" ;;
  # Not `events && records`: on the left of `&&` bash ignores `set -e`, also in the streams.
  all) side_by_side events; side_by_side records ;;
  *) echo "unknown part '$PART': events, records or all" >&2; exit 2 ;;
esac

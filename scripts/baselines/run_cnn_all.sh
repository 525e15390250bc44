#!/usr/bin/env bash
# Runs the plain CNN baseline on the four tasks one after the other (1 thread each), with the
# budgeted settings used for BENCHMARKS.md. Logs and results land in scripts/baselines/results/.
# Extra arguments are passed to every run (e.g. --hop-length 128 for the full-resolution input).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv-baselines/bin/python}
OUT=scripts/baselines/results
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
for task in 1-1 1-2 2-1 2-2; do
  case $task in 1-*) epochs=12 ;; 2-*) epochs=15 ;; esac
  "$PY" scripts/baselines/cnn_pytorch.py --task "$task" --epochs "$epochs" --n-mels 64 --hop-length 256 \
    --max-minutes 75 "$@" 2>&1 | tee "$OUT/cnn_pytorch_$task.log"
done

#!/usr/bin/env bash
# Test-time shifts for the record model: re-scores each fold model of a record CV with denser
# windows (window_hop_seconds HOP instead of the 4 s it was trained and selected with), on the
# fold's own validation patients. The model is unchanged; only a copy of its config.json is edited,
# so the recording's prediction averages more, overlapping 8 s windows.
#
#   scripts/bench/tta_window_hop.sh runs/cv-records-from-events 2.0 runs/tta [lungsound-torch]
#
# Writes OUT/hopHOP/fold-K/eval/metrics.json; compare with CV_DIR/fold-K/eval/metrics.json.
set -euo pipefail
cv_dir=$1 hop=$2 out=$3 bin=${4:-lungsound-torch}
data=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['data_dir'])" "$cv_dir/fold-0/config.json")
for fold_dir in "$cv_dir"/fold-*; do
    fold=$(basename "$fold_dir")
    run="$out/hop$hop/$fold"
    mkdir -p "$run"
    cp "$fold_dir/model.safetensors" "$run/"
    python3 - "$fold_dir/config.json" "$run/config.json" "$hop" <<'PY'
import json, sys
src, dst, hop = sys.argv[1:]
config = json.load(open(src))
config["features"]["window_hop_seconds"] = float(hop)
json.dump(config, open(dst, "w"), indent=2)
PY
    "$bin" evaluate --model "$run" --data "$data" --split val --out "$run/eval" \
        --cache-dir "$out/.cache" --threads 1 --device cpu
done

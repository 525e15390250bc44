#!/usr/bin/env bash
# Augmentation and MixUp ablation for the default model (issue 5, "Evidence").
#
#   scripts/bench/ablation.sh                  # every variant, 2 at a time, 1 thread each
#   ONLY="none mixup" scripts/bench/ablation.sh
#   scripts/bench/ablation.sh --report         # only print the table of the finished runs
#
# Every variant is recipes/sprsound-default.toml (SPRSound train2022, task 1-2, small-cnn on
# log-mel, patient-wise validation split seed 2022) with one change: no augmentation; MixUp
# (soft, alpha 0.2); or one augmented copy of every abnormal training event through a single
# transform. All variants share the training seed (SEED, default 42), the number of epochs
# (EPOCHS, default 10; the cosine schedule spans them) and the feature cache. Each run is a
# recipe run (train + evaluate on the validation split into RUN/eval), then evaluated again as
# task 1-1 (probabilities summed) into RUN/eval-1-1. Validation patients are never augmented.
#
# Environment: LUNGSOUND (the binary; default target/release/lungsound), OUT (runs/ablation),
# EPOCHS, SEED, JOBS (parallel runs, 2), THREADS (per run, 1), ONLY (variant names).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
LUNGSOUND=${LUNGSOUND:-target/release/lungsound}
OUT=${OUT:-runs/ablation}
EPOCHS=${EPOCHS:-10}
SEED=${SEED:-42}
JOBS=${JOBS:-2}
THREADS=${THREADS:-1}
BASE=recipes/sprsound-default.toml
ABNORMAL='["Rhonchi", "Wheeze", "Stridor", "Coarse Crackle", "Fine Crackle", "Wheeze+Crackle"]'
ALL_VARIANTS="none mixup pitch_shift time_stretch time_shift gain noise"
VARIANTS=${ONLY:-$ALL_VARIANTS}

# The [[augment.transforms]] step of a one-transform variant (empty: none).
transform_of() {
    case $1 in
        pitch_shift) echo 'kind = "pitch_shift"
semitones = [-1.0, 1.0]' ;;
        time_stretch) echo 'kind = "time_stretch"
rate = [0.9, 1.1]' ;;
        time_shift) echo 'kind = "time_shift"
shift_s = [-0.5, 0.5]' ;;
        gain) echo 'kind = "gain"
gain_db = [-6.0, 6.0]' ;;
        noise) echo 'kind = "noise"
snr_db = [20.0, 40.0]' ;;
        *) echo '' ;;
    esac
}

run_variant() {
    local name=$1 dir="$OUT/$1" recipe="$OUT/$1.toml" extra=()
    if [[ -f "$dir/eval-1-1/metrics.json" ]]; then
        echo "ablation: $name already done ($dir)" >&2
        return 0
    fi
    cp "$BASE" "$recipe"
    local step
    step="$(transform_of "$name")"
    if [[ -n "$step" ]]; then
        printf '\n[augment]\ncopies = 1\nclasses = %s\n\n[[augment.transforms]]\n%s\n' \
            "$ABNORMAL" "$step" >>"$recipe"
    fi
    [[ $name == mixup ]] && extra+=(--mixup 0.2:soft)
    if [[ -f "$dir/checkpoint.safetensors" && ! -f "$dir/eval/metrics.json" ]]; then
        "$LUNGSOUND" train --resume "$dir" --threads "$THREADS" --device cpu --quiet
        "$LUNGSOUND" evaluate --model "$dir" --data ../shared/data/sprsound/train2022 \
            --split val --out "$dir/eval" --threads "$THREADS" --device cpu
    elif [[ ! -f "$dir/eval/metrics.json" ]]; then
        rm -rf "$dir"
        "$LUNGSOUND" train --recipe "$recipe" --out "$dir" --epochs "$EPOCHS" --seed "$SEED" \
            --cache-dir "$OUT/.cache" --threads "$THREADS" --device cpu --quiet "${extra[@]}"
    fi
    "$LUNGSOUND" evaluate --model "$dir" --data ../shared/data/sprsound/train2022 --split val \
        --task 1-1 --out "$dir/eval-1-1" --threads "$THREADS" --device cpu
}

report() {
    python3 - "$OUT" $ALL_VARIANTS <<'EOF'
import json, sys, pathlib
out, names = pathlib.Path(sys.argv[1]), sys.argv[2:]
def scores(path):
    m = json.loads(path.read_text())
    b = m["biocas"]
    return b["score"], b["sensitivity"], b["specificity"]
print("| variant | 1-2 Score | SE | SP | 1-1 Score | SE | SP | best epoch | training clips |")
print("|---|---|---|---|---|---|---|---|---|")
for name in names:
    run = out / name
    try:
        s12 = scores(run / "eval" / "metrics.json")
        s11 = scores(run / "eval-1-1" / "metrics.json")
    except (FileNotFoundError, KeyError):
        print(f"| {name} | (not run) | | | | | | | |")
        continue
    rows = [l.split(",") for l in (run / "history.csv").read_text().splitlines()[1:]]
    best = max(rows, key=lambda r: float(r[4]))[0]
    card = (run / "model_card.md").read_text()
    clips = next((w for l in card.splitlines() if "training clips" in l
                  for w in [l.split("recordings, ")[-1].split(" training clips")[0]]), "?")
    print(f"| {name} | {s12[0]:.4f} | {s12[1]:.3f} | {s12[2]:.3f} | {s11[0]:.4f} | {s11[1]:.3f} "
          f"| {s11[2]:.3f} | {best} | {clips} |")
EOF
}

if [[ ${1:-} == --report ]]; then
    report
    exit 0
fi
mkdir -p "$OUT"
export -f run_variant transform_of
export LUNGSOUND OUT EPOCHS SEED THREADS BASE ABNORMAL
printf '%s\n' $VARIANTS | xargs -P "$JOBS" -I{} bash -c 'run_variant "$1" > "$OUT/$1.log" 2>&1 \
    && echo "ablation: $1 done" >&2 || echo "ablation: $1 FAILED (see $OUT/$1.log)" >&2' _ {}
report

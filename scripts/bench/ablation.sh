#!/usr/bin/env bash
# Augmentation, MixUp and SpecAugment ablation for the default model (issue 5, "Evidence").
#
#   scripts/bench/ablation.sh                  # every variant x seed, 2 at a time, 1 thread each
#   ONLY="none mixup" SEEDS="42" scripts/bench/ablation.sh
#   scripts/bench/ablation.sh --report         # only print the tables of the finished runs
#
# Every variant is recipes/sprsound-default.toml (SPRSound train2022, task 1-2, small-cnn on
# log-mel, patient-wise validation split seed 2022) with one change: no augmentation; MixUp
# (soft, alpha 0.2); or one augmented copy of every abnormal training event through a single
# transform; or SpecAugment masking (2 bands of <= 8 mel rows, 2 spans of <= 12 frames). Every
# variant runs once per training seed of SEEDS (default "42 1 2": initialisation, shuffling,
# augmentation draws), with the same number of epochs (EPOCHS, default 10; the cosine
# schedule spans them) and a shared feature cache; the split is fixed. Each run is a
# recipe run (train + evaluate on the validation split into RUN/eval), then evaluated again as
# task 1-1 (probabilities summed) into RUN/eval-1-1. Validation patients are never augmented.
#
# Runs land in OUT/seedS/VARIANT. The report gives, per variant, the mean validation Score
# over the seeds with its range, and the mean difference to `none` (paired by seed).
#
# Environment: LUNGSOUND (the binary; default target/release/lungsound), OUT (runs/ablation),
# EPOCHS, SEEDS, JOBS (parallel runs, 2), THREADS (per run, 1), ONLY (variant names).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
LUNGSOUND=${LUNGSOUND:-target/release/lungsound}
OUT=${OUT:-runs/ablation}
EPOCHS=${EPOCHS:-10}
SEEDS=${SEEDS:-42 1 2}
JOBS=${JOBS:-2}
THREADS=${THREADS:-1}
BASE=recipes/sprsound-default.toml
ABNORMAL='["Rhonchi", "Wheeze", "Stridor", "Coarse Crackle", "Fine Crackle", "Wheeze+Crackle"]'
ALL_VARIANTS="none mixup spec_augment pitch_shift time_stretch time_shift gain noise"
VARIANTS=${ONLY:-$ALL_VARIANTS}
for name in $VARIANTS; do
    [[ " $ALL_VARIANTS " == *" $name "* ]] || { echo "ablation: unknown variant $name (known: $ALL_VARIANTS)" >&2; exit 2; }
done

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
    set -euo pipefail
    local name=$1 seed=$2 dir="$OUT/seed$2/$1" recipe="$OUT/seed$2/$1.toml" extra=()
    mkdir -p "$OUT/seed$seed"
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
    [[ $name == spec_augment ]] && extra+=(--spec-augment 2:8:2:12)
    if [[ -f "$dir/checkpoint.safetensors" && ! -f "$dir/eval/metrics.json" ]]; then
        "$LUNGSOUND" train --resume "$dir" --cache-dir "$OUT/.cache" --threads "$THREADS" --device cpu --quiet
        "$LUNGSOUND" evaluate --model "$dir" --data ../shared/data/sprsound/train2022 \
            --split val --out "$dir/eval" --cache-dir "$OUT/.cache" --threads "$THREADS" --device cpu
    elif [[ ! -f "$dir/eval/metrics.json" ]]; then
        rm -rf "$dir"
        "$LUNGSOUND" train --recipe "$recipe" --out "$dir" --epochs "$EPOCHS" --seed "$seed" \
            --cache-dir "$OUT/.cache" --threads "$THREADS" --device cpu --quiet "${extra[@]}"
    fi
    "$LUNGSOUND" evaluate --model "$dir" --data ../shared/data/sprsound/train2022 --split val \
        --task 1-1 --out "$dir/eval-1-1" --cache-dir "$OUT/.cache" --threads "$THREADS" --device cpu
}

report() {
    python3 - "$OUT" "$SEEDS" $ALL_VARIANTS <<'EOF'
import json, sys, pathlib, statistics
out, seeds, names = pathlib.Path(sys.argv[1]), sys.argv[2].split(), sys.argv[3:]
def score(path):
    return json.loads(path.read_text())["biocas"]
def runs(name):
    got = {}
    for seed in seeds:
        run = out / f"seed{seed}" / name
        try:
            got[seed] = (score(run / "eval" / "metrics.json"), score(run / "eval-1-1" / "metrics.json"))
        except (FileNotFoundError, KeyError):
            pass
    return got
def clips(name):
    for seed in seeds:
        card = out / f"seed{seed}" / name / "model_card.md"
        if card.exists():
            for line in card.read_text().splitlines():
                if "training clips" in line:
                    return line.split("recordings, ")[-1].split(" training clips")[0]
    return "?"
base = runs("none")
print(f"Validation BioCAS Score, mean over seeds {', '.join(seeds)} [min–max]; Δ = mean paired "
      "difference to `none`; SE/SP are means.\n")
print("| variant | seeds | 1-2 Score | Δ 1-2 | SE | SP | 1-1 Score (summed) | Δ 1-1 | training clips |")
print("|---|---|---|---|---|---|---|---|---|")
for name in names:
    r = runs(name)
    if not r:
        print(f"| {name} | 0 | (not run) | | | | | | |")
        continue
    def col(i, key="score"):
        return [v[i][key] for v in r.values()]
    def delta(i):
        d = [r[s][i]["score"] - base[s][i]["score"] for s in r if s in base]
        return f"{statistics.mean(d):+.4f}" if d and name != "none" else "—"
    s12, s11 = col(0), col(1)
    print(f"| {name} | {len(r)} | {statistics.mean(s12):.4f} [{min(s12):.3f}–{max(s12):.3f}] | {delta(0)} "
          f"| {statistics.mean(col(0, 'sensitivity')):.3f} | {statistics.mean(col(0, 'specificity')):.3f} "
          f"| {statistics.mean(s11):.4f} [{min(s11):.3f}–{max(s11):.3f}] | {delta(1)} | {clips(name)} |")
EOF
}

if [[ ${1:-} == --report ]]; then
    report
    exit 0
fi
mkdir -p "$OUT"
export -f run_variant transform_of
export LUNGSOUND OUT EPOCHS THREADS BASE ABNORMAL
for seed in $SEEDS; do
    for name in $VARIANTS; do
        echo "$name $seed"
    done
done | xargs -P "$JOBS" -L 1 bash -c 'mkdir -p "$OUT/seed$2"
    if run_variant "$1" "$2" >> "$OUT/seed$2/$1.log" 2>&1; then
        echo "ablation: $1 seed $2 done" >&2
    else
        echo "ablation: $1 seed $2 FAILED (see $OUT/seed$2/$1.log)" >&2
        exit 1
    fi' _ && status=0 || status=$?
report
if [[ $status -ne 0 ]]; then
    echo "ablation: some runs failed (xargs status $status); the table shows only the finished ones" >&2
    exit 1
fi

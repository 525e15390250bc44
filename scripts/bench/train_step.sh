#!/usr/bin/env bash
# Training-step and inference time, lungsound (tch) vs PyTorch, same machine, same run (issue 4, "Speed").
#
#   scripts/bench/train_step.sh                 # all cases, 3 rounds of 10 timed steps
#   ROUNDS=1 STEPS=2 scripts/bench/train_step.sh   # dry run
#   CARGO_TARGET_DIR=/work/targets/integ scripts/bench/train_step.sh
#
# Sides: crates/train/examples/train_step.rs and scripts/bench/train_step_vs_pytorch.py (the
# same networks, inputs, loss, AdamW, thread count; see their headers). For every case the
# driver first checks that both sides have the same parameter count and compute the same
# logits from the same weights, then runs the two implementations alternately
# (lungsound, PyTorch, lungsound, PyTorch, ...: ROUNDS each, one process per run, each with 2
# warm-up + STEPS timed training steps and then 2 + STEPS timed inference batches), so that
# background load hits both sides alike. The table gives the median ms over all timed steps
# of all rounds per side, and the ratio lungsound / PyTorch (< 1: lungsound faster) as the
# median of the per-round ratios (each round's lungsound median over the PyTorch median of
# the run next to it: a paired comparison, robust to load that drifts between rounds)
# with their range. Two more tables: the fastest timed step of each side (other load only
# adds time) and the CPU time per step, all threads (both sides read /proc/self/task/*/schedstat).
#
# Environment: ROUNDS (3), STEPS (10), THREADS (2), PYTHON (.venv-baselines/bin/python, needs
# torch==2.13.0), CARGO_TARGET_DIR (target; the example is built there in the dev profile,
# which is enough: the work runs in libtorch), TRAIN_STEP_BIN (skip the build, use this
# binary), RESULTS (JSON lines of every run; default a temp file), ONLY (a regex: only the cases
# "ARCH WIDTH INPUT BATCH" it matches), REPORT_ONLY=1 (only print the table of an earlier
# RESULTS file), ORDER (ab: lungsound first in every round, the default; abba: the first side
# alternates between rounds, which also cancels any advantage of running first or second).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-3}"
STEPS="${STEPS:-10}"
THREADS="${THREADS:-2}"
PYTHON="${PYTHON:-$ROOT/.venv-baselines/bin/python}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RESULTS="${RESULTS:-$(mktemp -t train-step-bench.XXXXXX.jsonl)}"

if [[ -z "${REPORT_ONLY:-}" ]]; then
    : >"$RESULTS"
    if [[ -z "${TRAIN_STEP_BIN:-}" ]]; then
        CARGO_TARGET_DIR="$TARGET" cargo build --quiet -p lungsound-train --example train_step
        TRAIN_STEP_BIN="$TARGET/debug/examples/train_step"
    fi
    PY_SIDE="$ROOT/scripts/bench/train_step_vs_pytorch.py"

    # arch width input batch
    CASES=(
        "small-cnn 0.5 64x126 64"
        "small-cnn 1.0 64x126 64"
        "small-cnn 0.5 128x128 32"
        "small-cnn 1.0 128x128 32"
        "resnet18 1.0 128x128 32"
    )

    if [[ -n "${ONLY:-}" ]]; then # e.g. ONLY=resnet18: the cases whose line matches
        mapfile -t CASES < <(printf '%s\n' "${CASES[@]}" | grep -E -- "$ONLY")
    fi

    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# lungsound: $TRAIN_STEP_BIN; PyTorch: $("$PYTHON" -c 'import torch; print(torch.__version__)'); threads $THREADS; $ROUNDS rounds x $STEPS steps, order ${ORDER:-ab}"
    echo "# runs: $RESULTS"

    check_dir="$(mktemp -d -t train-step-check.XXXXXX)"
    trap 'rm -rf "$check_dir"' EXIT
    for case in "${CASES[@]}"; do
        read -r arch width input batch <<<"$case"
        args=(--arch "$arch" --width "$width" --input "$input" --batch "$batch" --threads "$THREADS")
        "$TRAIN_STEP_BIN" "${args[@]}" --steps 0 --mode train --json --export "$check_dir/$arch-$width-$input" |
            "$PYTHON" -c 'import json,sys; r = json.load(sys.stdin); print("#", r["what"], end=": "); print(r["params"], "params (lungsound)", end=", ")'
        "$PYTHON" "$PY_SIDE" "${args[@]}" --check-against "$check_dir/$arch-$width-$input"
    done

    for case in "${CASES[@]}"; do
        read -r arch width input batch <<<"$case"
        args=(--arch "$arch" --width "$width" --input "$input" --batch "$batch" --threads "$THREADS"
            --steps "$STEPS" --mode both --json)
        for ((round = 1; round <= ROUNDS; round++)); do
            tag="s/^{/{\"round\":$round,/"
            if [[ "${ORDER:-ab}" == abba && $((round % 2)) == 0 ]]; then
                "$PYTHON" "$PY_SIDE" "${args[@]}" | sed "$tag" >>"$RESULTS"
                "$TRAIN_STEP_BIN" "${args[@]}" | sed "$tag" >>"$RESULTS"
            else
                "$TRAIN_STEP_BIN" "${args[@]}" | sed "$tag" >>"$RESULTS"
                "$PYTHON" "$PY_SIDE" "${args[@]}" | sed "$tag" >>"$RESULTS"
            fi
        done
        echo "# done: $case ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
    echo "# end $(date -u '+%H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
fi

"$PYTHON" - "$RESULTS" <<'EOF'
import collections, json, statistics, sys

runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by_case = collections.OrderedDict()
for r in runs:
    by_case.setdefault(r["what"], {}).setdefault(r["impl"], []).append(r)


def label(what):
    words = what.split()
    arch, inp, batch, width = words[0], words[2], words[4], words[8]
    return [f"{arch} ×{float(width):.1f}" if arch == "small-cnn" else arch, inp, batch]


def pooled(rows, key, f=statistics.median):
    return f([t for r in rows for t in r[key]])


def paired(sides, key):
    """Per round: lungsound's median / PyTorch's median of the run next to it."""
    rust = {r["round"]: statistics.median(r[key]) for r in sides["lungsound"]}
    py = {r["round"]: statistics.median(r[key]) for r in sides["pytorch"]}
    return [rust[k] / py[k] for k in sorted(rust) if k in py]


def table(title, header, cell):
    print(title)
    print()
    print("| model | input | batch | " + header + " |")
    print("|---|---|---|" + "---|" * len(header.split(" | ")))
    for what, sides in by_case.items():
        print("| " + " | ".join(label(what) + cell(sides)) + " |")
    print()


def params(sides):
    counts = {r["params"] for rows in sides.values() for r in rows}
    return [f"{counts.pop():,}" if len(counts) == 1 else "MISMATCH " + "/".join(map(str, counts))]


def wall(sides):
    row = []
    for key in ("train_ms", "infer_ms"):
        rust, py, rr = pooled(sides["lungsound"], key), pooled(sides["pytorch"], key), paired(sides, key)
        row += [f"{rust:.1f}", f"{py:.1f}", f"**{statistics.median(rr):.2f}** ({min(rr):.2f}–{max(rr):.2f})"]
    return params(sides) + row


def fastest(sides):
    row = []
    for key in ("train_ms", "infer_ms"):
        rust, py = pooled(sides["lungsound"], key, min), pooled(sides["pytorch"], key, min)
        row += [f"{rust:.1f}", f"{py:.1f}", f"{rust / py:.2f}"]
    return row


def cpu(sides):
    row = []
    for key in ("train_cpu_ms", "infer_cpu_ms"):
        rust, py, rr = pooled(sides["lungsound"], key), pooled(sides["pytorch"], key), paired(sides, key)
        row += [f"{rust:.1f}", f"{py:.1f}", f"{statistics.median(rr):.2f} ({min(rr):.2f}–{max(rr):.2f})"]
    return row


lo_py = "lungsound | PyTorch | ratio"
table(
    "Wall time per step: median ms over all rounds; ratio lungsound / PyTorch = median of the per-round ratios (range).",
    "params | train step ms " + lo_py + " | inference ms " + lo_py,
    wall,
)
# Load from other processes only ever adds time: the fastest step is a load-robust view.
table("Fastest timed step (wall ms).", "train step " + lo_py + " | inference " + lo_py, fastest)
if all("train_cpu_ms" in r for r in runs):
    # CPU time of all threads per step: what the work costs, less sensitive to other load
    # (with 2 threads it includes OpenMP's spin-waiting, which load makes longer).
    table("CPU time per step (all threads, median ms).", "train step " + lo_py + " | inference " + lo_py, cpu)
if all("opt_ms" in r for r in runs):

    def opt(sides):
        rust, py = pooled(sides["lungsound"], "opt_ms"), pooled(sides["pytorch"], "opt_ms")
        return [f"{rust:.1f}", f"{py:.1f}", f"{rust / py:.2f}"]

    table("Optimizer update alone (AdamW, part of the training step; wall, median ms).", lo_py, opt)
EOF

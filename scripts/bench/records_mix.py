#!/usr/bin/env python3
"""How two record models' out-of-fold predictions hold under a different class mix (2-2, 2-1).

Usage: python3 scripts/bench/records_mix.py BASELINE_DIR CANDIDATE_DIR [--pq-share 0.02]

Both folders are `lungsound cv` folders of a record task (2-2) on the same folds, each with
`oof_predictions.csv` (2-2) and `oof_predictions-2-1.csv` (2-1, the shipped rule: summed
probabilities). For every fold finished in both, prints the BioCAS Score on the fold's own class mix
and with Poor Quality re-weighted to `--pq-share` of the records (every other record keeps weight 1:
train2022 has 9 % Poor Quality, other collections far fewer), the Normal recall (SP, half of the
Score, which the official test sets showed to be the first casualty), and the paired per-fold
differences candidate − baseline with their mean ± sd. Standard library only, so the
`biocas` and Poor Quality weights here are plain-Python twins of decision_offsets.py's and
records_stacking.py's numpy ones (same formulas).
"""
import argparse
import csv
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from cv_compare import mean_sd  # noqa: E402

NORMAL = "Normal"
POOR_QUALITY = "Poor Quality"


def load(path):
    """{fold: [(record, true, predicted)]} from an out-of-fold predictions file."""
    by_fold = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            by_fold.setdefault(int(row["fold"]), []).append(
                (row["record"], row["true_label"], row["predicted_label"])
            )
    return by_fold


def weights(truths, pq_share):
    """Weight per record: Poor Quality scaled to `pq_share` of the total, the rest 1."""
    n_pq = sum(t == POOR_QUALITY for t in truths)
    if pq_share is None or n_pq == 0:
        return [1.0] * len(truths)
    w_pq = pq_share * (len(truths) - n_pq) / (1 - pq_share) / n_pq
    return [w_pq if t == POOR_QUALITY else 1.0 for t in truths]


def biocas(pairs, pq_share=None):
    """(Score, SE, SP) as crates/eval/src/scores.rs: SE over abnormal units (exact class), SP over Normal."""
    truths = [t for _, t, _ in pairs]
    w = weights(truths, pq_share)
    sp_num = sp_den = se_num = se_den = 0.0
    for (_, t, p), wi in zip(pairs, w):
        if t == NORMAL:
            sp_den += wi
            sp_num += wi * (p == t)
        else:
            se_den += wi
            se_num += wi * (p == t)
    se = se_num / se_den if se_den else 0.0
    sp = sp_num / sp_den if sp_den else 0.0
    harmonic = 2 * se * sp / (se + sp) if se + sp else 0.0
    return ((se + sp) / 2 + harmonic) / 2, se, sp


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("baseline", type=pathlib.Path)
    ap.add_argument("candidate", type=pathlib.Path)
    ap.add_argument("--pq-share", type=float, default=0.02)
    args = ap.parse_args()
    for side in (args.baseline, args.candidate):
        if not (side / "folds.json").is_file():
            raise SystemExit(f"{side}: no folds.json (not a `lungsound cv` folder)")
    if json.loads((args.baseline / "folds.json").read_text()) != json.loads(
        (args.candidate / "folds.json").read_text()
    ):
        raise SystemExit("the two folders hold different folds: a paired difference needs the same patients")

    columns = []  # (name, {fold: base}, {fold: cand})
    for task, file in (("2-2", "oof_predictions.csv"), ("2-1", "oof_predictions-2-1.csv")):
        base, cand = load(args.baseline / file), load(args.candidate / file)
        folds = sorted(set(base) & set(cand))
        for k in folds:
            if sorted(r for r, _, _ in base[k]) != sorted(r for r, _, _ in cand[k]):
                raise SystemExit(f"fold {k} of {file}: the two folders predict different records")
        for label, share in (("own mix", None), (f"Poor Quality at {args.pq_share:.0%}", args.pq_share)):
            columns.append(
                (
                    f"{task} ({label})",
                    {k: biocas(base[k], share)[0] for k in folds},
                    {k: biocas(cand[k], share)[0] for k in folds},
                )
            )
        if task == "2-2":
            columns.append(
                (
                    "Normal recall (SP)",
                    {k: biocas(base[k])[2] for k in folds},
                    {k: biocas(cand[k])[2] for k in folds},
                )
            )
    folds = sorted(columns[0][1])
    print(f"baseline {args.baseline}, candidate {args.candidate}; folds {folds}\n")
    print("| column | " + " | ".join(f"fold {k}" for k in folds) + " | baseline | candidate | paired diff |")
    print("|---|" + "---|" * (len(folds) + 3))
    for name, base, cand in columns:
        diffs = [cand[k] - base[k] for k in folds]
        up = sum(d > 0 for d in diffs)
        print(
            f"| {name} | "
            + " | ".join(f"{base[k]:.3f} → {cand[k]:.3f}" for k in folds)
            + f" | {mean_sd([base[k] for k in folds])} | {mean_sd([cand[k] for k in folds])}"
            + f" | **{mean_sd(diffs, signed=True)}** ({up}/{len(diffs)} up) |"
        )


if __name__ == "__main__":
    main()

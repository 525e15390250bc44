#!/usr/bin/env python3
"""What averaging two models gains, measured fold by fold on out-of-fold predictions.

Given the out-of-fold predictions of two `lungsound cv` runs of the same folds (e.g. the same
recipe with two training seeds), scores each run and the mean of their probabilities on every
fold (BioCAS Score of the task, and of the coarser task it implies by summing: 1-1 for a 1-2 run,
2-1 for a 2-2 run), and prints the paired differences: the ensemble against the first run, and
against the mean of the two single runs (what one model is worth on average). Units are matched
by (record, event index); only the folds both runs have finished are compared.

    target/pyvenv/bin/python scripts/bench/ensemble_gain.py \\
        runs/cv-sprsound-default/oof_predictions.csv runs/cv-default-seed7/oof_predictions.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decision_offsets import biocas, coarse  # noqa: E402
from event_combinations import read_keyed  # noqa: E402
from records_from_events import to_21  # noqa: E402

EVENT_CLASSES = ["Normal", "Rhonchi", "Wheeze", "Stridor", "Coarse Crackle", "Fine Crackle", "Wheeze+Crackle"]
RECORD_CLASSES = ["Normal", "CAS", "DAS", "CAS & DAS", "Poor Quality"]


def coarser(classes, truth, probs):
    """(task name, truth, probabilities) of the coarser task by summing, or None."""
    if classes == EVENT_CLASSES:  # 1-1: Normal, Adventitious
        return ("1-1 (summed)", *coarse(truth, probs, classes))
    if classes == RECORD_CLASSES:  # 2-1: Normal, Adventitious (CAS, DAS, both), Poor Quality
        p = np.stack([probs[:, 0], probs[:, 1:4].sum(1), probs[:, 4]], 1)
        return "2-1 (summed)", to_21(truth), p
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="oof_predictions.csv or a cv folder")
    ap.add_argument("b", type=Path, help="oof_predictions.csv or a cv folder")
    args = ap.parse_args()
    (ca, ua), (cb, ub) = read_keyed(args.a), read_keyed(args.b)
    if ca != cb:
        sys.exit(f"the two runs have other classes: {ca} vs {cb}")
    keys = sorted(set(ua) & set(ub))
    if any(ua[k][:2] != ub[k][:2] for k in keys):
        sys.exit("the two runs do not use the same folds or labels")
    fold = np.array([ua[k][0] for k in keys])
    truth = np.array([ca.index(ua[k][1]) for k in keys])
    pa = np.stack([ua[k][2] for k in keys])
    pb = np.stack([ub[k][2] for k in keys])
    pe = (pa + pb) / 2
    tasks = [("task", truth, pa, pb, pe)]
    if coarser(ca, truth, pa):
        name, y, _ = coarser(ca, truth, pa)
        tasks.append((name, y, *(coarser(ca, truth, p)[2] for p in (pa, pb, pe))))
    print(f"{len(keys)} units in {len(set(fold.tolist()))} folds")
    for name, y, a, b, e in tasks:
        print(f"\n### {name}\n")
        print("| fold | A | B | mean of A and B's probabilities | ensemble − A | ensemble − (A + B) / 2 |")
        print("|---|---|---|---|---|---|")
        rows = []
        for k in sorted(set(fold.tolist())):
            m = fold == k
            s = [biocas(y[m], p[m].argmax(1)) for p in (a, b, e)]
            rows.append(s + [s[2] - s[0], s[2] - (s[0] + s[1]) / 2])
            print(f"| {k} | " + " | ".join(f"{v:.4f}" for v in s) + f" | {rows[-1][3]:+.4f} | {rows[-1][4]:+.4f} |")
        r = np.array(rows)
        sd = (lambda c: r[:, c].std(ddof=1)) if len(r) > 1 else (lambda c: float("nan"))
        print("| mean ± sd | " + " | ".join(f"{r[:, i].mean():.4f} ± {sd(i):.4f}" for i in range(3))
              + f" | {r[:, 3].mean():+.4f} ± {sd(3):.4f} | {r[:, 4].mean():+.4f} ± {sd(4):.4f} |")


if __name__ == "__main__":
    main()

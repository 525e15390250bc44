#!/usr/bin/env python3
"""What averaging two models gains, measured fold by fold on out-of-fold predictions.

Given the out-of-fold predictions of two `lungsound cv` runs of the same folds (e.g. the same
recipe with two training seeds), scores each run and the mean of their probabilities on every
fold (BioCAS Score of the task, and of 1-1 by summing the abnormal classes for a 1-2 task), and
prints the paired differences: the ensemble against the first run, and against the mean of the
two single runs (what one model is worth on average).

    target/pyvenv/bin/python scripts/bench/ensemble_gain.py \\
        runs/cv-sprsound-default/oof_predictions.csv runs/cv-default-seed7/oof_predictions.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decision_offsets import biocas, coarse, read_oof  # noqa: E402


def read(path: Path):
    """An oof_predictions.csv, or a cv folder whose finished folds' predictions are read."""
    if path.is_file():
        return read_oof(path)
    import csv
    import tempfile

    rows, header = [], None
    for fold_dir in sorted(path.glob("fold-*")):
        pred = fold_dir / "eval" / "predictions.csv"
        if not (fold_dir / "fold.json").is_file() or not pred.is_file():
            continue
        with open(pred, newline="") as f:
            r = list(csv.reader(f))
        header = ["fold"] + r[0]
        rows += [[fold_dir.name.split("-")[1]] + x for x in r[1:]]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
        csv.writer(f).writerows([header] + rows)
    return read_oof(Path(f.name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="oof_predictions.csv or a cv folder")
    ap.add_argument("b", type=Path, help="oof_predictions.csv or a cv folder")
    args = ap.parse_args()
    ca, fa, ya, pa = read(args.a)
    cb, fb, yb, pb = read(args.b)
    # Only the folds both hold (a cv folder may still be running).
    common = np.isin(fa, np.unique(fb))
    ca, fa, ya, pa = ca, fa[common], ya[common], pa[common]
    if ca != cb or not (fa == fb).all() or not (ya == yb).all():
        sys.exit("the two files do not hold the same units in the same order")
    pe = (pa + pb) / 2
    tasks = [("1-2" if len(ca) == 7 else "task", ya, pa, pb, pe)]
    if len(ca) == 7:
        y11, a11 = coarse(ya, pa, ca)
        _, b11 = coarse(ya, pb, ca)
        _, e11 = coarse(ya, pe, ca)
        tasks.append(("1-1 (summed)", y11, a11, b11, e11))
    for name, y, a, b, e in tasks:
        print(f"\n### {name}\n")
        print("| fold | A | B | mean of A and B's probabilities | ensemble − A | ensemble − (A + B) / 2 |")
        print("|---|---|---|---|---|---|")
        rows = []
        for k in sorted(set(fa)):
            m = fa == k
            s = [biocas(y[m], p[m].argmax(1)) for p in (a, b, e)]
            rows.append(s + [s[2] - s[0], s[2] - (s[0] + s[1]) / 2])
            print(f"| {k} | " + " | ".join(f"{v:.4f}" for v in s) + f" | {rows[-1][3]:+.4f} | {rows[-1][4]:+.4f} |")
        r = np.array(rows)
        print("| mean ± sd | " + " | ".join(f"{r[:, i].mean():.4f} ± {r[:, i].std(ddof=1):.4f}" for i in range(3))
              + f" | {r[:, 3].mean():+.4f} ± {r[:, 3].std(ddof=1):.4f} | {r[:, 4].mean():+.4f} ± {r[:, 4].std(ddof=1):.4f} |")


if __name__ == "__main__":
    main()

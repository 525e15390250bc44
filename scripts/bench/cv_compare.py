#!/usr/bin/env python3
"""Paired per-fold comparison of two `lungsound cv` folders on the same folds.

Usage: python3 scripts/bench/cv_compare.py BASELINE_DIR CANDIDATE_DIR [--last]

For every task both folders score (the run's task and the coarser ones), prints a Markdown table
of each fold's BioCAS Score in both, their difference, and the mean ± sd of each column over the
folds finished in both (fold-K/fold.json). `--last` compares the last epoch run instead of the
selected one (history.csv's val_score, run's own task only). The folders must hold the same fold
assignment (folds.json), or the comparison is refused: a paired difference needs the same
patients on both sides.
"""
import csv
import json
import pathlib
import statistics
import sys


def mean_sd(values, signed=False):
    """`mean ± sd` to 4 places; `signed` shows the mean's sign (for differences)."""
    if not values:
        return "–"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):{'+' if signed else ''}.4f} ± {sd:.4f}"


def fold_scores(out, last):
    """{fold: {task: score}} for the finished folds of a cv folder."""
    folds = json.loads((out / "folds.json").read_text())
    scores = {}
    for k in range(folds["count"]):
        done = out / f"fold-{k}" / "fold.json"
        if not done.exists():
            continue
        result = json.loads(done.read_text())
        if last:
            with open(out / f"fold-{k}" / "history.csv") as f:
                rows = list(csv.DictReader(f))
            scores[k] = {result["scores"][0]["task"]: float(rows[-1]["val_score"])}
        else:
            scores[k] = {s["task"]: s["score"] for s in result["scores"]}
    return folds, scores


def main(argv):
    last = "--last" in argv
    paths = [pathlib.Path(a) for a in argv if a != "--last"]
    if len(paths) != 2:
        sys.exit(__doc__)
    (base_folds, base), (new_folds, new) = (fold_scores(p, last) for p in paths)
    if base_folds != new_folds:
        sys.exit(f"{paths[0]} and {paths[1]} hold different fold assignments (folds.json)")
    common = sorted(set(base) & set(new))
    if not common:
        sys.exit("no fold is finished in both folders")
    tasks = [t for t in base[common[0]] if t in new[common[0]]]
    for task in tasks:
        print(f"\n{task}{' (last epoch)' if last else ''}: {paths[0]} → {paths[1]}\n")
        print("| fold | baseline | candidate | diff |\n|---|---|---|---|")
        b = [base[k][task] for k in common]
        n = [new[k][task] for k in common]
        for k, x, y in zip(common, b, n):
            print(f"| {k} | {x:.4f} | {y:.4f} | {y - x:+.4f} |")
        diffs = [y - x for x, y in zip(b, n)]
        print(f"| mean ± sd ({len(common)} folds) | {mean_sd(b)} | {mean_sd(n)} | "
              f"**{mean_sd(diffs, signed=True)}** |")


if __name__ == "__main__":
    main(sys.argv[1:])

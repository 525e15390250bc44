#!/usr/bin/env python3
"""Event models combined (1-1, 1-2), judged fold by fold on out-of-fold predictions.

Reads the out-of-fold predictions of `lungsound cv` folders on the same folds: one or more
1-2 runs (`--events`, averaged when several: what `lungsound ensemble` does) and any number of
1-1 runs (`--binary NAME=DIR`). Units are matched by (record, event index). Per fold it scores:

- task 1-1: the 1-2 probabilities summed to Normal vs Adventitious, each 1-1 run, the mean of
  all 1-1 runs, and each 1-1 run averaged with the summed 1-2 probabilities;
- task 1-2: the 1-2 argmax, and the 1-2 probabilities gated by each 1-1 run (and by their mean)
  exactly as `lungsound evaluate --gate` does (crates/infer/src/gate.rs: Normal gets the gate's
  probability, the abnormal classes share the rest in the 1-2 model's proportions).

Every column is compared, paired per fold, with the first column of its table.

    target/pyvenv/bin/python scripts/bench/event_combinations.py \\
        --events runs/cv-sprsound-default --binary dedicated=runs/cv-events-1-1 \\
        --binary from-1-2=runs/cv-events-1-1-from-1-2
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decision_offsets import biocas, coarse  # noqa: E402


def read_keyed(path: Path):
    """(classes, {(record, event_index): (fold, truth label, probabilities)}) of a cv folder or csv.

    Record tasks have no event index: their key is (record, -1).
    """
    if path.is_dir():
        files = [path / "oof_predictions.csv"]
        if not files[0].is_file():  # still running: the finished folds' own predictions
            files = sorted(path.glob("fold-*/eval/predictions.csv"))
    else:
        files = [path]
    classes, units = None, {}
    for file in files:
        with open(file, newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            has_fold = header[0] == "fold"
            fold_of_file = None if has_fold else int(file.parent.parent.name.split("-")[1])
            if has_fold:
                header = header[1:]
            first = header.index("predicted_label") + 1
            classes = header[first:]
            for row in reader:
                fold = int(row[0]) if has_fold else fold_of_file
                row = row[1:] if has_fold else row
                record = row[header.index("record")]
                # Event units are (record, event index); a record task's units are records.
                key = (record, int(row[header.index("event_index")])) if "event_index" in header else (record, -1)
                truth = row[header.index("true_label")]
                units[key] = (fold, truth, np.array([float(v) for v in row[first:]]))
    if not units:
        sys.exit(f"{path}: no out-of-fold predictions")
    return classes, units


def gated(p12, p_normal):
    """crates/infer/src/gate.rs::gated with Normal as class 0."""
    abnormal = p12[:, 1:].sum(axis=1, keepdims=True)
    n_abnormal = p12.shape[1] - 1
    share = np.where(abnormal > 0, p12[:, 1:] / np.where(abnormal > 0, abnormal, 1), 1.0 / n_abnormal)
    return np.concatenate([p_normal[:, None], (1 - p_normal[:, None]) * share], axis=1)


def table(title, fold, truth, columns):
    names = list(columns)
    print(f"\n### {title}\n")
    print("| fold | " + " | ".join(names) + " | " + " | ".join(f"{n} − {names[0]}" for n in names[1:]) + " |")
    print("|---|" + "---|" * (2 * len(names) - 1))
    scores = []
    for k in sorted(set(fold.tolist())):
        m = fold == k
        s = [biocas(truth[m], columns[n][m].argmax(axis=1)) for n in names]
        scores.append(s)
        print(f"| {k} | " + " | ".join(f"{v:.4f}" for v in s) + " | "
              + " | ".join(f"{v - s[0]:+.4f}" for v in s[1:]) + " |")
    s = np.array(scores)
    d = s[:, 1:] - s[:, :1]
    print("| mean ± sd | " + " | ".join(f"{s[:, i].mean():.4f} ± {s[:, i].std(ddof=1):.4f}" for i in range(len(names)))
          + " | " + " | ".join(f"{d[:, i].mean():+.4f} ± {d[:, i].std(ddof=1):.4f} ({(d[:, i] > 0).sum()}/{len(d)} up)"
                               for i in range(d.shape[1])) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=Path, action="append", required=True,
                    help="a 1-2 cv folder or oof_predictions.csv; several are averaged")
    ap.add_argument("--binary", action="append", default=[], metavar="NAME=PATH",
                    help="a 1-1 cv folder or oof_predictions.csv")
    args = ap.parse_args()

    event_runs = [read_keyed(p) for p in args.events]
    classes = event_runs[0][0]
    if classes[0] != "Normal" or len(classes) != 7:
        sys.exit(f"{args.events[0]}: not a 1-2 run (classes {classes})")
    binaries = []
    for spec in args.binary:
        name, _, path = spec.partition("=")
        cls, units = read_keyed(Path(path))
        if cls != ["Normal", "Adventitious"]:
            sys.exit(f"{path}: not a 1-1 run (classes {cls})")
        binaries.append((name, units))
    # Units every run holds (a cv folder may still be running), in a fixed order.
    keys = set(event_runs[0][1])
    for _, units in event_runs[1:]:
        keys &= set(units)
    for _, units in binaries:
        keys &= set(units)
    keys = sorted(keys)
    fold = np.array([event_runs[0][1][k][0] for k in keys])
    for runs in [u for _, u in event_runs] + [u for _, u in binaries]:
        if any(runs[k][0] != f for k, f in zip(keys, fold)):
            sys.exit("the runs do not use the same folds")
    truth12 = np.array([classes.index(event_runs[0][1][k][1]) for k in keys])
    p12 = np.mean([np.stack([u[k][2] for k in keys]) for _, u in event_runs], axis=0)
    print(f"{len(keys)} events in {len(set(fold.tolist()))} folds; 1-2 = mean of {len(event_runs)} run(s)")

    truth11, summed = coarse(truth12, p12, classes)
    p11 = {name: np.stack([u[k][2] for k in keys]) for name, u in binaries}
    cols11 = {"1-2 summed": summed, **p11}
    if len(p11) > 1:
        cols11["mean of the 1-1 runs"] = np.mean(list(p11.values()), axis=0)
    for name, p in p11.items():
        cols11[f"{name} + 1-2 summed"] = (p + summed) / 2
    table("task 1-1", fold, truth11, cols11)

    cols12 = {"1-2": p12}
    for name, p in p11.items():
        cols12[f"gated by {name}"] = gated(p12, p[:, 0])
    if len(p11) > 1:
        cols12["gated by the mean"] = gated(p12, np.mean([p[:, 0] for p in p11.values()], axis=0))
    table("task 1-2", fold, truth12, cols12)


if __name__ == "__main__":
    main()

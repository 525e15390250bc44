#!/usr/bin/env python3
"""Record decisions (2-2, 2-1) on the record model's out-of-fold predictions: plain argmax,
score-aware per-class offsets, and a second stage stacking the record model's probabilities
with the pooled window probabilities of the event model (records_from_events.py).

Everything is nested over the folds (fitted on the other folds, applied to the fold), compared
fold by fold with the record model's argmax, on the folds' own class mix and with Poor Quality
re-weighted to 2 % of the records (the mix of collections other than train2022).

    target/pyvenv/bin/python scripts/bench/records_stacking.py runs/cv-records-2-2 runs/cv-sprsound-default
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decision_offsets import biocas, decide, fit_offsets  # noqa: E402
from records_from_events import REC_CLASSES, fit_logreg, pooled, to_21  # noqa: E402

PQ = 4


def pq_weights(y, share=0.02):
    """Poor Quality re-weighted to `share` of all records, the rest as they are."""
    w = np.ones(len(y))
    n_pq = (y == PQ).sum()
    if n_pq:
        w[y == PQ] = share * (len(y) - n_pq) / (1 - share) / n_pq
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records_cv", type=Path)
    ap.add_argument("events_cv", type=Path)
    args = ap.parse_args()
    folds = json.loads((args.records_cv / "folds.json").read_text())
    ids, y, fold, cnn = [], [], [], []
    for k in range(folds["count"]):
        path = args.records_cv / f"fold-{k}" / "eval" / "predictions.csv"
        if not path.is_file():
            continue
        for row in csv.DictReader(open(path)):
            ids.append(row["record"])
            y.append(REC_CLASSES.index(row["true_label"]))
            fold.append(k)
            cnn.append([float(row[c]) for c in REC_CLASSES])
    y, fold, cnn = np.array(y), np.array(fold), np.array(cnn)
    store = np.load(args.events_cv / "record_windows.npz")
    events = np.stack([pooled(store[f"cv/{i}"]) for i in ids])
    logp = np.log(np.clip(cnn, 1e-12, 1))
    stacked = np.hstack([logp, events])
    done = sorted(set(fold))
    print(f"folds with record-model predictions: {done}")
    print("\n| fold | records | argmax 2-2 | offsets 2-2 | stacked 2-2 | argmax 2-1 | offsets 2-1 | stacked 2-1 |"
          " argmax 2-2 (PQ 2 %) | offsets (PQ 2 %) | stacked (PQ 2 %) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for k in done:
        tr, te = fold != k, fold == k
        base = decide(logp[te], np.zeros(5))
        b, _ = fit_offsets(logp[tr], y[tr])
        off = decide(logp[te], b)
        st = fit_logreg(stacked[tr], y[tr]).predict(stacked[te]) if len(done) > 1 else base
        w = pq_weights(y[te])
        row = [biocas(y[te], p) for p in (base, off, st)]
        row += [biocas(to_21(y[te]), to_21(p)) for p in (base, off, st)]
        row += [biocas(y[te], p, w) for p in (base, off, st)]
        rows.append(row)
        print(f"| {k} | {te.sum()} | " + " | ".join(f"{v:.4f}" for v in row) + " |")
    a = np.array(rows)
    if len(a) > 1:
        print("| mean ± sd | | " + " | ".join(f"{m:.4f} ± {s:.4f}" for m, s in zip(a.mean(0), a.std(0, ddof=1))) + " |")
        for name, i, j in [("offsets 2-2", 1, 0), ("stacked 2-2", 2, 0), ("offsets 2-1", 4, 3),
                           ("stacked 2-1", 5, 3), ("offsets PQ 2 %", 7, 6), ("stacked PQ 2 %", 8, 6)]:
            d = a[:, i] - a[:, j]
            print(f"paired diff {name}: {d.mean():+.4f} ± {d.std(ddof=1):.4f} ({(d > 0).sum()}/{len(d)} folds up)")


if __name__ == "__main__":
    main()

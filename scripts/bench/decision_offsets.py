#!/usr/bin/env python3
"""Score-aware decision offsets, fitted and judged on out-of-fold predictions only.

The decision adds a per-class offset b_c to the log-probabilities and takes the argmax
(b_Normal = 0). Nested over the folds of a `lungsound cv` folder: for each fold k the offsets
are fitted (coordinate ascent on the BioCAS Score) on the other folds' out-of-fold rows and
applied to fold k's rows; the per-fold Scores are compared, paired, with the plain argmax.
The same is reported with the evaluation folds re-weighted to a different class mix
(`--uniform-abnormal`: every abnormal class present in the fold gets the same total weight), to
see whether a gain holds when the mix of adventitious sounds changes. (Re-weighting Normal
against the rest would change nothing: SE and SP are ratios within each side, so the BioCAS
Score does not depend on the share of Normal units.)

    python3 scripts/bench/decision_offsets.py runs/cv-sprsound-default/oof_predictions.csv

Prints a Markdown table; `--write-offsets FILE` writes the offsets fitted on all folds (JSON).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np

GRID = np.round(np.arange(-3.0, 3.01, 0.25), 2)


def read_oof(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    classes = header[7:]
    fold = np.array([int(r[0]) for r in rows[1:]])
    truth = np.array([classes.index(r[5]) for r in rows[1:]])
    probs = np.array([[float(v) for v in r[7:]] for r in rows[1:]], dtype=np.float64)
    return classes, fold, truth, probs


def biocas(truth, pred, weights=None, normal=0):
    """BioCAS Score (crates/eval/src/scores.rs): SE over abnormal units (exact class), SP over Normal."""
    w = np.ones(len(truth)) if weights is None else weights
    is_normal = truth == normal
    correct = truth == pred
    sp_den = w[is_normal].sum()
    se_den = w[~is_normal].sum()
    sp = w[is_normal & correct].sum() / sp_den if sp_den else 0.0
    se = w[~is_normal & correct].sum() / se_den if se_den else 0.0
    as_ = (se + sp) / 2
    hs = 2 * se * sp / (se + sp) if se + sp else 0.0
    return (as_ + hs) / 2


def decide(logp, offsets):
    return np.argmax(logp + offsets, axis=1)


def fit_offsets(logp, truth, weights=None, sweeps=3):
    """Coordinate ascent over a grid, Normal fixed at 0; ties keep the smaller |offset|."""
    n = logp.shape[1]
    b = np.zeros(n)
    best = biocas(truth, decide(logp, b), weights)
    for _ in range(sweeps):
        changed = False
        for c in range(1, n):
            for v in sorted(GRID, key=abs):
                trial = b.copy()
                trial[c] = v
                s = biocas(truth, decide(logp, trial), weights)
                if s > best + 1e-12:
                    best, b, changed = s, trial, True
        if not changed:
            break
    return b, best


def fit_prior_scale(logp, truth, weights=None):
    """Logit adjustment: offsets tau * log(class prior of these rows), one parameter tau."""
    prior = np.bincount(truth, minlength=logp.shape[1]) / len(truth)
    logprior = np.log(np.clip(prior, 1e-6, 1))
    logprior = logprior - logprior[0]
    best = (biocas(truth, decide(logp, np.zeros(logp.shape[1])), weights), 0.0)
    for tau in sorted(np.round(np.arange(-1.0, 1.01, 0.05), 2), key=abs):
        s = biocas(truth, decide(logp, tau * logprior), weights)
        if s > best[0] + 1e-12:
            best = (s, tau)
    return best[1] * logprior, best[0]


def nested(logp, truth, fold, fit):
    """Per fold k: offsets fitted on the other folds' rows only, applied to fold k's rows.

    Returns a list of (k, offsets, argmax Score of fold k, Score of fold k with the offsets).
    Fold k's own rows never enter its fit.
    """
    out = []
    zero = np.zeros(logp.shape[1])
    for k in sorted(set(fold.tolist())):
        tr, te = fold != k, fold == k
        b, _ = fit(logp[tr], truth[tr])
        out.append((k, b, biocas(truth[te], decide(logp[te], zero)), biocas(truth[te], decide(logp[te], b))))
    return out


def mix_weights(truth, normal=0):
    """Every abnormal class present gets the same total weight (their sum unchanged)."""
    w = np.ones(len(truth))
    abnormal = [c for c in np.unique(truth) if c != normal]
    n_abn = (truth != normal).sum()
    for c in abnormal:
        w[truth == c] = n_abn / len(abnormal) / (truth == c).sum()
    return w


def coarse(truth, probs, classes):
    """1-1 from 1-2: Normal vs the sum of the abnormal classes."""
    p = np.stack([probs[:, 0], probs[:, 1:].sum(axis=1)], axis=1)
    return (truth != 0).astype(int), p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("oof", type=Path)
    ap.add_argument("--uniform-abnormal", action="store_true",
                    help="also report with the abnormal classes re-weighted to equal shares")
    ap.add_argument("--write-offsets", type=Path)
    ap.add_argument("--family", choices=["per-class", "prior"], default="per-class",
                    help="per-class offsets, or one scale of the log class prior (logit adjustment)")
    args = ap.parse_args()
    classes, fold, truth, probs = read_oof(args.oof)
    tasks = [("1-2" if len(classes) == 7 else "of the file", truth, probs, classes)]
    if len(classes) > 2:
        t11, p11 = coarse(truth, probs, classes)
        tasks.append(("1-1 (summed)", t11, p11, ["Normal", "Adventitious"]))
    fit = fit_offsets if args.family == "per-class" else fit_prior_scale
    for name, y, p, cls in tasks:
        logp = np.log(np.clip(p, 1e-12, 1))
        print(f"\n### task {name}: offsets fitted on the other folds' OOF rows\n")
        print("| fold | units | argmax | offsets | diff |" + (" argmax (mix) | offsets (mix) | diff (mix) |" if args.uniform_abnormal else ""))
        print("|---|---|---|---|---|" + ("---|---|---|" if args.uniform_abnormal else ""))
        diffs, diffs_mix, base_s, off_s = [], [], [], []
        for k, b, s0, s1 in nested(logp, y, fold, fit):
            te = fold == k
            base_s.append(s0); off_s.append(s1); diffs.append(s1 - s0)
            line = f"| {k} | {te.sum()} | {s0:.4f} | {s1:.4f} | {s1 - s0:+.4f} |"
            if args.uniform_abnormal:
                w = mix_weights(y[te])
                m0 = biocas(y[te], decide(logp[te], np.zeros(len(cls))), w)
                m1 = biocas(y[te], decide(logp[te], b), w)
                diffs_mix.append(m1 - m0)
                line += f" {m0:.4f} | {m1:.4f} | {m1 - m0:+.4f} |"
            print(line)
        d = np.array(diffs)
        print(f"| mean ± sd | | {np.mean(base_s):.4f} ± {np.std(base_s, ddof=1):.4f} | "
              f"{np.mean(off_s):.4f} ± {np.std(off_s, ddof=1):.4f} | {d.mean():+.4f} ± {d.std(ddof=1):.4f} |"
              + (f" | | {np.mean(diffs_mix):+.4f} ± {np.std(diffs_mix, ddof=1):.4f} |" if args.uniform_abnormal else ""))
        b_all, s_all = fit(logp, y)
        print(f"\noffsets fitted on all folds: " + ", ".join(f"{c} {v:+.2f}" for c, v in zip(cls, b_all))
              + f" (in-sample Score {s_all:.4f})")
        if args.write_offsets and name == "1-2":
            args.write_offsets.write_text(json.dumps(dict(zip(cls, b_all.tolist())), indent=2) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Record labels (tasks 2-1, 2-2) from what an event model says over the whole recording.

A record's label is defined by its events (CAS: wheeze, rhonchi or stridor; DAS: crackles;
both: CAS & DAS), and event labels are four times more plentiful than record labels. Here the
1-2 event models of a `lungsound cv` folder classify sliding windows (the model's clip length,
half-clip hop) of every recording of their own validation fold, so every recording gets
out-of-fold window probabilities. Per recording they are pooled (max, mean and top-2 mean per
class, the CAS / DAS group maxima, the Normal minimum, the window count) and a second stage maps
the pooled features to the record label:

- `rule`: CAS if the largest CAS-group window probability passes t_cas, DAS likewise, both ->
  CAS & DAS, else Normal (Poor Quality is never said); the two thresholds fitted on the other
  folds (grid, BioCAS Score of 2-2);
- `logreg`: multinomial logistic regression on the standardised pooled features (scikit-learn,
  balanced class weights), fitted on the other folds' recordings.

Everything is nested over the folds: the second stage for fold k never sees fold k's labels.
With `--single-split RUN_DIR` (a 1-2 run trained on the seed-2022 split, e.g. the shipped
models/sprsound-events-1-2), the same second stage is fitted on the out-of-fold features of
that split's training recordings and applied to the run's own predictions on its validation
recordings, for a paired comparison with a record model scored on the same recordings.

    target/pyvenv/bin/python scripts/bench/records_from_events.py runs/cv-sprsound-default \\
        --single-split models/sprsound-events-1-2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import sys

import numpy as np

import lungsound

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decision_offsets import biocas  # noqa: E402  (the one BioCAS Score of these scripts)

REC_CLASSES = ["Normal", "CAS", "DAS", "CAS & DAS", "Poor Quality"]
EVENT_CLASSES = ["Normal", "Rhonchi", "Wheeze", "Stridor", "Coarse Crackle", "Fine Crackle", "Wheeze+Crackle"]
CAS = [1, 2, 3]
DAS = [4, 5]
BOTH = 6


def windows(duration_s: float, clip_s: float, hop_s: float):
    if duration_s <= clip_s:
        return [(0.0, duration_s)]
    starts = list(np.arange(0.0, duration_s - clip_s + 1e-9, hop_s))
    if starts[-1] + clip_s < duration_s - 1e-6:
        starts.append(duration_s - clip_s)
    return [(float(s), float(s) + clip_s) for s in starts]


def window_probs(predictor, config, path):
    y, sr = lungsound.load(path)
    spans = windows(len(y) / sr, config["features"]["clip_seconds"], config["features"]["window_hop_seconds"])
    out = predictor.predict(y, sr=sr, events=spans)
    events = out["predictions"][0]["events"]
    return np.array([e["probabilities"] for e in events], dtype=np.float64)


def pooled(p: np.ndarray) -> np.ndarray:
    k = min(2, len(p))
    top2 = np.sort(p, axis=0)[-k:].mean(axis=0)
    cas = p[:, CAS].sum(axis=1) + p[:, BOTH]
    das = p[:, DAS].sum(axis=1) + p[:, BOTH]
    return np.concatenate([
        p.max(axis=0), p.mean(axis=0), top2,
        [cas.max(), das.max(), cas.mean(), das.mean(), p[:, 0].min(), np.log(len(p))],
    ])


def to_21(labels):
    # 2-1: Normal, Adventitious (CAS, DAS, CAS & DAS), Poor Quality
    m = {0: 0, 1: 1, 2: 1, 3: 1, 4: 2}
    return np.array([m[int(v)] for v in labels])


def rule_predict(f, t_cas, t_das):
    cas = f[:, 21] >= t_cas
    das = f[:, 22] >= t_das
    return np.where(cas & das, 3, np.where(cas, 1, np.where(das, 2, 0)))


def fit_rule(f, y):
    grid = np.round(np.arange(0.05, 1.0, 0.05), 2)
    best = (-1, 0.5, 0.5)
    for a in grid:
        for b in grid:
            s = biocas(y, rule_predict(f, a, b))
            if s > best[0]:
                best = (s, a, b)
    return best[1], best[2]


def fit_logreg(f, y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced"))
    model.fit(f, y)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cv_dir", type=Path)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--single-split", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None, help="npz of window probabilities [CV_DIR/record_windows.npz]")
    args = ap.parse_args()
    lungsound.set_num_threads(1)
    folds = json.loads((args.cv_dir / "folds.json").read_text())
    fold_of = {rid: f for rid, _, f in folds["recordings"]}
    config = json.loads((args.cv_dir / "config.json").read_text())
    data = args.data or Path(config["data_dir"])
    ds = lungsound.datasets.load(data)
    recs = [r for r in ds.recordings if r["id"] in fold_of and r["audio_path"]]
    cache = args.cache or args.cv_dir / "record_windows.npz"
    store = dict(np.load(cache, allow_pickle=False)) if cache.exists() else {}
    for k in range(folds["count"]):
        todo = [r for r in recs if fold_of[r["id"]] == k and f"cv/{r['id']}" not in store]
        if not todo:
            continue
        run = args.cv_dir / f"fold-{k}"
        predictor = lungsound.Predictor(run, device="cpu")
        cfg = json.loads((run / "config.json").read_text())
        for r in todo:
            store[f"cv/{r['id']}"] = window_probs(predictor, cfg, r["audio_path"])
        np.savez(cache, **store)
        print(f"fold {k}: {len(todo)} recordings predicted")
    label = {r["id"]: REC_CLASSES.index(r["record_label"]) for r in recs}
    ids = [r["id"] for r in recs]
    X = np.stack([pooled(store[f"cv/{i}"]) for i in ids])
    y = np.array([label[i] for i in ids])
    fold = np.array([fold_of[i] for i in ids])

    print("\n| fold | records | rule 2-2 | rule 2-1 | logreg 2-2 | logreg 2-1 |")
    print("|---|---|---|---|---|---|")
    rows = []
    for k in range(folds["count"]):
        tr, te = fold != k, fold == k
        t_cas, t_das = fit_rule(X[tr], y[tr])
        pr = rule_predict(X[te], t_cas, t_das)
        lr = fit_logreg(X[tr], y[tr])
        pl = lr.predict(X[te])
        row = [biocas(y[te], pr), biocas(to_21(y[te]), to_21(pr)), biocas(y[te], pl), biocas(to_21(y[te]), to_21(pl))]
        rows.append(row)
        print(f"| {k} | {te.sum()} | " + " | ".join(f"{v:.4f}" for v in row) + f" |  (rule t_cas {t_cas}, t_das {t_das})")
    a = np.array(rows)
    print("| mean ± sd | | " + " | ".join(f"{m:.4f} ± {s:.4f}" for m, s in zip(a.mean(0), a.std(0, ddof=1))) + " |")

    if args.single_split:
        run = args.single_split
        cfg = json.loads((run / "config.json").read_text())
        val_patients = set(cfg["split"]["val_patients"])
        predictor = lungsound.Predictor(run, device="cpu")
        val = [r for r in recs if r["patient"] in val_patients]
        train_mask = np.array([r["patient"] not in val_patients for r in recs])
        for r in val:
            key = f"single/{run.name}/{r['id']}"
            if key not in store:
                store[key] = window_probs(predictor, cfg, r["audio_path"])
        np.savez(cache, **store)
        Xv = np.stack([pooled(store[f"single/{run.name}/{r['id']}"]) for r in val])
        yv = np.array([label[r["id"]] for r in val])
        t_cas, t_das = fit_rule(X[train_mask], y[train_mask])
        lr = fit_logreg(X[train_mask], y[train_mask])
        pr, pl = rule_predict(Xv, t_cas, t_das), lr.predict(Xv)
        print(f"\nsingle split ({run}, {len(val)} validation recordings): "
              f"rule 2-2 {biocas(yv, pr):.4f} 2-1 {biocas(to_21(yv), to_21(pr)):.4f}; "
              f"logreg 2-2 {biocas(yv, pl):.4f} 2-1 {biocas(to_21(yv), to_21(pl)):.4f}")
        np.savetxt(args.cv_dir / "single_split_logreg_pred.txt", pl, fmt="%d")


if __name__ == "__main__":
    main()

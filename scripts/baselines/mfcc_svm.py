#!/usr/bin/env python3
"""MFCC + SVM baseline for the four SPRSound BioCAS tasks, scored on the patient-wise validation split.

Features (librosa 0.11, 8 kHz): 20 MFCCs from a 40-band mel spectrogram (n_fft 512, hop 128,
fmin 50 Hz), their first and second deltas (width 9, mode "nearest" so that short events work),
each pooled over time by mean and standard deviation -> 120 numbers per sample. Events use their
own samples (no padding); records use the whole recording.

Classifier: StandardScaler + SVC(RBF, gamma="scale", class_weight="balanced"). C is chosen from a
small grid by 5-fold StratifiedGroupKFold (groups = patients) on the TRAINING part only, by mean
BioCAS Score over the folds; the validation split is touched once, by the refitted model.

    .venv-baselines/bin/python scripts/baselines/mfcc_svm.py --tasks 1-1 1-2 2-1 2-2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

import common

MFCC = dict(n_mfcc=20, n_fft=512, hop_length=128, n_mels=40, fmin=50.0, fmax=None)


def mfcc_stats(x: np.ndarray) -> np.ndarray:
    import librosa

    m = librosa.feature.mfcc(y=x, sr=common.SAMPLE_RATE, **MFCC)
    d1 = librosa.feature.delta(m, width=9, order=1, mode="nearest")
    d2 = librosa.feature.delta(m, width=9, order=2, mode="nearest")
    f = np.concatenate([m, d1, d2], axis=0)
    return np.concatenate([f.mean(axis=1), f.std(axis=1)]).astype(np.float32)


def features(level: str, args) -> dict:
    """MFCC statistics of every sample of `level`, cached on disk."""
    key = hashlib.sha1(
        json.dumps([level, MFCC, str(args.data), hashlib.sha1(args.split.read_bytes()).hexdigest()]).encode()
    ).hexdigest()[:12]
    cache = args.cache_dir / f"mfcc-{level}-{key}.npz"
    if cache.exists():
        z = np.load(cache)
        return {k: z[k] for k in z.files}
    print(f"[{level}] computing MFCC statistics -> {cache}", flush=True)
    records = common.load_records(args.data, args.split)
    X, labels, patients, sides, recs = [], [], [], [], []
    for s in common.iter_samples(args.data, records, level):
        X.append(mfcc_stats(s.audio))
        labels.append(s.label)
        patients.append(s.patient)
        sides.append(s.split)
        recs.append(s.record)
    out = {
        "X": np.stack(X),
        "label": np.array(labels),
        "patient": np.array(patients),
        "split": np.array(sides),
        "record": np.array(recs),
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def make_model(C: float):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(C=C, kernel="rbf", gamma="scale", class_weight="balanced"))


def run_task(task: str, data: dict, args) -> dict:
    from sklearn.model_selection import StratifiedGroupKFold

    level, names = common.TASKS[task]
    y = np.array([common.label_index(task, l) for l in data["label"]])
    tr = data["split"] == "train"
    va = data["split"] == "val"
    Xtr, ytr, gtr = data["X"][tr], y[tr], data["patient"][tr]
    t0 = time.time()

    # Inner patient-grouped CV on the training part only.
    cv = StratifiedGroupKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    folds = list(cv.split(Xtr, ytr, gtr))
    grid = []
    for C in args.C:
        scores = []
        for a, b in folds:
            m = make_model(C).fit(Xtr[a], ytr[a])
            scores.append(common.biocas(ytr[b], m.predict(Xtr[b]), len(names))["score"])
        grid.append({"C": C, "cv_score_mean": float(np.mean(scores)), "cv_score_std": float(np.std(scores))})
        print(f"  [{task}] C={C:<6g} inner-CV Score {np.mean(scores):.4f} ± {np.std(scores):.4f}", flush=True)
    best = max(grid, key=lambda g: g["cv_score_mean"])

    model = make_model(best["C"]).fit(Xtr, ytr)
    res = common.biocas(y[va], model.predict(data["X"][va]), len(names))
    wall = time.time() - t0
    print(
        f"  [{task}] best C={best['C']:g}: val Score {res['score']:.4f} SE {res['se']:.4f} "
        f"SP {res['sp']:.4f} acc {res['accuracy']:.4f} ({wall:.0f} s)",
        flush=True,
    )
    return {
        "method": "mfcc_svm",
        "task": task,
        "level": level,
        "classes": names,
        "split_file": str(args.split),
        "counts": common.split_summary(data["split"], y, names),
        "n_train": int(tr.sum()),
        "n_val": int(va.sum()),
        "n_train_patients": int(len(set(gtr))),
        "n_val_patients": int(len(set(data["patient"][va]))),
        "features": {"mfcc": MFCC, "deltas": [1, 2], "pooling": ["mean", "std"], "dim": int(data["X"].shape[1])},
        "model": "StandardScaler + SVC(rbf, gamma=scale, class_weight=balanced)",
        "selection": {"inner_cv": f"StratifiedGroupKFold({args.folds}, groups=patient) on train", "grid": grid},
        "best_C": best["C"],
        "val": res,
        "wall_s": wall,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=common.DEFAULT_DATA)
    p.add_argument("--split", type=Path, default=common.DEFAULT_SPLIT)
    p.add_argument("--tasks", nargs="+", default=list(common.TASKS), choices=list(common.TASKS))
    p.add_argument("--C", type=float, nargs="+", default=[0.1, 1.0, 10.0, 100.0])
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    p.add_argument("--out-dir", type=Path, default=common.DEFAULT_RESULTS)
    args = p.parse_args()

    cache = {}
    for task in args.tasks:
        level = common.TASKS[task][0]
        t0 = time.time()
        if level not in cache:
            cache[level] = features(level, args)
        feat_s = time.time() - t0
        r = run_task(task, cache[level], args)
        r["feature_s"] = feat_s
        common.write_results(args.out_dir / f"mfcc_svm_{task}.json", r)


if __name__ == "__main__":
    main()

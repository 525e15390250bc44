#!/usr/bin/env python3
"""Markdown table of a `lungsound cv` folder, including folds still running.

Usage: python3 scripts/bench/cv_table.py runs/cv-sprsound-default

For each fold: the BioCAS Score of the selected epoch on the fold's own patients (from
fold-K/fold.json, on the run's task and the coarser ones), and the Score of the last epoch run
(history.csv), which no selection on the fold chose except where early stopping ended the run.
The selected-epoch column is optimistic: the epoch was picked on those same patients.
"""
import csv
import json
import pathlib
import statistics
import sys


def mean_sd(values):
    if not values:
        return "–"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main(out):
    out = pathlib.Path(out)
    folds = json.loads((out / "folds.json").read_text())
    rows, tasks = [], []
    for k in range(folds["count"]):
        fold_dir = out / f"fold-{k}"
        done = fold_dir / "fold.json"
        history = fold_dir / "history.csv"
        row = {"fold": k, "scores": {}, "last": None, "epochs": 0}
        if done.exists():
            result = json.loads(done.read_text())
            row["n"] = (result["n_recordings"], result["n_patients"])
            for s in result["scores"]:
                row["scores"][s["task"]] = s["score"]
                if s["task"] not in tasks:
                    tasks.append(s["task"])
        if history.exists():
            epochs = list(csv.DictReader(history.open()))
            if epochs:
                row["last"] = float(epochs[-1]["val_score"])
                row["epochs"] = len(epochs)
        rows.append(row)
    print("| fold | recordings / patients | epochs run | " + " | ".join(f"{t} (selected epoch)" for t in tasks) + f" | {tasks[0] if tasks else ''} last epoch |")
    print("|---" * (4 + len(tasks)) + "|")
    for r in rows:
        n = "{} / {}".format(*r["n"]) if "n" in r else ("(running)" if r["epochs"] else "(not started)")
        scores = " | ".join(f"{r['scores'][t]:.3f}" if t in r["scores"] else "–" for t in tasks)
        last = f"{r['last']:.3f}" if r["last"] is not None and "n" in r else "–"
        print(f"| {r['fold']} | {n} | {r['epochs']} | {scores} | {last} |")
    done_rows = [r for r in rows if r["scores"]]
    means = " | ".join(mean_sd([r["scores"][t] for r in done_rows]) for t in tasks)
    last = mean_sd([r["last"] for r in done_rows if r["last"] is not None])
    print(f"| mean ± sd ({len(done_rows)} folds) | | | {means} | {last} |")


if __name__ == "__main__":
    main(sys.argv[1])

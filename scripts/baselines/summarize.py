#!/usr/bin/env python3
"""Prints a Markdown table of the baseline results (scripts/baselines/results/*.json)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import common


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--results", type=Path, default=common.DEFAULT_RESULTS)
    args = p.parse_args()
    rows = []
    for f in sorted(args.results.glob("*.json")):
        r = json.loads(f.read_text())
        v = r["val"]
        if r["method"].startswith("cnn"):
            o = r["optim"]
            how = (
                f"best epoch {r['best_epoch']}/{o['epochs_run']} (last epoch {r['last_epoch_val']['score']:.3f}; "
                f"range {r['val_score_range'][0]:.3f}–{r['val_score_range'][1]:.3f})"
            )
            wall = r["train_wall_s"] + r.get("feature_s", 0.0)
        else:
            how = f"C={r['best_C']:g} (inner patient-grouped CV)"
            wall = r["wall_s"] + r.get("feature_s", 0.0)
        rows.append(
            f"| {r['method']} | {r['task']} | {v['score']:.3f} | {v['se']:.3f} | {v['sp']:.3f} | "
            f"{v['accuracy']:.3f} | {r['n_train']}/{r['n_val']} | {how} | {wall / 60:.1f} min |"
        )
    print("| method | task | Score | SE | SP | acc | train/val samples | selection | wall |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

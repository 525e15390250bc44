#!/usr/bin/env python3
"""Prints a Markdown table of the baseline results (scripts/baselines/results/*.json).

`lungsound_<task>.json` files (`metrics.json` of `lungsound evaluate`, as `run_split.sh` copies them)
are listed too, as method `lungsound`; `<task>` is the file name's rest (e.g. `1-2-gated`).
"""

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
        if f.stem.startswith("lungsound_"):
            b = r["biocas"]
            rows.append(
                f"| lungsound | {f.stem.removeprefix('lungsound_')} | {b['score']:.3f} | {b['sensitivity']:.3f} | "
                f"{b['specificity']:.3f} | {r['accuracy']:.3f} | –/{r['n_samples']} | "
                "the shipped model's settings; epoch with the best val Score | – |"
            )
            continue
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

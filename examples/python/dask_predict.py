"""Classify every recording of a folder (or a list of files) on a Dask cluster.

    python examples/python/dask_predict.py ../shared/data/sprsound/train2022 --model models \\
        --workers 2 --out predictions.csv            # a LocalCluster on this machine
    python examples/python/dask_predict.py FILES... --model models \\
        --scheduler tcp://scheduler:8786 --out predictions.parquet   # an existing cluster

Each worker loads the models once (kept on the worker between tasks) and classifies its share
of the files with ``lungsound.Predictor``: the same answer as ``lungsound predict --json``, one
row per (file, model) with the label, the class probabilities and the duration. A file that
cannot be decoded or classified gets a row with its error instead; nothing is dropped. The
rows are gathered and written to one CSV or Parquet file (by the extension; Parquet needs
pyarrow).

The same pattern (load once per worker, map over partitions of paths, gather rows) is what
Ray (an actor holding the Predictor, ``ActorPool.map``) or Spark (``mapPartitions`` loading it
per partition) would run; see docs/PYTHON.md, "Scaling out".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

AUDIO_SUFFIXES = {".wav", ".flac"}
COLUMNS = [
    "file", "model", "gated_by", "task", "label", "probabilities", "classes",
    "sample_rate", "duration_s", "error", "worker",
]


def recordings(inputs: Sequence[str]) -> List[str]:
    """The audio files of `inputs`: files as given, folders' .wav/.flac files (sorted)."""
    paths: List[str] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            paths += sorted(str(f) for f in p.iterdir() if f.suffix.lower() in AUDIO_SUFFIXES)
        else:
            paths.append(str(p))
    return paths


def worker_predictor(model: str, gate: Optional[str], device: str, torch_threads: int):
    """The Predictor of this worker process, loaded on its first task and kept on the worker."""
    import lungsound

    try:
        from distributed import get_worker

        holder: Any = get_worker()
    except (ImportError, ValueError):  # not inside a distributed worker
        holder = sys.modules[__name__]
    cache: Dict[Any, Any] = holder.__dict__.setdefault("_lungsound_predictors", {})
    key = (model, gate, device)
    if key not in cache:
        lungsound.set_num_threads(torch_threads)
        cache[key] = lungsound.Predictor(model, device, gate=gate)
        holder.__dict__["_lungsound_loads"] = holder.__dict__.get("_lungsound_loads", 0) + 1
    return cache[key]


def classify(paths: Sequence[str], model: str, gate: Optional[str], device: str,
             torch_threads: int) -> List[Dict[str, Any]]:
    """One partition: every file's predictions as rows (errors as rows too)."""
    predictor = worker_predictor(model, gate, device, torch_threads)
    worker = f"{os.uname().nodename}:{os.getpid()}"
    rows: List[Dict[str, Any]] = []
    for path in paths:
        base = dict.fromkeys(COLUMNS)
        base.update(file=path, worker=worker)
        try:
            out = predictor.predict(path)
        except (OSError, ValueError) as e:
            rows.append({**base, "error": str(e)})
            continue
        base.update(sample_rate=out["sample_rate"], duration_s=out["duration_s"])
        for m in out["predictions"]:
            rows.append({
                **base,
                "model": m["model"],
                "gated_by": m.get("gated_by"),
                "task": m["task"],
                "label": m["label"],
                "probabilities": json.dumps(m["probabilities"]),
                "classes": json.dumps(m["classes"]),
            })
        for reason in out.get("skipped_models", []):
            rows.append({**base, "model": reason.split(":", 1)[0], "error": reason})
    return rows


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", help="audio files and/or folders of them")
    ap.add_argument("--model", required=True, help="a run directory or a folder of runs (e.g. models)")
    ap.add_argument("--gate", help="a Normal-vs-abnormal run gating the models it fits")
    ap.add_argument("--out", type=Path, required=True, help="predictions.csv or predictions.parquet")
    ap.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a LocalCluster)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    ap.add_argument("--torch-threads", type=int, default=1, help="libtorch threads per worker")
    ap.add_argument("--partitions", type=int, default=None,
                    help="partitions of the file list [default: 4 per worker]")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N on the workers")
    args = ap.parse_args(argv)

    import dask
    import dask.bag as db
    import pandas as pd
    from distributed import Client, LocalCluster

    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's dynamic
    # mmap threshold: every spectrogram buffer then costs an mmap/munmap, and prediction runs
    # about 40 % slower (BENCHMARKS.md). Leave glibc's default for the workers started here;
    # on an existing cluster, set the same key to null in the workers' Dask config.
    dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})

    paths = recordings(args.inputs)
    if not paths:
        ap.error("no .wav or .flac file in the inputs")
    model = str(Path(args.model).resolve())
    gate = str(Path(args.gate).resolve()) if args.gate else None
    paths = [str(Path(p).resolve()) for p in paths]

    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        n_workers = len(client.scheduler_info()["workers"])
        partitions = args.partitions or max(1, min(len(paths), 4 * n_workers))
        start = time.perf_counter()
        bag = db.from_sequence(paths, npartitions=partitions).map_partitions(
            classify, model, gate, args.device, args.torch_threads)
        rows = bag.compute()
        seconds = time.perf_counter() - start
        loads = client.run(lambda dask_worker: dask_worker.__dict__.get("_lungsound_loads", 0))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    table = pd.DataFrame(rows, columns=COLUMNS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix.lower() == ".parquet":
        table.to_parquet(args.out, index=False)
    else:
        table.to_csv(args.out, index=False)
    errors = int(table["error"].notna().sum())
    print(f"{len(paths)} files on {n_workers} worker(s), {partitions} partitions: "
          f"{seconds:.2f} s, {len(paths) / seconds:.2f} files/s; models loaded "
          f"{sum(loads.values())} time(s) ({', '.join(str(v) for v in loads.values())} per worker)")
    print(f"wrote {args.out}: {len(table)} rows, {errors} with an error")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Mel spectrograms of a folder: lungsound.melspectrogram_batch against a librosa loop.

    python examples/python/bench_batch.py [DIR] [--limit N] [--sr 8000] [--n-jobs N]

Both compute librosa.power_to_db(librosa.feature.melspectrogram(y=librosa.load(f, sr=SR)[0],
sr=SR), ref=np.max) with librosa's defaults (n_fft 2048, hop 512, 128 mels) for every .wav/.flac
in DIR (default ../shared/data/sprsound/train2022, 1949 FLAC at 8 kHz); with --sr 0 (default)
each file keeps its own rate, so neither side resamples. Prints wall times, files per second,
the speed-up, and the largest dB difference between the two.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

import lungsound

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", type=Path, default=ROOT.parent / "shared/data/sprsound/train2022")
    ap.add_argument("--limit", type=int, default=0, help="first N files only (0: all)")
    ap.add_argument("--sr", type=int, default=0, help="resample to this rate (0: native)")
    ap.add_argument("--n-jobs", type=int, default=None, help="lungsound threads (default: all cores)")
    ap.add_argument("--skip-librosa", action="store_true")
    args = ap.parse_args()
    files = sorted(p for p in args.dir.iterdir() if p.suffix.lower() in (".wav", ".flac"))
    if args.limit:
        files = files[: args.limit]
    sr = args.sr or None
    print(f"{len(files)} files from {args.dir}, sr={sr or 'native'}, {os.cpu_count()} cores")

    t0 = time.perf_counter()
    ours = lungsound.melspectrogram_batch(files, sr=sr, to_db=True, n_jobs=args.n_jobs)
    t_ours = time.perf_counter() - t0
    print(f"lungsound.melspectrogram_batch: {t_ours:.2f} s ({len(files) / t_ours:.0f} files/s)")

    if args.skip_librosa:
        return
    import librosa

    t0 = time.perf_counter()
    theirs = []
    for f in files:
        y, rate = librosa.load(f, sr=sr)
        theirs.append(librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=rate), ref=np.max))
    t_lib = time.perf_counter() - t0
    print(f"librosa loop:                   {t_lib:.2f} s ({len(files) / t_lib:.0f} files/s)")
    print(f"speed-up: {t_lib / t_ours:.1f}x")
    if sr is None:
        worst = max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs))
        print(f"largest difference: {worst:.4f} dB")


if __name__ == "__main__":
    main()

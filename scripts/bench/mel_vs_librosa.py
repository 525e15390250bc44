#!/usr/bin/env python3
"""Time librosa mel spectrograms over a folder, optionally against a lungsound command.

librosa side (single process, as a user would write it): for every .flac/.wav under
DATA, `y, sr = librosa.load(path, sr=None)` then
`librosa.feature.melspectrogram(y=y, sr=sr)` (librosa 0.11 defaults: n_fft 2048,
hop 512, 128 Slaney mels), optionally `power_to_db(ref=np.max)` and `np.save`.

lungsound side (--lungsound-cmd): the command is run once untimed (warm-up) and then
timed --repeat times; {data} and {out} in it are replaced by DATA and a fresh output
folder. The ratio printed is librosa time / best lungsound time. With --check, the
.npy files the command wrote (found by file stem) are compared to librosa's.

All files are read once before timing, so both sides start from a warm page cache.
Peak memory (max resident set size, from getrusage) is reported for both sides: for
librosa the whole Python process (interpreter, numpy, librosa and the loop), for the
command the largest of its runs, measured by GNU time (/usr/bin/time -f %M) because a
child's own getrusage figure would include the Python process it was forked from.

Examples (from the repository root):
  .venv-ref/bin/python scripts/bench/mel_vs_librosa.py
  .venv-ref/bin/python scripts/bench/mel_vs_librosa.py --save --check \\
      --lungsound-cmd "/work/targets/features/release/examples/mel_dir {data} {out}"
  .venv-ref/bin/python scripts/bench/mel_vs_librosa.py --save \\
      --lungsound-cmd "lungsound features {data} --kind mel --out {out}"
"""

import argparse
import json
import os
import pathlib
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared/data/sprsound/train2022"


def audio_files(folder: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".wav", ".flac") and p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=pathlib.Path, default=DEFAULT_DATA, help=f"folder (default {DEFAULT_DATA})")
    parser.add_argument("--limit", type=int, help="only the first N files (sorted)")
    parser.add_argument("--db", action="store_true", help="librosa side also applies power_to_db(ref=np.max)")
    parser.add_argument("--save", action="store_true", help="librosa side also np.save()s each result (like the Rust side)")
    parser.add_argument("--lungsound-cmd", help="command to time; {data} and {out} are substituted")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the lungsound command (best is used)")
    parser.add_argument("--check", action="store_true", help="compare the command's .npy outputs with librosa's")
    parser.add_argument("--json", type=pathlib.Path, help="also write the results here")
    args = parser.parse_args()

    files = audio_files(args.data)
    if args.limit:
        files = files[: args.limit]
    if not files:
        print(f"no .wav/.flac files under {args.data}", file=sys.stderr)
        return 2
    data_dir = args.data
    link_dir = None
    if args.limit:
        # The command must see the same subset: link the files into a temp folder.
        link_dir = tempfile.TemporaryDirectory(prefix="mel-bench-data-")
        for f in files:
            os.symlink(f.resolve(), pathlib.Path(link_dir.name) / f.name)
        data_dir = pathlib.Path(link_dir.name)
    for f in files:  # warm the page cache for both sides
        f.read_bytes()

    t_import = time.perf_counter()
    import librosa
    import numpy as np

    import_s = time.perf_counter() - t_import
    # One untimed call so first-call setup (FFT plan caches, lazy imports) is not counted.
    librosa.feature.melspectrogram(y=np.zeros(8000, np.float32), sr=8000)

    save_dir = tempfile.TemporaryDirectory(prefix="mel-bench-librosa-") if (args.save or args.check) else None
    audio_s = 0.0
    c0 = time.process_time()
    t0 = time.perf_counter()
    # Wall time per stage (load = decode, mel = melspectrogram [+ dB], save = np.save):
    # what a lower bound on any pipeline built on the same decoder looks like.
    stage_s = {"load": 0.0, "mel": 0.0, "save": 0.0}
    for f in files:
        ta = time.perf_counter()
        y, sr = librosa.load(f, sr=None)
        tb = time.perf_counter()
        audio_s += y.size / sr
        s = librosa.feature.melspectrogram(y=y, sr=sr)
        if args.db:
            s = librosa.power_to_db(s, ref=np.max)
        tc = time.perf_counter()
        if save_dir is not None:
            np.save(pathlib.Path(save_dir.name) / f"{f.stem}.npy", s)
        td = time.perf_counter()
        stage_s["load"] += tb - ta
        stage_s["mel"] += tc - tb
        stage_s["save"] += td - tc
    librosa_s = time.perf_counter() - t0
    librosa_cpu_s = time.process_time() - c0
    # ru_maxrss is in KiB on Linux.
    librosa_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    result = {
        "files": len(files),
        "audio_min": audio_s / 60,
        "librosa_version": librosa.__version__,
        "numpy_version": np.__version__,
        "librosa_s": librosa_s,
        "librosa_cpu_s": librosa_cpu_s,
        "librosa_import_s": import_s,
        "librosa_saves": bool(save_dir),
        "db": args.db,
        "cpus": os.cpu_count(),
        "librosa_peak_rss_mib": librosa_rss_mib,
        "librosa_stage_s": stage_s,
        "loadavg_start": os.getloadavg(),
    }
    print(f"{len(files)} files, {audio_s / 60:.1f} min of audio, {os.cpu_count()} CPUs")
    print(
        f"librosa {librosa.__version__}: wall {librosa_s:.2f} s ({1000 * librosa_s / len(files):.2f} ms/file), "
        f"cpu {librosa_cpu_s:.2f} s{', with np.save' if save_dir else ''}; import {import_s:.2f} s not counted; "
        f"peak RSS {librosa_rss_mib:.0f} MiB"
    )
    print("librosa stages (wall): " + ", ".join(f"{k} {v:.2f} s" for k, v in stage_s.items()))

    if args.lungsound_cmd:
        times, cpu_times = [], []
        out_dir = tempfile.TemporaryDirectory(prefix="mel-bench-lungsound-")
        cmd = [a.replace("{data}", str(data_dir)).replace("{out}", out_dir.name) for a in shlex.split(args.lungsound_cmd)]
        print("command:", shlex.join(cmd))
        gnu_time = shutil.which("time", path="/usr/bin:/bin")
        rss_file = pathlib.Path(out_dir.name + ".rss")
        wrapped = [gnu_time, "-f", "%M", "-o", str(rss_file), *cmd] if gnu_time else cmd
        cmd_rss_kib = []
        for i in range(args.repeat + 1):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            proc = subprocess.run(wrapped, capture_output=True, text=True)
            elapsed = time.perf_counter() - t
            if gnu_time:
                cmd_rss_kib.append(int(rss_file.read_text().split()[-1]))
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr, sep="\n", file=sys.stderr)
                print(f"command failed with exit code {proc.returncode}", file=sys.stderr)
                return 1
            if i > 0:
                times.append(elapsed)
                cpu_times.append(cpu)
        best = min(times)
        best_cpu = min(cpu_times)
        median = sorted(times)[len(times) // 2]
        # Largest resident set of any run (GNU time's %M, KiB); without GNU time, the
        # children's ru_maxrss, an upper bound that includes this Python process.
        rss_file.unlink(missing_ok=True)
        cmd_rss_mib = (max(cmd_rss_kib) if cmd_rss_kib else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        print(
            f"lungsound: wall best {best:.3f} s of {args.repeat} ({', '.join(f'{t:.3f}' for t in times)}), "
            f"cpu best {best_cpu:.3f} s, after 1 warm-up; peak RSS {cmd_rss_mib:.0f} MiB"
        )
        last = proc.stdout.strip().splitlines()
        for line in last[-2:]:
            print("  |", line)
        print(
            f"ratio librosa / lungsound: wall {librosa_s / best:.1f}x (best run; {librosa_s / median:.1f}x median run), "
            f"cpu {librosa_cpu_s / best_cpu:.1f}x"
        )
        result.update(
            {
                "command": shlex.join(cmd),
                "lungsound_s": times,
                "lungsound_cpu_s": cpu_times,
                "ratio": librosa_s / best,
                "cpu_ratio": librosa_cpu_s / best_cpu,
                "median_ratio": librosa_s / median,
                "lungsound_peak_rss_mib": cmd_rss_mib,
            }
        )

        if args.check:
            ours = {p.stem: p for p in pathlib.Path(out_dir.name).rglob("*.npy")}
            worst_rel, worst_db, missing, checked = 0.0, 0.0, 0, 0
            for f in files:
                if f.stem not in ours:
                    missing += 1
                    continue
                a = np.load(ours[f.stem]).astype(np.float64)
                b = np.load(pathlib.Path(save_dir.name) / f"{f.stem}.npy").astype(np.float64)
                if a.shape != b.shape:
                    print(f"{f.name}: shape {a.shape} != librosa {b.shape}", file=sys.stderr)
                    return 1
                checked += 1
                if args.db:
                    worst_db = max(worst_db, float(np.abs(a - b).max()))
                else:
                    # Relative error with a floor at 1e-6 of the spectrogram's peak (see librosa_parity.rs).
                    denom = np.maximum(np.abs(b), 1e-6 * np.abs(b).max() + np.finfo(np.float64).tiny)
                    worst_rel = max(worst_rel, float((np.abs(a - b) / denom).max()))
            what = f"max |dB diff| {worst_db:.2e}" if args.db else f"max relative error {worst_rel:.2e}"
            print(f"check: {checked} files compared, {missing} missing, {what}")
            result.update({"checked": checked, "missing": missing, "max_rel_err": worst_rel, "max_db_err": worst_db})

    result["loadavg_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

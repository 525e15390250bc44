"""lungsound from Python in one page: audio, a mel spectrogram plot, a dataset in pandas, a model's predictions and their scores.

    pip install target/wheels/lungsound-*.whl matplotlib pandas   # torch 2.13 comes with it
    python examples/python/quickstart.py [--wav FILE] [--data DIR] [--out DIR]

Defaults: a WAV straight from the SPRSound release (../shared/data/sprsound/train2022_release_wav)
and the train2022 folder when they exist, else the two recordings in samples/.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import lungsound

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "sprsound"


def default_wav() -> Path:
    release = sorted((SHARED / "train2022_release_wav").glob("*.wav"))
    return release[0] if release else sorted((ROOT / "samples").glob("*.flac"))[0]


def default_data() -> Path:
    return SHARED / "train2022" if (SHARED / "train2022").is_dir() else ROOT / "samples"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wav", type=Path, default=None, help="a WAV or FLAC recording")
    ap.add_argument("--data", type=Path, default=None, help="a dataset folder (SPRSound, ICBHI, plain)")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "quickstart")
    ap.add_argument("--max-recordings", type=int, default=40, help="recordings to predict")
    args = ap.parse_args()
    wav = args.wav or default_wav()
    data = args.data or default_data()
    args.out.mkdir(parents=True, exist_ok=True)

    # 1. Audio and a mel spectrogram, librosa's way (same names, same numbers).
    y, sr = lungsound.load(wav)  # native rate; sr=4000 would resample
    S = lungsound.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=256, n_mels=64)
    S_db = lungsound.power_to_db(S, ref=np.max)
    print(f"{wav.name}: {len(y) / sr:.2f} s at {sr} Hz -> mel {S_db.shape}")

    fig, ax = plt.subplots(figsize=(8, 3))
    img = ax.imshow(S_db, origin="lower", aspect="auto", cmap="magma",
                    extent=[0, len(y) / sr, 0, S_db.shape[0]])
    ax.set(xlabel="time (s)", ylabel="mel band", title=wav.name)
    fig.colorbar(img, ax=ax, format="%+.0f dB")
    png = args.out / "mel.png"
    fig.savefig(png, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {png}")

    # 2. A dataset as pandas tables.
    ds = lungsound.datasets.load(data)
    recordings = pd.DataFrame(ds.recordings)
    events = pd.DataFrame(ds.events)
    print(ds)
    print(recordings.groupby("split")["record_label"].value_counts().unstack(fill_value=0))
    if ds.issues:
        print(pd.DataFrame(ds.issues)[["severity", "path", "message"]].head())

    # 3. Predictions of a shipped model, on patients it never saw (the validation split of
    #    its own training run), scored with the challenge's rule (a missing prediction is wrong).
    model_dir = ROOT / "models" / "sprsound-events-1-2"
    predictor = lungsound.Predictor(model_dir, device="cpu")
    print(predictor)
    val = recordings[(recordings["split"] == "val") & (recordings["n_events"] > 0)]
    if val.empty:  # a folder without a split: take what is there
        val = recordings[recordings["n_events"] > 0]
    y_true, y_pred = [], []
    for rec in val.head(args.max_recordings).itertuples():
        spans = [(start, end) for start, end, _ in rec.events]
        out = predictor.predict(rec.audio_path, events=spans)
        events_out = out["predictions"][0]["events"]
        y_true += [label for _, _, label in rec.events]
        y_pred += [e["label"] for e in events_out]
    for task in ("1-1", "1-2"):
        s = lungsound.score(task, y_true, y_pred)
        print(f"task {task}: SE {s['SE']:.3f} SP {s['SP']:.3f} Score {s['Score']:.3f} "
              f"(ICBHI {s['ICBHI']:.3f}) on {s['n']} events of {min(len(val), args.max_recordings)} recordings")

if __name__ == "__main__":
    main()

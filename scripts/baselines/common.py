"""Shared pieces of the SPRSound baselines: data, split, segmentation, BioCAS score, results.

Everything here is deliberately plain so that the baselines are easy to audit:

* **Split**: read from the CSV written by the Rust example `export_split`
  (`record,patient,split`), i.e. exactly the patient-wise split
  `lungsound_datasets::patient_split` gives the Rust training.
* **Audio**: soundfile, float32 in [-1, 1], mono, 8 kHz (resampled with librosa
  only if a file is not 8 kHz; SPRSound train2022 always is).
* **Events** (tasks 1-1, 1-2): every annotated event of every record in the
  split. Times are in ms (numbers may be strings, events may be unsorted). An
  event ending at most 50 ms past the audio is clipped to it, a later one is
  skipped and counted (the Rust segmenter does the same). `event_audio` returns
  the event's own samples; fixed-length inputs are made with `fit_length`
  (crop from the event's start or zero-pad at the end).
* **Records** (tasks 2-1, 2-2): the whole recording, Poor Quality included.
  Fixed-length inputs are a centre crop (or zero-padded end) of the recording,
  see `fit_length(..., where="centre")`.
* **BioCAS score**: SP = correct Normal / all Normal; SE = non-Normal samples
  predicted with their exact class / all non-Normal (Poor Quality on the SE
  side); AS = (SE+SP)/2; HS = 2·SE·SP/(SE+SP) (0 if SE+SP = 0);
  Score = (AS+HS)/2. Ratios with a zero denominator are 0, as in
  `lungsound_eval::BiocasScore`.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 8000
END_TOLERANCE_S = 0.05
HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1].parent / "shared" / "data" / "sprsound" / "train2022"
DEFAULT_SPLIT = HERE / "splits" / "sprsound-train2022-seed2022-val0.2.csv"
DEFAULT_RESULTS = HERE / "results"
DEFAULT_CACHE = Path(os.environ.get("LUNGSOUND_BASELINE_CACHE", "/tmp/lungsound-baselines-cache"))

EVENT_TYPES = ["Normal", "Rhonchi", "Wheeze", "Stridor", "Coarse Crackle", "Fine Crackle", "Wheeze+Crackle"]
RECORD_LABELS = ["Normal", "CAS", "DAS", "CAS & DAS", "Poor Quality"]

# task -> (level, class names); Normal is class 0 everywhere.
TASKS = {
    "1-1": ("event", ["Normal", "Adventitious"]),
    "1-2": ("event", EVENT_TYPES),
    "2-1": ("record", ["Normal", "Poor Quality", "Adventitious"]),
    "2-2": ("record", RECORD_LABELS),
}


def _norm(s: str) -> str:
    """Lenient label key: case, `_`/`-`, and spaces around `&`/`+` do not matter."""
    s = str(s).strip().lower().replace("_", " ").replace("-", " ")
    for sym in "&+":
        s = s.replace(f" {sym}", sym).replace(f"{sym} ", sym)
    return " ".join(s.split())


_EVENT_KEYS = {_norm(t): t for t in EVENT_TYPES}
_RECORD_KEYS = {_norm(t): t for t in RECORD_LABELS}


def label_index(task: str, label: str) -> int:
    """Class index of an event type (1-1, 1-2) or record label (2-1, 2-2) for `task`."""
    level, names = TASKS[task]
    if task == "1-1":
        return 0 if label == "Normal" else 1
    if task == "2-1":
        return {"Normal": 0, "Poor Quality": 1}.get(label, 2)
    return names.index(label)


@dataclass
class Record:
    """One recording with its annotation and split side."""

    id: str
    patient: str
    split: str  # "train" | "val"
    label: str  # canonical record label
    events: list[tuple[float, float, str]] = field(default_factory=list)  # (start_s, end_s, type), sorted


def read_split(path: Path) -> list[tuple[str, str, str]]:
    """(record, patient, split) rows of a split CSV, in file order."""
    with open(path, newline="") as f:
        rows = [(r["record"], r["patient"], r["split"]) for r in csv.DictReader(f)]
    bad = {s for _, _, s in rows} - {"train", "val"}
    if bad:
        raise ValueError(f"{path}: unexpected split values {sorted(bad)}")
    return rows


def read_annotation(path: Path) -> tuple[str, list[tuple[float, float, str]]]:
    """Record label and events (seconds, sorted by start) of an SPRSound JSON file."""
    with open(path) as f:
        a = json.load(f)
    raw = a.get("record_annotation", a.get("recording_annotation"))
    if raw is None or _norm(raw) not in _RECORD_KEYS:
        raise ValueError(f"{path}: bad record label {raw!r}")
    events = []
    for e in a.get("event_annotation") or []:
        t = _EVENT_KEYS.get(_norm(e["type"]))
        if t is None:
            raise ValueError(f"{path}: bad event type {e['type']!r}")
        events.append((float(e["start"]) / 1000.0, float(e["end"]) / 1000.0, t))
    events.sort(key=lambda x: (x[0], x[1]))
    return _RECORD_KEYS[_norm(raw)], events


def load_records(data_dir: Path, split_csv: Path) -> list[Record]:
    """The records of the split CSV (its order), with their annotations."""
    out = []
    for rec, patient, side in read_split(split_csv):
        label, events = read_annotation(data_dir / f"{rec}.json")
        if rec.split("_")[0] != patient:
            raise ValueError(f"{rec}: patient {patient} in the split file disagrees with the name")
        out.append(Record(rec, patient, side, label, events))
    return out


def load_audio(path: Path) -> np.ndarray:
    """Mono float32 samples at SAMPLE_RATE."""
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sr != SAMPLE_RATE:
        import librosa

        x = librosa.resample(x, orig_sr=sr, target_sr=SAMPLE_RATE)
    return np.ascontiguousarray(x, dtype=np.float32)


def audio_path(data_dir: Path, rec_id: str) -> Path:
    for ext in (".flac", ".wav", ".FLAC", ".WAV"):
        p = data_dir / f"{rec_id}{ext}"
        if p.exists():
            return p
    raise FileNotFoundError(f"no audio for {rec_id} in {data_dir}")


def event_audio(x: np.ndarray, start_s: float, end_s: float) -> np.ndarray | None:
    """The event's samples; None when it ends more than END_TOLERANCE_S past the audio."""
    dur = len(x) / SAMPLE_RATE
    if end_s > dur + END_TOLERANCE_S or start_s >= dur or end_s <= start_s:
        return None
    a = int(round(start_s * SAMPLE_RATE))
    b = min(int(round(end_s * SAMPLE_RATE)), len(x))
    return x[a:b] if b > a else None


def fit_length(x: np.ndarray, n: int, where: str = "start") -> np.ndarray:
    """Crop to `n` samples (from the start, or the centre with where="centre") or zero-pad at the end."""
    if len(x) >= n:
        a = (len(x) - n) // 2 if where == "centre" else 0
        return x[a : a + n]
    return np.pad(x, (0, n - len(x)))


@dataclass
class Sample:
    """One classification sample: an event clip or a whole record."""

    record: str
    patient: str
    split: str
    label: str  # event type (event level) or record label (record level)
    audio: np.ndarray


def iter_samples(data_dir: Path, records: list[Record], level: str, log=print):
    """Yields the Samples of `level` ("event" or "record") record by record."""
    skipped = 0
    for i, r in enumerate(records):
        if i % 200 == 0:
            log(f"  audio {i}/{len(records)}")
        x = load_audio(audio_path(data_dir, r.id))
        if level == "record":
            yield Sample(r.id, r.patient, r.split, r.label, x)
            continue
        for start, end, t in r.events:
            clip = event_audio(x, start, end)
            if clip is None:
                skipped += 1
                continue
            yield Sample(r.id, r.patient, r.split, t, clip)
    if skipped:
        log(f"  skipped {skipped} events ending more than {END_TOLERANCE_S} s past their audio")


def biocas(y_true, y_pred, n_classes: int, normal: int = 0) -> dict:
    """BioCAS SE/SP/AS/HS/Score, accuracy and the confusion matrix (rows = true)."""
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    cm = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    ab = [c for c in range(n_classes) if c != normal]
    n_ab = int(cm[ab].sum())
    se = float(sum(cm[c, c] for c in ab)) / n_ab if n_ab else 0.0
    n_norm = int(cm[normal].sum())
    sp = float(cm[normal, normal]) / n_norm if n_norm else 0.0
    as_ = (se + sp) / 2
    hs = 2 * se * sp / (se + sp) if se + sp > 0 else 0.0
    total = int(cm.sum())
    return {
        "score": (as_ + hs) / 2,
        "se": se,
        "sp": sp,
        "as": as_,
        "hs": hs,
        "accuracy": float(np.trace(cm)) / total if total else 0.0,
        "n": total,
        "confusion": cm.tolist(),
    }


def environment() -> dict:
    import sklearn
    import librosa

    env = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "librosa": librosa.__version__,
        "sklearn": sklearn.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    try:
        import torch

        env["torch"] = torch.__version__
    except ImportError:
        pass
    return env


def write_results(path: Path, result: dict) -> None:
    """Writes `result` (plus the command line, time and environment) as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result = dict(result)
    result.setdefault("command", " ".join([Path(sys.executable).name] + sys.argv))
    result.setdefault("finished", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    result.setdefault("environment", environment())
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


def split_summary(split: list[str], y: np.ndarray, names: list[str]) -> dict:
    """Per-side class counts."""
    split = np.asarray(split)
    return {
        side: {names[c]: int(((split == side) & (y == c)).sum()) for c in range(len(names))}
        for side in ("train", "val")
    }

#!/usr/bin/env python3
"""Plain PyTorch log-mel CNN baseline for the four SPRSound BioCAS tasks, patient-wise validation.

Input (librosa 0.11, 8 kHz): log-mel spectrogram, n_fft 512, hop 128, 64 mel bands from 50 Hz to
4 kHz, power_to_db(ref=max, top_db=80), standardised per mel band with the training part's mean
and std. Events (1-1, 1-2): the event cropped from its start or zero-padded to 3 s (64x188).
Records (2-1, 2-2): a centre crop of 8 s of the recording, zero-padded if shorter (64x501).

Network: 4 x [conv3x3 - BatchNorm - ReLU - maxpool 2x2] with 32-64-128-256 channels, global
average pool, linear. Adam (lr 1e-3), batch 32, unweighted cross-entropy (`--class-weights` for
inverse-frequency weights), fixed number of epochs, no augmentation, no early stopping.

Model selection: the epoch with the best validation BioCAS Score is reported (this is what the
reference baseline does; it is optimistic because validation picks the epoch). The last epoch's
Score is reported beside it.

    .venv-baselines/bin/python scripts/baselines/cnn_pytorch.py --task 1-1 --epochs 15
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

import common

MEL = dict(n_fft=512, hop_length=128, n_mels=64, fmin=50.0, fmax=4000.0)
CLIP_S = {"event": 3.0, "record": 8.0}


def logmel(x: np.ndarray) -> np.ndarray:
    import librosa

    m = librosa.feature.melspectrogram(y=x, sr=common.SAMPLE_RATE, **MEL)
    return librosa.power_to_db(m, ref=np.max, top_db=80.0).astype(np.float32)


def features(level: str, args) -> dict:
    """Fixed-length log-mel spectrograms of every sample of `level`, cached on disk (float16)."""
    key = hashlib.sha1(
        json.dumps(
            [level, MEL, CLIP_S[level], str(args.data), hashlib.sha1(args.split.read_bytes()).hexdigest()]
        ).encode()
    ).hexdigest()[:12]
    cache = args.cache_dir / f"logmel-{level}-{key}.npz"
    if cache.exists():
        z = np.load(cache)
        return {k: z[k] for k in z.files}
    print(f"[{level}] computing log-mel spectrograms -> {cache}", flush=True)
    n = int(round(CLIP_S[level] * common.SAMPLE_RATE))
    where = "centre" if level == "record" else "start"
    records = common.load_records(args.data, args.split)
    X, labels, patients, sides, recs = [], [], [], [], []
    for s in common.iter_samples(args.data, records, level):
        X.append(logmel(common.fit_length(s.audio, n, where)).astype(np.float16))
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


class PlainCNN(nn.Module):
    """4 x (conv3x3-BN-ReLU-maxpool), 32-64-128-256, global average pool, linear."""

    def __init__(self, n_classes: int, channels=(32, 64, 128, 256)):
        super().__init__()
        layers, cin = [], 1
        for c in channels:
            layers += [
                nn.Conv2d(cin, c, 3, padding=1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            cin = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, n_classes)

    def forward(self, x):  # x: [B, 1, n_mels, n_frames]
        return self.head(self.features(x).mean(dim=(2, 3)))


@torch.no_grad()
def predict(model, X: torch.Tensor, batch: int = 128) -> np.ndarray:
    model.eval()
    return np.concatenate([model(X[i : i + batch]).argmax(1).numpy() for i in range(0, len(X), batch)])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, choices=list(common.TASKS))
    p.add_argument("--data", type=Path, default=common.DEFAULT_DATA)
    p.add_argument("--split", type=Path, default=common.DEFAULT_SPLIT)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--n-mels", type=int, default=MEL["n_mels"])
    p.add_argument("--hop-length", type=int, default=MEL["hop_length"], help="samples at 8 kHz")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--class-weights", action="store_true", help="inverse-frequency weighted cross-entropy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this")
    p.add_argument("--cache-dir", type=Path, default=common.DEFAULT_CACHE)
    p.add_argument("--out-dir", type=Path, default=common.DEFAULT_RESULTS)
    args = p.parse_args()
    MEL.update(n_mels=args.n_mels, hop_length=args.hop_length)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    level, names = common.TASKS[args.task]
    t0 = time.time()
    data = features(level, args)
    feature_s = time.time() - t0
    y = np.array([common.label_index(args.task, l) for l in data["label"]])
    tr, va = data["split"] == "train", data["split"] == "val"
    Xtr = data["X"][tr].astype(np.float32)
    mean = Xtr.mean(axis=(0, 2), keepdims=True)
    std = Xtr.std(axis=(0, 2), keepdims=True) + 1e-6
    Xtr = torch.from_numpy((Xtr - mean) / std).unsqueeze(1)
    Xva = torch.from_numpy((data["X"][va].astype(np.float32) - mean) / std).unsqueeze(1)
    ytr, yva = torch.from_numpy(y[tr]), y[va]
    k = len(names)
    counts = np.bincount(y[tr], minlength=k)
    weight = None
    if args.class_weights:
        weight = torch.tensor(len(ytr) / (k * np.maximum(counts, 1)), dtype=torch.float32)
    print(
        f"[{args.task}] train {len(ytr)} / val {len(yva)} samples, input {tuple(Xtr.shape[1:])}, "
        f"train counts {dict(zip(names, counts.tolist()))}",
        flush=True,
    )

    # channels_last is only a memory layout (about 25 % faster convolutions on this CPU).
    model = PlainCNN(k).to(memory_format=torch.channels_last)
    Xtr = Xtr.contiguous(memory_format=torch.channels_last)
    Xva = Xva.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    gen = torch.Generator().manual_seed(args.seed)
    history, best = [], None
    t_train = time.time()
    for epoch in range(1, args.epochs + 1):
        te = time.time()
        model.train()
        perm = torch.randperm(len(ytr), generator=gen)
        total, correct, n = 0.0, 0, 0
        for i in range(0, len(perm), args.batch_size):
            idx = perm[i : i + args.batch_size]
            xb, yb = Xtr[idx], ytr[idx]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += int((out.argmax(1) == yb).sum())
            n += len(idx)
        train_s = time.time() - te
        res = common.biocas(yva, predict(model, Xva), k)
        h = {
            "epoch": epoch,
            "train_loss": total / n,
            "train_acc": correct / n,
            **{f"val_{m}": res[m] for m in ("score", "se", "sp", "accuracy")},
            "train_s": train_s,
            "epoch_s": time.time() - te,
        }
        history.append(h)
        if best is None or res["score"] > best[1]["score"]:
            best = (epoch, res)
        print(
            f"  [{args.task}] epoch {epoch:2d} loss {h['train_loss']:.4f} train acc {h['train_acc']:.3f} | "
            f"val Score {res['score']:.4f} SE {res['se']:.4f} SP {res['sp']:.4f} acc {res['accuracy']:.4f} "
            f"| {h['epoch_s']:.0f} s",
            flush=True,
        )
        if args.max_minutes is not None and time.time() - t_train > 60 * args.max_minutes:
            print(f"  [{args.task}] stopping: past --max-minutes {args.max_minutes}", flush=True)
            break

    scores = [h["val_score"] for h in history]
    result = {
        "method": "cnn_pytorch" + ("_cw" if args.class_weights else ""),
        "task": args.task,
        "level": level,
        "classes": names,
        "split_file": str(args.split),
        "counts": common.split_summary(data["split"], y, names),
        "n_train": int(tr.sum()),
        "n_val": int(va.sum()),
        "input": {"mel": MEL, "clip_s": CLIP_S[level], "shape": list(Xtr.shape[2:]),
                  "fit": "centre crop / zero-pad" if level == "record" else "crop from start / zero-pad",
                  "db": "power_to_db(ref=max, top_db=80)", "norm": "per-mel-band mean/std of train"},
        "model": "PlainCNN 4x[conv3x3-BN-ReLU-maxpool2] 32-64-128-256, GAP, linear",
        "n_params": sum(p_.numel() for p_ in model.parameters()),
        "optim": {"adam_lr": args.lr, "batch_size": args.batch_size, "class_weights": args.class_weights,
                  "epochs_requested": args.epochs, "epochs_run": len(history), "seed": args.seed,
                  "threads": args.threads},
        "selection": "best validation Score over epochs (optimistic)",
        "best_epoch": best[0],
        "val": best[1],
        "last_epoch_val": common.biocas(yva, predict(model, Xva), k),
        "val_score_range": [min(scores), max(scores)],
        "history": history,
        "feature_s": feature_s,
        "train_wall_s": time.time() - t_train,
    }
    print(
        f"[{args.task}] best epoch {best[0]}: Score {best[1]['score']:.4f} SE {best[1]['se']:.4f} "
        f"SP {best[1]['sp']:.4f} acc {best[1]['accuracy']:.4f}; last epoch Score "
        f"{result['last_epoch_val']['score']:.4f}; {result['train_wall_s']:.0f} s training",
        flush=True,
    )
    suffix = "_cw" if args.class_weights else ""
    common.write_results(args.out_dir / f"cnn_pytorch{suffix}_{args.task}.json", result)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch side of the training-step / inference benchmark (issue 4, "Speed").

The same networks as `crates/models` builds them, on the same random inputs and
with the same loop as `crates/train/examples/train_step.rs`:

- small-cnn (crates/models/src/small_cnn.rs): four blocks `conv3x3 -> max pool 2x2
  -> BN -> ReLU` with widths 32-64-128-256 x width multiplier (rounded, >= 4); the
  last block starts with `conv3x3 -> BN -> ReLU`; the head pools frequency to 4
  bands and time by mean and max, then dropout 0.3 and one linear layer.
- resnet18 (crates/models/src/resnet.rs): torchvision's ResNet-18 with 1 input
  channel, dropout 0.3 before `fc` (written out here: torchvision is not needed).

One training step = zero_grad, forward in train mode, the soft-target weighted
cross-entropy of `lungsound_train::data::batch::weighted_cross_entropy` (one-hot
targets, class weights 1), backward, `torch.optim.AdamW(lr=1e-3,
weight_decay=1e-2)` (betas and eps at their defaults, as the Rust optimizer), and
`loss.item()`. One inference batch = eval mode, `torch.no_grad()`, forward.
7 classes, batch of `torch.randn`, labels `i % 7`, 2 warm-up iterations of each.

  .venv-baselines/bin/python scripts/bench/train_step_vs_pytorch.py \\
      --arch small-cnn --input 64x126 --batch 64 --threads 2 --steps 10 --width 0.5 --mode both

`--json` prints one JSON line with every timing (for scripts/bench/train_step.sh).
Like the Rust side, it also records each step's CPU time, all threads, read from
/proc/self/task/*/schedstat.
`--check-against DIR` (DIR written by `train_step --export DIR` with the same
arch/width/input/batch) loads the Rust model's weights into the replica by name
and compares one eval-mode forward pass on the same input: the replica must
compute the same function, not only have the same parameter count.
"""

import argparse
import json
import pathlib
import struct
import sys
import time

import numpy as np

import torch
import torch.nn.functional as F
from torch import nn

FREQ_BANDS = 4
WIDTHS = (32, 64, 128, 256)
N_CLASSES = 7
DROPOUT = 0.3  # ModelConfig::default().dropout


class SmallCnnBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, double: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.1)
        self.double = double
        if double:
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.1)

    def forward(self, x):
        if not self.double:
            return F.relu(self.bn1(F.max_pool2d(self.conv1(x), 2, 2)))
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(F.max_pool2d(self.conv2(y), 2, 2)))


def freq_band_pool(x):
    bands = F.adaptive_avg_pool2d(x, (FREQ_BANDS, x.shape[3]))  # [B, C, bands, T]
    # max with indices, as the Rust side's `max_dim` (not the cheaper `amax`).
    return torch.cat([bands.mean(3), bands.max(3).values], 1).flatten(1)


class SmallCnn(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, width: float):
        super().__init__()
        widths = [max(4, round(w * width)) for w in WIDTHS]
        blocks, c_in = [], in_channels
        for i, c_out in enumerate(widths):
            blocks.append(SmallCnnBlock(c_in, c_out, i == len(widths) - 1))
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(DROPOUT)
        self.fc = nn.Linear(2 * c_in * FREQ_BANDS, num_classes)

    def forward(self, x):
        return self.fc(self.dropout(freq_band_pool(self.blocks(x))))


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(y + shortcut)


class ResNet18(nn.Module):
    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)

        def layer(c_in, c_out, stride):
            return nn.Sequential(BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out, 1))

        self.layer1 = layer(64, 64, 1)
        self.layer2 = layer(64, 128, 2)
        self.layer3 = layer(128, 256, 2)
        self.layer4 = layer(256, 512, 2)
        self.dropout = nn.Dropout(DROPOUT)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(self.dropout(x))


def weighted_cross_entropy(logits, targets, weights):
    """lungsound_train::data::batch::weighted_cross_entropy, op for op."""
    log_p = logits.log_softmax(-1)
    per_sample = -(targets * log_p).sum(-1)
    sample_w = (targets * weights.unsqueeze(0)).sum(-1)
    return (per_sample * sample_w).sum() / sample_w.sum().clamp_min(1e-12)


def cpu_seconds() -> float:
    """CPU time of all threads of this process, as train_step.rs reads it (0 where unavailable)."""
    try:
        tasks = list(pathlib.Path("/proc/self/task").iterdir())
    except OSError:
        return 0.0
    total = 0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total * 1e-9


def read_safetensors(path: pathlib.Path) -> dict:
    """A safetensors file as {name: float32 tensor} (the format is tiny; no package needed)."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} has dtype {info['dtype']}, expected F32")
        a, b = info["data_offsets"]
        data = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(data.copy())
    return out


def check_against(net: nn.Module, folder: pathlib.Path) -> int:
    weights = read_safetensors(folder / "weights.safetensors")
    result = net.load_state_dict(weights, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        print(f"check: names differ: missing {missing}, unexpected {result.unexpected_keys}", file=sys.stderr)
        return 1
    io = read_safetensors(folder / "io.safetensors")
    net.eval()
    with torch.no_grad():
        ours = net(io["input"])
    diff = (ours - io["logits"]).abs().max().item()
    scale = io["logits"].abs().max().item()
    ok = diff <= 1e-4 * max(1.0, scale)
    params = sum(p.numel() for p in net.parameters())
    print(f"{params} params (PyTorch); check: {len(weights)} tensors loaded by name, max |logit diff| {diff:.2e} (max |logit| {scale:.2e}): {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="small-cnn", choices=["small-cnn", "resnet18"])
    parser.add_argument("--input", default="64x188", help="HxW")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--width", type=float, default=1.0, help="small-cnn width multiplier")
    parser.add_argument("--mode", default="train", choices=["train", "infer", "both"])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--check-against", type=pathlib.Path, metavar="DIR", help="compare with `train_step --export DIR`")
    args = parser.parse_args()
    h, w = (int(v) for v in args.input.split("x"))

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.arch == "small-cnn":
        net = SmallCnn(1, N_CLASSES, args.width)
    else:
        net = ResNet18(1, N_CLASSES)
    if args.check_against:
        return check_against(net, args.check_against)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    x = torch.randn(args.batch, 1, h, w)
    labels = torch.arange(args.batch) % N_CLASSES
    targets = F.one_hot(labels, N_CLASSES).float()
    weights = torch.ones(N_CLASSES)

    train_ms, infer_ms, train_cpu_ms, infer_cpu_ms, opt_ms = [], [], [], [], []
    if args.mode in ("train", "both"):
        net.train()
        for step in range(args.steps + 2):
            t, c = time.perf_counter(), cpu_seconds()
            opt.zero_grad()
            loss = weighted_cross_entropy(net(x), targets, weights)
            loss.backward()
            t_opt = time.perf_counter()
            opt.step()
            t_opt = (time.perf_counter() - t_opt) * 1e3
            loss.item()
            if step >= 2:
                opt_ms.append(t_opt)
                train_ms.append((time.perf_counter() - t) * 1e3)
                train_cpu_ms.append((cpu_seconds() - c) * 1e3)
    if args.mode in ("infer", "both"):
        net.eval()
        for step in range(args.steps + 2):
            t, c = time.perf_counter(), cpu_seconds()
            with torch.no_grad():
                logits = net(x)
            logits[0, 0].item()
            if step >= 2:
                infer_ms.append((time.perf_counter() - t) * 1e3)
                infer_cpu_ms.append((cpu_seconds() - c) * 1e3)

    what = f"{args.arch} input {h}x{w} batch {args.batch} threads {args.threads} width {args.width:g}"
    params = sum(p.numel() for p in net.parameters())
    if args.json:
        print(
            json.dumps(
                {
                    "impl": "pytorch",
                    "what": what,
                    "params": params,
                    "threads": torch.get_num_threads(),
                    "torch": torch.__version__,
                    "train_ms": [round(t, 3) for t in train_ms],
                    "infer_ms": [round(t, 3) for t in infer_ms],
                    "train_cpu_ms": [round(t, 3) for t in train_cpu_ms],
                    "infer_cpu_ms": [round(t, 3) for t in infer_cpu_ms],
                    "opt_ms": [round(t, 3) for t in opt_ms],
                }
            )
        )
        return 0
    print(f"pytorch {torch.__version__} {what}: {params} params")
    for name, times, cpu in (("train step", train_ms, train_cpu_ms), ("inference batch", infer_ms, infer_cpu_ms)):
        if times:
            times, cpu = sorted(times), sorted(cpu)
            print(
                f"  {name}: median {times[len(times) // 2]:.1f} ms, mean {sum(times) / len(times):.1f} ms, "
                f"median CPU {cpu[len(cpu) // 2]:.1f} ms ({len(times)} timed)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

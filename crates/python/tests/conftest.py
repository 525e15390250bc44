"""Shared paths and helpers for the lungsound Python tests.

Tests that need ``../shared/data`` (beside the project root) skip when it is absent,
like the Rust tests do; LUNGSOUND_SHARED_DATA points elsewhere.
"""

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("LUNGSOUND_SHARED_DATA", ROOT.parent / "shared" / "data"))
TRAIN2022 = SHARED / "sprsound" / "train2022"
RELEASE_WAV = SHARED / "sprsound" / "train2022_release_wav"

# The tolerances of crates/features/tests/librosa_parity.rs.
VALUE_RTOL = 1e-4
VALUE_FLOOR = 1e-6
DB_ATOL = 0.01


def rel_err(ours, want):
    """max |ours - want| / max(|want|, 1e-6 * max|want|), as librosa_parity.rs measures it."""
    ours = np.asarray(ours, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert ours.shape == want.shape
    floor = VALUE_FLOOR * np.abs(want).max()
    return float((np.abs(ours - want) / np.maximum(np.abs(want), floor)).max())


def db_err(ours, want):
    ours = np.asarray(ours, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert ours.shape == want.shape
    return float(np.abs(ours - want).max())


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (shared data not available)")
    return path


@pytest.fixture
def release_wavs():
    d = need(RELEASE_WAV)
    wavs = sorted(d.glob("*.wav"))
    if not wavs:
        pytest.skip(f"no WAV in {d}")
    return wavs


@pytest.fixture
def train_flacs():
    d = need(TRAIN2022)
    flacs = sorted(d.glob("*.flac"))
    if not flacs:
        pytest.skip(f"no FLAC in {d}")
    return flacs

"""lungsound from Python: the Rust engine of the ``lungsound`` command line.

Audio and features follow librosa 0.11 (argument names, defaults, float32 numpy arrays in and
out, and the same numbers within 1e-4 relative / 0.01 dB)::

    import lungsound
    y, sr = lungsound.load("recording.wav")               # native rate, mono float32
    S = lungsound.melspectrogram(y=y, sr=sr, n_mels=64)    # librosa.feature.melspectrogram
    S_db = lungsound.power_to_db(S, ref=np.max)            # librosa.power_to_db

    # Many files at once, decoded and computed in parallel in Rust (the GIL is released):
    mels = lungsound.melspectrogram_batch(paths, sr=8000, to_db=True)

Datasets and scores::

    ds = lungsound.datasets.load("../shared/data/sprsound/train2022")
    df = pd.DataFrame(ds.recordings)        # one row per recording
    ev = pd.DataFrame(ds.events)            # one row per annotated event
    lungsound.score("1-2", y_true, y_pred)  # {'SE', 'SP', 'AS', 'HS', 'Score', 'ICBHI', ...}

Prediction with trained runs (the shipped ``models/`` folder, or your own ``lungsound train``
runs), the same answer as ``lungsound predict --json``, on the installed torch's libtorch::

    p = lungsound.Predictor("models")          # every run in the folder; gate=... for two-stage
    p.predict("recording.wav")["predictions"]  # one dict per model: label, probabilities, ...

Differences from librosa, all deliberate: :func:`load` keeps the file's own rate unless ``sr`` is
given (librosa resamples to 22050 Hz by default) and resamples with lungsound's band-limited sinc
resampler (librosa uses soxr); :func:`stft` returns the magnitude ``np.abs(librosa.stft(y))``,
not complex values; only the Hann window, zero padding and ``power=2`` are computed (anything else
raises ``NotImplementedError``).
"""

from __future__ import annotations

from os import PathLike
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

# The extension links libtorch: importing torch first loads the installed torch's libtorch,
# which the extension then uses (see crates/python/build.rs).
import torch as _torch  # noqa: F401  (imported for its libraries)

from . import _lungsound
from . import datasets
from ._lungsound import TASKS, __version__
from .predictor import Predictor, set_num_threads

__all__ = [
    "__version__",
    "TASKS",
    "load",
    "stft",
    "melspectrogram",
    "melspectrogram_batch",
    "power_to_db",
    "amplitude_to_db",
    "pcen",
    "score",
    "datasets",
    "Predictor",
    "set_num_threads",
]

PathType = Union[str, "PathLike[str]"]
Reference = Union[float, Callable[[np.ndarray], Any]]


def load(
    path: PathType,
    *,
    sr: Optional[int] = None,
    mono: bool = True,
    offset: float = 0.0,
    duration: Optional[float] = None,
) -> Tuple[np.ndarray, int]:
    """Decode a WAV or FLAC file, as ``librosa.load`` does; returns ``(y, sr)``.

    ``y`` is float32 mono in [-1, 1] (integers scaled like soundfile: int16 / 32768, ...),
    decoded exactly as the ``lungsound`` command line decodes it: WAV files are read the way
    libsndfile reads them, quirks of the SPRSound and ICBHI releases included.

    Parameters
    ----------
    path : the file.
    sr : target sample rate; ``None`` (the default here, unlike librosa's 22050) keeps the file's
        own rate. Resampling is lungsound's band-limited sinc (librosa: soxr), so resampled
        signals agree with librosa's closely but not to float precision.
    mono : ``True`` mixes channels down (their mean). lungsound decodes to mono only:
        ``mono=False`` on a multi-channel file raises ``NotImplementedError`` (on a mono file
        it returns the 1-D signal, as librosa does).
    offset, duration : start reading after ``offset`` seconds; read at most ``duration``
        seconds (rounded to samples at the file's rate, before any resampling, as librosa).

    Raises
    ------
    FileNotFoundError : no such file.
    OSError : unreadable, not WAV/FLAC, empty, corrupt or truncated (the message names the file).
    """
    return _lungsound.load(path, sr=sr, mono=mono, offset=offset, duration=duration)


def stft(
    y: np.ndarray,
    *,
    n_fft: int = 2048,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """Magnitude STFT: ``np.abs(librosa.stft(y, ...))`` as float32 ``[1 + n_fft // 2, n_frames]``.

    librosa's defaults: ``hop_length = win_length // 4``, ``win_length = n_fft``, periodic Hann
    window zero-padded to ``n_fft``, frames centred with ``n_fft // 2`` zeros of padding.
    Only ``window='hann'`` and ``pad_mode='constant'`` are computed. ``y`` of any real dtype is
    converted to float32.
    """
    return _lungsound.stft(
        y,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )


def melspectrogram(
    *,
    y: np.ndarray,
    sr: int = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: Optional[float] = None,
    htk: bool = False,
    norm: Optional[str] = "slaney",
) -> np.ndarray:
    """Mel power spectrogram: ``librosa.feature.melspectrogram(y=y, sr=sr, ...)``.

    float32 ``[n_mels, n_frames]``; the filterbank is ``librosa.filters.mel`` (Slaney scale and
    area normalisation by default, ``htk=True`` / ``norm=None`` for the others; ``fmax=None``
    means ``sr / 2``). Only ``power=2.0``, ``window='hann'`` and ``pad_mode='constant'`` are
    computed. Parameters are checked (``n_fft >= 2``, ``fmin < fmax <= sr / 2``, ...) and a
    broken rule raises ``ValueError``.
    """
    return _lungsound.melspectrogram(
        y=y,
        sr=sr,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
        power=power,
        n_mels=n_mels,
        fmin=fmin,
        fmax=fmax,
        htk=htk,
        norm=norm,
    )


def melspectrogram_batch(
    paths: Sequence[PathType],
    *,
    sr: Optional[int] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    center: bool = True,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: Optional[float] = None,
    htk: bool = False,
    norm: Optional[str] = "slaney",
    to_db: bool = False,
    top_db: Optional[float] = 80.0,
    n_jobs: Optional[int] = None,
    on_error: str = "raise",
) -> List[Optional[np.ndarray]]:
    """Mel spectrograms of many files, in input order, computed in parallel in Rust.

    Item ``i`` equals ``melspectrogram(y=load(paths[i], sr=sr)[0], sr=..., ...)`` and, with
    ``to_db=True``, ``power_to_db(that, ref=np.max, top_db=top_db)``. Files are decoded and
    transformed on ``n_jobs`` threads (``None``: all cores) with the GIL released, so other
    Python threads keep running.

    ``on_error='raise'`` (default) raises ``ValueError`` naming the first file that failed (after
    the whole batch ran); ``on_error='none'`` returns ``None`` in place of each failed file.
    """
    return _lungsound.melspectrogram_batch(
        [str(p) for p in paths],
        sr=sr,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        center=center,
        n_mels=n_mels,
        fmin=fmin,
        fmax=fmax,
        htk=htk,
        norm=norm,
        to_db=to_db,
        top_db=top_db,
        n_jobs=n_jobs,
        on_error=on_error,
    )


def power_to_db(
    S: np.ndarray,
    *,
    ref: Reference = 1.0,
    amin: float = 1e-10,
    top_db: Optional[float] = 80.0,
) -> np.ndarray:
    """``librosa.power_to_db``: ``10 log10(max(amin, S) / max(amin, ref))``, then floored at
    ``max - top_db`` (``top_db=None``: no floor).

    ``ref`` is a number or a callable applied to ``S`` (``ref=np.max`` puts the loudest bin at
    0 dB). Any shape; float32 out.
    """
    return _lungsound.power_to_db(S, ref=ref, amin=amin, top_db=top_db)


def amplitude_to_db(
    S: np.ndarray,
    *,
    ref: Reference = 1.0,
    amin: float = 1e-5,
    top_db: Optional[float] = 80.0,
) -> np.ndarray:
    """``librosa.amplitude_to_db``: ``20 log10(max(amin, |S|) / max(amin, ref))``, then floored
    at ``max - top_db``.

    ``ref`` is a number or a callable applied to ``|S|`` (``ref=np.max``). Any shape; float32 out.
    """
    return _lungsound.amplitude_to_db(S, ref=ref, amin=amin, top_db=top_db)


def pcen(
    S: np.ndarray,
    *,
    sr: int = 22050,
    hop_length: int = 512,
    gain: float = 0.98,
    bias: float = 2.0,
    power: float = 0.5,
    time_constant: float = 0.4,
    eps: float = 1e-6,
) -> np.ndarray:
    """``librosa.pcen``: per-channel energy normalisation of a non-negative
    ``[n_freq, n_frames]`` spectrogram, each row divided by its own smoothed level
    (``time_constant`` seconds), then compressed. librosa's documentation applies it to the mel
    magnitude of float audio scaled by ``2**31``
    (``librosa.feature.melspectrogram(y=y, sr=sr, power=1.0) * 2**31``), and so does a
    lungsound model whose recipe sets ``pcen``. float32 out.
    """
    return _lungsound.pcen(
        S,
        sr=sr,
        hop_length=hop_length,
        gain=gain,
        bias=bias,
        power=power,
        time_constant=time_constant,
        eps=eps,
    )


def score(task: str, y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict:
    """Challenge scores of predictions for a task (``'1-1'``, ``'1-2'``, ``'2-1'``, ``'2-2'``,
    ``'cycles4'``; see :data:`TASKS` and :func:`lungsound.datasets.task_info`).

    Labels are class names of the task (``'Coarse Crackle'``), their indices, or dataset labels
    the task maps (``'Wheeze'`` is ``'Adventitious'`` in task 1-1); names match exactly, then
    case-insensitively. Every ``y_true`` must be such a label (``ValueError`` otherwise). A
    prediction that is not (``None``, NaN, ``''``, an unknown name) is **wrong**, the SPRSound
    challenge's rule for a missing prediction.

    Returns a dict: ``SE`` (abnormal samples with their exact class predicted / all abnormal),
    ``SP`` (Normal predicted Normal / all Normal), ``AS = (SE + SP) / 2``,
    ``HS = 2 SE SP / (SE + SP)``, ``Score = (AS + HS) / 2`` (the BioCAS score), ``ICBHI``
    (the ICBHI 2017 score, ``(SE + SP) / 2`` with the same SE and SP), ``n``, ``n_unscored``
    (predictions counted wrong for being unknown), ``classes`` and ``confusion``
    (``confusion[true][pred]`` of the scored samples).
    """
    return _lungsound.score(task, list(y_true), list(y_pred))

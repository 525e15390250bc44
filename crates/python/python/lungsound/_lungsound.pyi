"""Type stubs of the compiled module ``lungsound._lungsound`` (use ``lungsound`` instead)."""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

__version__: str
TASKS: List[str]

def load(
    path: Any,
    *,
    sr: Optional[int] = None,
    mono: bool = True,
    offset: float = 0.0,
    duration: Optional[float] = None,
) -> Tuple[np.ndarray, int]: ...
def stft(
    y: Any,
    *,
    n_fft: int = 2048,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray: ...
def melspectrogram(
    *,
    y: Any,
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
) -> np.ndarray: ...
def melspectrogram_batch(
    paths: Sequence[str],
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
) -> List[Optional[np.ndarray]]: ...
def power_to_db(
    S: Any, *, ref: Any = 1.0, amin: float = 1e-10, top_db: Optional[float] = 80.0
) -> np.ndarray: ...
def amplitude_to_db(
    S: Any, *, ref: Any = 1.0, amin: float = 1e-5, top_db: Optional[float] = 80.0
) -> np.ndarray: ...
def pcen(
    S: Any,
    *,
    sr: int = 22050,
    hop_length: int = 512,
    gain: float = 0.98,
    bias: float = 2.0,
    power: float = 0.5,
    time_constant: float = 0.4,
    eps: float = 1e-6,
) -> np.ndarray: ...
def load_dataset(path: str, *, val_fraction: float = 0.2, seed: int = 2022) -> Dict[str, Any]: ...
def task_info(task: str) -> Dict[str, Any]: ...
def score(task: str, y_true: List[Any], y_pred: List[Any]) -> Dict[str, Any]: ...

class _Predictor:
    def __init__(self, run_dir: str, device: Optional[str] = None, gate: Optional[str] = None) -> None: ...
    def models(self) -> List[Tuple[str, str, str, List[str], Optional[str]]]: ...
    def predict_file(
        self,
        path: str,
        events: Optional[List[Tuple[float, float]]] = None,
        event_indices: Optional[List[int]] = None,
    ) -> str: ...
    def predict_samples(
        self,
        y: Any,
        sr: int,
        events: Optional[List[Tuple[float, float]]] = None,
        event_indices: Optional[List[int]] = None,
    ) -> str: ...

def set_num_threads(n: int) -> None: ...
def annotation_event_spans(path: str) -> Tuple[List[Tuple[int, float, float]], List[str]]: ...

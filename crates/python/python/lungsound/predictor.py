"""Prediction with trained lungsound runs, as ``lungsound predict --json`` predicts."""

from __future__ import annotations

import json
import warnings
from os import PathLike, fspath
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _lungsound

PathType = Union[str, "PathLike[str]"]
Events = Sequence[Tuple[float, float]]

__all__ = ["Predictor"]


class Predictor:
    """Trained lungsound runs, loaded once, that classify recordings.

    ``run_dir`` is a run directory (``config.json`` + ``model.safetensors``, as ``lungsound
    train`` writes it) or a folder of run directories, such as the ``models/`` folder shipped
    with lungsound; every run in it answers. A run whose ``gate.json`` names a gate (the shipped
    1-2 model names the shipped 1-1 model) predicts in two stages, as ``lungsound predict``
    does. ``gate`` is a Normal-vs-abnormal run that gates every model it fits instead
    (``--gate``); ``gate=False`` gates nothing (``--no-gate``).
    ``device`` is ``"cpu"``, ``"cuda"``, ``"cuda:N"``, or ``None`` for CUDA when libtorch sees
    a GPU and the CPU otherwise.

    The networks run on the libtorch of the installed ``torch`` package; a ``Predictor`` can
    be shared between threads (the GIL is released while it computes).

    Example::

        p = lungsound.Predictor("models")
        out = p.predict("recording.wav")
        for m in out["predictions"]:
            print(m["model"], m["label"], max(m["probabilities"]))
    """

    def __init__(
        self,
        run_dir: PathType,
        device: Optional[str] = None,
        *,
        gate: Union[PathType, bool, None] = None,
    ) -> None:
        self.run_dir = fspath(run_dir)
        if gate is True:
            raise TypeError("gate=True: give a run directory, None (each run's own gate) or False (none)")
        no_gate = gate is False
        gate_dir = None if gate is None or no_gate else fspath(gate)
        self._native = _lungsound._Predictor(self.run_dir, device, gate_dir, no_gate)

    @property
    def models(self) -> List[Dict[str, Any]]:
        """The loaded runs: ``name``, ``run_dir``, ``task``, ``classes``, ``gated_by``."""
        return [
            {"name": n, "run_dir": d, "task": t, "classes": list(c), "gated_by": g}
            for n, d, t, c, g in self._native.models()
        ]

    def predict(
        self,
        path_or_array: Union[PathType, np.ndarray],
        sr: Optional[int] = None,
        *,
        events: Optional[Union[Events, PathType]] = None,
    ) -> Dict[str, Any]:
        """Classify one recording; returns the dict ``lungsound predict --json`` gives for it.

        ``path_or_array`` is a WAV/FLAC file (decoded as the command line decodes it, at its
        own rate; ``sr`` must then be ``None``) or a 1-D float array of samples at ``sr`` Hz
        (``sr`` required; ``file`` is then ``None`` in the answer). ``events``: optional
        ``(start_s, end_s)`` pairs (indexed in the order given), or an SPRSound ``.json`` /
        ICBHI ``.txt`` annotation file (its events by start time, indexed by their position
        in the file; its problems as warnings);
        event models then classify those events (record models still judge the whole
        recording), as ``lungsound predict --events`` does.

        The answer holds ``file``, ``sample_rate``, ``duration_s``, ``predictions`` (one per
        model: ``model``, ``task``, ``classes``, ``label``, ``probabilities``, ``events``,
        ``segments``, ``warnings``, and ``gated_by`` for a gated one) and, when a model could
        not answer (e.g. the recording is shorter than it needs), ``skipped_models``.

        Raises ``FileNotFoundError``/``OSError`` for a file that cannot be decoded and
        ``ValueError`` for a recording the models cannot classify (e.g. too short).
        """
        indices = None
        if events is None:
            spans = None
        elif isinstance(events, (str, PathLike)):
            triples, issues = _lungsound.annotation_event_spans(fspath(events))
            for issue in issues:
                warnings.warn(issue, stacklevel=2)
            if not triples:
                raise ValueError(f"{fspath(events)}: no events found")
            # Answer with the annotation's own event positions, as the command line does.
            indices = [i for i, _, _ in triples]
            spans = [(a, b) for _, a, b in triples]
        else:
            spans = [(float(a), float(b)) for a, b in events]
        if isinstance(path_or_array, (str, PathLike)):
            if sr is not None:
                raise ValueError(
                    "sr is only for arrays: a file is classified at its own rate "
                    "(the models resample as they were trained)"
                )
            text = self._native.predict_file(fspath(path_or_array), spans, indices)
        else:
            if sr is None:
                raise ValueError("an array of samples needs its rate: predict(y, sr=...)")
            y = np.ascontiguousarray(np.asarray(path_or_array, dtype=np.float32))
            if y.ndim != 1:
                raise ValueError(f"y must be 1-D (mono samples), got shape {y.shape}")
            text = self._native.predict_samples(y, int(sr), spans, indices)
        return json.loads(text)

    def __repr__(self) -> str:
        names = ", ".join(m["name"] for m in self.models)
        return f"Predictor({self.run_dir!r}: {names})"


def set_num_threads(n: int) -> None:
    """Threads libtorch uses inside one prediction (as ``torch.set_num_threads``)."""
    _lungsound.set_num_threads(int(n))

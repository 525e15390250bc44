"""Respiratory-sound datasets (ICBHI 2017, SPRSound, plain folders) and task label maps.

::

    import pandas as pd
    import lungsound

    ds = lungsound.datasets.load("../shared/data/sprsound/train2022")
    recordings = pd.DataFrame(ds.recordings)   # id, patient, audio_path, record_label, events, ...
    events = pd.DataFrame(ds.events)           # one row per event: id, start_s, end_s, label, ...
    issues = pd.DataFrame(ds.issues)           # what the loader skipped or repaired, and why
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Dict, List, Union

from . import _lungsound
from ._lungsound import TASKS

__all__ = ["Dataset", "load", "task_info", "classes", "label_map", "TASKS"]


@dataclass
class Dataset:
    """A loaded dataset: the good recordings plus every problem met on the way.

    ``recordings`` is a list of dicts, one per recording, sorted by id, with the keys
    ``id``, ``patient``, ``kind``, ``audio_path``, ``annotation_path``, ``record_label``
    (SPRSound), ``n_events``, ``events`` (a list of ``(start_s, end_s, label)``),
    ``location``, ``device``, ``mode``, ``age_years``, ``sex``, ``diagnosis``,
    ``official_split`` (ICBHI) and ``split``: the official split where the dataset has one,
    else ``'train'``/``'val'`` of lungsound's patient-wise split (the one ``lungsound train``
    uses with the same ``val_fraction`` and ``seed``); ``None`` for unlabelled folders.
    Missing values are ``None``. ``pd.DataFrame(ds.recordings)`` makes a table of it.

    ``issues`` is a list of dicts ``{path, line, severity, message}``: files, lines or events
    that were skipped or repaired (severity ``error``, ``warning`` or ``info``).
    """

    kind: str
    root: str
    recordings: List[Dict[str, Any]] = field(default_factory=list)
    issues: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def events(self) -> List[Dict[str, Any]]:
        """One dict per annotated event: ``id``, ``patient``, ``index`` (position in the
        annotation), ``start_s``, ``end_s``, ``label``, ``split``, ``audio_path``."""
        out = []
        for r in self.recordings:
            for i, (start_s, end_s, label) in enumerate(r["events"]):
                out.append(
                    {
                        "id": r["id"],
                        "patient": r["patient"],
                        "index": i,
                        "start_s": start_s,
                        "end_s": end_s,
                        "label": label,
                        "split": r["split"],
                        "audio_path": r["audio_path"],
                    }
                )
        return out

    def __len__(self) -> int:
        return len(self.recordings)

    def __repr__(self) -> str:
        n_events = sum(r["n_events"] for r in self.recordings)
        return (
            f"Dataset(kind={self.kind!r}, root={self.root!r}, recordings={len(self.recordings)}, "
            f"events={n_events}, issues={len(self.issues)})"
        )


def load(
    path: Union[str, "PathLike[str]"], *, val_fraction: float = 0.2, seed: int = 2022
) -> Dataset:
    """Read a dataset folder, as ``lungsound analyze``/``train`` do (type auto-detected:
    ICBHI 2017, SPRSound, or a plain folder of WAV/FLAC files).

    Only annotations are read (audio is not decoded). Bad files, lines and events are not
    fatal: they are left out and reported in ``Dataset.issues``. ``val_fraction`` and
    ``seed`` choose the patient-wise ``split`` column (default: the split of the shipped
    models, 20 % of patients, seed 2022).

    Raises ``OSError`` when the folder cannot be read at all.
    """
    d = _lungsound.load_dataset(str(path), val_fraction=val_fraction, seed=seed)
    return Dataset(kind=d["kind"], root=d["root"], recordings=d["recordings"], issues=d["issues"])


def task_info(task: str) -> Dict[str, Any]:
    """``{name, level, classes, normal_class, label_map}`` of a task.

    ``level`` is ``'event'`` or ``'record'``; ``classes`` the class names (index = class,
    Normal is 0); ``label_map`` every dataset label the task uses → its class
    (task 1-1: ``{'Normal': 0, 'Rhonchi': 1, ..., 'Crackle': 1, ...}``).
    """
    return _lungsound.task_info(task)


def classes(task: str) -> List[str]:
    """The class names of a task, index = class (``classes('2-1')`` is
    ``['Normal', 'Poor Quality', 'Adventitious']``)."""
    return task_info(task)["classes"]


def label_map(task: str) -> Dict[str, int]:
    """Dataset label → class index for a task (see :func:`task_info`)."""
    return task_info(task)["label_map"]

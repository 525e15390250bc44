"""lungsound.datasets: recordings and issues as plain dicts, task label maps."""

import shutil
import wave

import numpy as np
import pytest

import lungsound
from conftest import ROOT, TRAIN2022, need

SAMPLES = ROOT / "samples"  # two SPRSound recordings shipped with the repository


def test_sprsound_samples_load_with_events_and_splits():
    ds = lungsound.datasets.load(SAMPLES)
    assert ds.kind == "sprsound"
    assert len(ds) == 2 and ds.issues == []
    rec = {r["id"]: r for r in ds.recordings}["40995749_10.5_1_p1_1314"]
    assert rec["patient"] == "40995749"
    assert rec["record_label"] == "DAS"
    assert rec["location"] == "p1"
    assert rec["audio_path"].endswith("40995749_10.5_1_p1_1314.flac")
    assert rec["n_events"] == 2
    # Events keep the file's order; times in seconds.
    assert rec["events"] == [(8.27, 9.189, "Fine Crackle"), (6.044, 7.115, "Fine Crackle")]
    assert rec["split"] in ("train", "val")
    assert rec["official_split"] is None
    ev = ds.events
    assert len(ev) == 2 + sum(r["n_events"] for r in ds.recordings if r["id"] != rec["id"])
    assert {"id", "patient", "start_s", "end_s", "label", "split", "audio_path"} <= set(ev[0])
    assert "recordings=2" in repr(ds)


def test_bad_annotations_become_issues(tmp_path):
    for f in SAMPLES.iterdir():
        if f.suffix in (".flac", ".json"):
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "41251473_2.7_1_p1_2403.json").write_text('{"record_annotation": "Normal", "event_annotation": [')
    ds = lungsound.datasets.load(tmp_path)
    assert ds.issues, "a truncated JSON must be reported"
    issue = ds.issues[0]
    assert set(issue) == {"path", "line", "severity", "message"}
    assert issue["path"].endswith("41251473_2.7_1_p1_2403.json")
    assert issue["severity"] in ("error", "warning", "info")
    assert any(r["id"] == "40995749_10.5_1_p1_1314" for r in ds.recordings)


def test_plain_folder_has_no_labels(tmp_path):
    for name in ("a.wav", "b.wav"):
        with wave.open(str(tmp_path / name), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes((np.sin(np.arange(8000) * 0.1) * 10000).astype("<i2").tobytes())
    ds = lungsound.datasets.load(tmp_path)
    assert ds.kind == "folder"
    assert [r["id"] for r in ds.recordings] == ["a", "b"]
    assert all(r["split"] is None and r["record_label"] is None for r in ds.recordings)
    y, sr = lungsound.load(ds.recordings[0]["audio_path"])
    assert sr == 8000 and y.shape == (8000,)


def test_missing_folder_raises(tmp_path):
    with pytest.raises(OSError):
        lungsound.datasets.load(tmp_path / "absent")


def test_train2022_into_pandas():
    pd = pytest.importorskip("pandas")
    ds = lungsound.datasets.load(need(TRAIN2022))
    df = pd.DataFrame(ds.recordings)
    assert len(df) == 1949
    assert set(df["split"]) == {"train", "val"}
    # The split of the shipped models: 20 % of patients (60) for validation.
    assert df.loc[df["split"] == "val", "patient"].nunique() == 60
    assert df["record_label"].isin(lungsound.datasets.classes("2-2")).all()
    events = pd.DataFrame(ds.events)
    assert len(events) == df["n_events"].sum()
    assert (events["end_s"] > events["start_s"]).all()
    pd.DataFrame(ds.issues)  # one call, whatever is in it


def test_task_label_maps():
    assert lungsound.TASKS == ["1-1", "1-2", "2-1", "2-2", "cycles4"]
    info = lungsound.datasets.task_info("1-1")
    assert info["level"] == "event" and info["classes"] == ["Normal", "Adventitious"]
    assert info["label_map"]["Fine Crackle"] == 1 and info["label_map"]["Normal"] == 0
    assert info["label_map"]["Both"] == 1  # ICBHI cycles too
    assert lungsound.datasets.classes("1-2") == [
        "Normal", "Rhonchi", "Wheeze", "Stridor", "Coarse Crackle", "Fine Crackle", "Wheeze+Crackle",
    ]
    assert lungsound.datasets.label_map("2-1") == {
        "Normal": 0, "CAS": 2, "DAS": 2, "CAS & DAS": 2, "Poor Quality": 1,
    }
    assert lungsound.datasets.task_info("2-2")["level"] == "record"
    assert "Rhonchi" not in lungsound.datasets.label_map("cycles4")
    with pytest.raises(ValueError, match="unknown task"):
        lungsound.datasets.task_info("3-1")

"""lungsound.Predictor gives what `lungsound predict --json` gives, and the Dask example too."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lungsound
from conftest import ROOT, TRAIN2022, need

MODELS = ROOT / "models"
SAMPLES = sorted((ROOT / "samples").glob("*.flac"))


def cli() -> Path:
    """The `lungsound` binary `cargo test` / `cargo build` left (LUNGSOUND_BIN to choose)."""
    candidates = [os.environ.get("LUNGSOUND_BIN")] + [
        str(ROOT / "target" / profile / "lungsound") for profile in ("debug", "release")
    ]
    for c in candidates:
        if c and Path(c).is_file() and (Path(c).parent / "lungsound-torch").is_file():
            return Path(c)
    pytest.skip("no lungsound binary in target/ (build it: cargo build -p lungsound)")


def cli_predict(files, *extra):
    run = subprocess.run(
        [str(cli()), "predict", "--json", "--threads", "1", *extra, *map(str, files)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def predictor():
    return lungsound.Predictor(MODELS, device="cpu")


def test_predictor_equals_the_cli_on_the_samples(predictor):
    want = cli_predict(SAMPLES)
    got = [predictor.predict(path) for path in SAMPLES]
    for g, w in zip(got, want):
        assert Path(g["file"]).resolve() == Path(w["file"]).resolve()
        g["file"] = w["file"]
    assert got == want
    assert [m["name"] for m in predictor.models] == [
        "sprsound-events-1-1", "sprsound-events-1-2", "sprsound-records-2-2",
    ]


def test_the_shipped_1_2_model_is_gated_by_default_and_gate_false_turns_it_off(predictor):
    # models/sprsound-events-1-2/gate.json names the 1-1 model, as `lungsound predict` reads it.
    assert {m["name"]: m["gated_by"] for m in predictor.models} == {
        "sprsound-events-1-1": None,
        "sprsound-events-1-2": "sprsound-events-1-1",
        "sprsound-records-2-2": None,
    }
    plain = lungsound.Predictor(MODELS, device="cpu", gate=False)
    assert all(m["gated_by"] is None for m in plain.models)
    want = cli_predict(SAMPLES[:1], "--no-gate")[0]
    got = plain.predict(SAMPLES[0])
    got["file"] = want["file"]
    assert got == want
    assert got != predictor.predict(SAMPLES[0]) | {"file": want["file"]}
    with pytest.raises(TypeError, match="gate=True"):
        lungsound.Predictor(MODELS, gate=True)


def test_gated_prediction_with_events_equals_the_cli():
    gate = MODELS / "sprsound-events-1-1"
    predictor = lungsound.Predictor(MODELS, device="cpu", gate=gate)
    assert {m["name"]: m["gated_by"] for m in predictor.models} == {
        "sprsound-events-1-1": None,
        "sprsound-events-1-2": "sprsound-events-1-1",
        "sprsound-records-2-2": None,
    }
    events_files = [p.with_suffix(".json") for p in SAMPLES]
    extra = ["--gate", str(gate)]
    for e in events_files:
        extra += ["--events", str(e)]
    want = cli_predict(SAMPLES, *extra)
    for path, events_file, w in zip(SAMPLES, events_files, want):
        g = predictor.predict(path, events=events_file)
        g["file"] = w["file"]
        assert g == w
        event_model = next(m for m in g["predictions"] if m["model"] == "sprsound-events-1-2")
        assert event_model["gated_by"] == "sprsound-events-1-1"
        ann = json.loads(events_file.read_text())["event_annotation"]
        assert len(event_model["events"]) == len(ann)
        # The same events as (start_s, end_s) pairs in time order give the same labels and
        # probabilities, indexed in the order given.
        spans = sorted((int(a["start"]) / 1000, int(a["end"]) / 1000) for a in ann)
        by_pairs = predictor.predict(path, events=spans)
        for a, b in zip(by_pairs["predictions"], g["predictions"]):
            assert [e["probabilities"] for e in a["events"]] == [e["probabilities"] for e in b["events"]]
            if a["task"] in ("1-1", "1-2"):  # the record model has no events
                assert [e["index"] for e in a["events"]] == list(range(len(spans)))


def test_an_array_is_predicted_as_its_file(predictor):
    path = SAMPLES[0]
    y, sr = lungsound.load(path)
    from_file = predictor.predict(path)
    from_array = predictor.predict(y, sr=sr)
    assert from_array["file"] is None
    from_array["file"] = from_file["file"]
    assert from_array == from_file
    # float64 and lists are accepted too
    assert predictor.predict(y.astype(np.float64).tolist(), sr=sr)["predictions"] == from_file["predictions"]


def test_a_recording_too_short_for_every_model_is_said_so(predictor):
    y, sr = lungsound.load(SAMPLES[0])
    out = predictor.predict(y[: sr // 10], sr=sr)
    assert out["predictions"] == []
    assert len(out["skipped_models"]) == 3
    assert all("shorter than" in s for s in out["skipped_models"])
    one = lungsound.Predictor(MODELS / "sprsound-events-1-2", device="cpu")
    with pytest.raises(ValueError, match="sprsound-events-1-2"):
        one.predict(y[: sr // 10], sr=sr)


def test_bad_arguments_raise_clear_errors(predictor, tmp_path):
    y, sr = lungsound.load(SAMPLES[0])
    with pytest.raises(ValueError, match="sr is only for arrays"):
        predictor.predict(SAMPLES[0], sr=8000)
    with pytest.raises(ValueError, match="needs its rate"):
        predictor.predict(y)
    with pytest.raises(ValueError, match="1-D"):
        predictor.predict(np.zeros((2, 100), np.float32), sr=sr)
    with pytest.raises(ValueError, match="sample rates"):
        predictor.predict(y, sr=10)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        lungsound.Predictor(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="neither a run directory"):
        lungsound.Predictor(tmp_path)
    with pytest.raises(ValueError, match="expected"):
        lungsound.Predictor(MODELS, device="tpu")
    with pytest.raises(ValueError, match="fits none of the models"):
        lungsound.Predictor(MODELS / "sprsound-events-1-2", gate=MODELS / "sprsound-records-2-2")
    empty = tmp_path / "empty.json"
    empty.write_text('{"record_annotation": "Normal", "event_annotation": []}')
    with pytest.raises(ValueError, match="no events found"):
        predictor.predict(SAMPLES[0], events=empty)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(OSError, match="broken.wav"):
        predictor.predict(broken)


def test_dask_example_on_two_workers_equals_the_cli(tmp_path):
    pytest.importorskip("distributed")
    import pandas as pd

    files = sorted(need(TRAIN2022).glob("*.flac"))[:20]
    out = tmp_path / "predictions.csv"
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python" / "dask_predict.py"), *map(str, files),
         "--model", str(MODELS), "--workers", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "20 files on 2 worker(s)" in run.stdout, run.stdout
    assert "models loaded 2 time(s) (1, 1 per worker)" in run.stdout, run.stdout
    rows = pd.read_csv(out)
    assert rows["error"].isna().all()
    assert rows["worker"].nunique() == 2
    want = cli_predict(files)
    expected = {
        (str(Path(w["file"]).resolve()), m["model"]): m for w in want for m in w["predictions"]
    }
    got = {(r.file, r.model): r for r in rows.itertuples()}
    assert got.keys() == expected.keys()
    for key, m in expected.items():
        r = got[key]
        assert r.label == m["label"]
        assert r.task == m["task"]
        assert json.loads(r.probabilities) == m["probabilities"]
        assert json.loads(r.classes) == m["classes"]

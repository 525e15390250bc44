"""examples/python/quickstart.py runs end to end (when matplotlib and pandas are installed)."""

import subprocess
import sys

import pytest

from conftest import ROOT


def test_quickstart_runs(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("pandas")
    script = ROOT / "examples" / "python" / "quickstart.py"
    run = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "mel.png").stat().st_size > 1000
    assert "task 1-2: SE" in run.stdout


def test_bench_script_runs_on_a_few_files(tmp_path):
    pytest.importorskip("librosa")
    script = ROOT / "examples" / "python" / "bench_batch.py"
    run = subprocess.run(
        [sys.executable, str(script), str(ROOT / "samples")],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "speed-up" in run.stdout

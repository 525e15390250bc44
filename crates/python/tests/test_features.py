"""librosa 0.11 parity of load / stft / melspectrogram / power_to_db / amplitude_to_db,
on synthetic signals and on real recordings (skipped without ../shared/data)."""

import threading

import numpy as np
import pytest

import lungsound
from conftest import DB_ATOL, VALUE_RTOL, db_err, rel_err

librosa = pytest.importorskip("librosa")


def signal(sr=8000, seconds=3.0, seed=0):
    """A chirp, a tone burst, noise and a stretch of digital silence."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    y = 0.4 * np.sin(2 * np.pi * (100 * t + 300 * t**2))
    y += 0.2 * np.sin(2 * np.pi * 1234.5 * t) * (t > 1.0) * (t < 2.0)
    y += 0.05 * rng.standard_normal(t.size)
    y[int(0.2 * sr) : int(0.5 * sr)] = 0.0
    return y.astype(np.float32)


MEL_CASES = [
    dict(),
    dict(n_fft=512, hop_length=128, n_mels=64),
    dict(n_fft=1024, hop_length=256, win_length=800, n_mels=40, fmin=50.0, fmax=1900.0),
    dict(n_fft=400, hop_length=160, n_mels=32, htk=True, norm=None),
    dict(n_fft=256, hop_length=64, n_mels=20, center=False),
]


@pytest.mark.parametrize("kw", MEL_CASES, ids=[str(k) for k in MEL_CASES])
@pytest.mark.parametrize("sr", [4000, 8000, 22050])
def test_melspectrogram_matches_librosa(sr, kw):
    y = signal(sr)
    ours = lungsound.melspectrogram(y=y, sr=sr, **kw)
    want = librosa.feature.melspectrogram(y=y, sr=sr, **kw)
    assert ours.dtype == np.float32
    assert ours.shape == want.shape
    assert rel_err(ours, want) <= VALUE_RTOL
    ours_db = lungsound.power_to_db(ours, ref=np.max)
    want_db = librosa.power_to_db(want, ref=np.max)
    assert db_err(ours_db, want_db) <= DB_ATOL


@pytest.mark.parametrize(
    "kw",
    [dict(), dict(n_fft=512), dict(n_fft=512, hop_length=100, win_length=300), dict(n_fft=255, center=False)],
)
def test_stft_is_librosa_magnitude(kw):
    y = signal(8000)
    ours = lungsound.stft(y, **kw)
    want = np.abs(librosa.stft(y, **kw))
    assert ours.dtype == np.float32
    assert ours.shape == want.shape
    assert rel_err(ours, want) <= VALUE_RTOL
    for ref in (1.0, np.max, 0.5):
        for top_db in (80.0, None, 40.0):
            got = lungsound.amplitude_to_db(ours, ref=ref, top_db=top_db)
            exp = librosa.amplitude_to_db(want, ref=ref, top_db=top_db)
            assert db_err(got, exp) <= DB_ATOL, (ref, top_db)


def test_power_to_db_arguments_follow_librosa():
    rng = np.random.default_rng(1)
    S = (rng.random((7, 5, 3)) ** 6).astype(np.float32)  # any shape, wide range
    S[0, 0, 0] = 0.0
    for kw in [dict(), dict(ref=np.max), dict(ref=2.0, amin=1e-6), dict(top_db=None), dict(top_db=10.0)]:
        got = lungsound.power_to_db(S, **kw)
        assert got.shape == S.shape and got.dtype == np.float32
        assert db_err(got, librosa.power_to_db(S, **kw)) <= DB_ATOL, kw
    with pytest.raises(ValueError, match="amin"):
        lungsound.power_to_db(S, amin=0.0)


def test_inputs_of_other_dtypes_are_converted():
    y = signal(8000).astype(np.float64)
    a = lungsound.melspectrogram(y=y, sr=8000)
    b = lungsound.melspectrogram(y=y.astype(np.float32), sr=8000)
    np.testing.assert_array_equal(a, b)
    c = lungsound.melspectrogram(y=y.astype(np.float32)[::2].copy(), sr=4000)
    d = lungsound.melspectrogram(y=y.astype(np.float32)[::2], sr=4000)  # strided view
    np.testing.assert_array_equal(c, d)


def test_unsupported_and_invalid_arguments_say_so():
    y = signal(8000)
    with pytest.raises(NotImplementedError, match="hann"):
        lungsound.melspectrogram(y=y, sr=8000, window="hamming")
    with pytest.raises(NotImplementedError, match="power"):
        lungsound.melspectrogram(y=y, sr=8000, power=1.0)
    with pytest.raises(NotImplementedError, match="constant"):
        lungsound.stft(y, pad_mode="reflect")
    with pytest.raises(ValueError, match="fmax"):
        lungsound.melspectrogram(y=y, sr=8000, fmax=5000.0)
    with pytest.raises(ValueError, match="n_fft"):
        lungsound.stft(y, n_fft=1)


def test_load_matches_librosa_on_release_wavs(release_wavs):
    """The SPRSound release WAVs declare block_align 4 for mono 16-bit audio; lungsound
    reads them as libsndfile (soundfile, librosa) does."""
    for path in release_wavs[:6]:
        y, sr = lungsound.load(path)
        want, want_sr = librosa.load(path, sr=None)
        assert sr == want_sr
        assert y.dtype == np.float32
        np.testing.assert_array_equal(y, want, err_msg=str(path))
        ours = lungsound.power_to_db(lungsound.melspectrogram(y=y, sr=sr), ref=np.max)
        exp = librosa.power_to_db(librosa.feature.melspectrogram(y=want, sr=sr), ref=np.max)
        assert db_err(ours, exp) <= DB_ATOL, path


def test_load_matches_librosa_on_flac_with_offset_and_duration(train_flacs):
    path = train_flacs[0]
    y, sr = lungsound.load(path)
    want, want_sr = librosa.load(path, sr=None)
    assert sr == want_sr
    np.testing.assert_allclose(y, want, atol=1e-7)
    part, _ = lungsound.load(path, offset=1.25, duration=2.0)
    want_part, _ = librosa.load(path, sr=None, offset=1.25, duration=2.0)
    np.testing.assert_allclose(part, want_part, atol=1e-7)
    mono_false, _ = lungsound.load(path, mono=False)  # a mono file: the 1-D signal
    np.testing.assert_array_equal(mono_false, y)


def test_load_resamples_close_to_librosa(train_flacs):
    path = train_flacs[0]
    y, sr = lungsound.load(path, sr=4000)
    want, _ = librosa.load(path, sr=4000)
    assert sr == 4000
    assert abs(len(y) - len(want)) <= 1
    n = min(len(y), len(want))
    # Different band-limited resamplers (rubato sinc vs soxr): close, not identical.
    err = np.sqrt(np.mean((y[:n] - want[:n]) ** 2)) / np.sqrt(np.mean(want[:n] ** 2))
    assert err < 0.05


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        lungsound.load(tmp_path / "nope.wav")
    bad = tmp_path / "text.wav"
    bad.write_text("not audio at all")
    with pytest.raises(OSError, match="text.wav"):
        lungsound.load(bad)


def test_batch_equals_one_by_one(train_flacs, release_wavs, tmp_path):
    paths = train_flacs[:8] + release_wavs[:4]
    for sr in (None, 8000):
        mels = lungsound.melspectrogram_batch(paths, sr=sr, n_mels=64, to_db=True, n_jobs=2)
        assert len(mels) == len(paths)
        for p, m in zip(paths, mels):
            y, rate = lungsound.load(p, sr=sr)
            one = lungsound.power_to_db(lungsound.melspectrogram(y=y, sr=rate, n_mels=64), ref=np.max)
            np.testing.assert_array_equal(m, one, err_msg=str(p))
    bad = tmp_path / "broken.flac"
    bad.write_bytes(b"fLaC garbage")
    with pytest.raises(ValueError, match="broken.flac"):
        lungsound.melspectrogram_batch(paths[:2] + [bad])
    out = lungsound.melspectrogram_batch(paths[:2] + [bad], on_error="none")
    assert out[2] is None and out[0] is not None


def test_batch_releases_the_gil(train_flacs):
    """A Python thread keeps running while the batch computes."""
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.001)

    t = threading.Thread(target=tick)
    t.start()
    try:
        before = len(ticks)
        lungsound.melspectrogram_batch(train_flacs[:40] * 2, n_jobs=1)
        during = len(ticks) - before
    finally:
        stop.set()
        t.join()
    assert during > 10


@pytest.mark.parametrize(
    "kw",
    [{}, {"gain": 0.8, "bias": 10.0, "power": 0.25, "time_constant": 0.06, "eps": 1e-3}, {"power": 0.0}],
)
def test_pcen_matches_librosa(kw):
    rng = np.random.default_rng(5)
    y = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    S = librosa.feature.melspectrogram(y=y, sr=8000, n_fft=512, hop_length=128, n_mels=64, power=1.0) * 2**31
    ours = lungsound.pcen(S, sr=8000, hop_length=128, **kw)
    want = librosa.pcen(S, sr=8000, hop_length=128, **kw)
    assert ours.dtype == np.float32 and ours.shape == want.shape
    np.testing.assert_allclose(ours, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())


def test_pcen_refuses_what_librosa_refuses():
    S = np.ones((4, 10), np.float32)
    with pytest.raises(ValueError, match="eps"):
        lungsound.pcen(S, eps=0.0)
    with pytest.raises(ValueError, match="2-D"):
        lungsound.pcen(np.ones(10, np.float32))

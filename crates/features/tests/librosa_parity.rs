//! Agreement with librosa 0.11 on the reference outputs in
//! `tests/fixtures/librosa-0.11/` (made by `scripts/fixtures/make_librosa_fixtures.py`;
//! `manifest.json` records each call, its parameters and the librosa version).
//!
//! Tolerances:
//! - power / magnitude / log1p values: relative error <= 1e-4, measured as
//!   `|ours - librosa| / max(|librosa|, 1e-6 * max|librosa|)`. Plain relative
//!   error is meaningless for bins that are (numerically) zero, e.g. frames of
//!   digital silence or stopbands whose true value is ~1e-20 and whose float32
//!   rounding is all noise; the floor treats anything below a millionth of the
//!   spectrogram's peak (-60 dB power, -120 dB magnitude) on an absolute scale.
//! - dB values: absolute error <= 0.01 dB.
//! - PCEN values: the relative measure above, <= 1e-4.
//! - filterbank weights: the same relative measure, <= 1e-5.
//! - shapes and frame counts: identical.
//!
//! Run with `--nocapture` to see the largest error observed per fixture.
//!
//! `release_wav.json` (made by `scripts/fixtures/make_release_wav_fixtures.py`) adds
//! librosa's mel dB of a few SPRSound release WAVs (their headers say `block_align` 4 for
//! mono 16-bit): those are decoded here with `lungsound_audio::load` from
//! `../shared/data` (the test skips when it is absent) and held to the same dB tolerance.

use std::path::{Path, PathBuf};

use lungsound_features::mel::{self, MelNorm};
use lungsound_features::{
    DbRef, FeatureConfig, FeatureExtractor, FeatureKind, PcenParams, amplitude_to_db, pcen,
    power_to_db, read_npy,
};
use ndarray::Array2;
use serde_json::Value;

const VALUE_RTOL: f64 = 1e-4;
const VALUE_FLOOR: f64 = 1e-6;
const DB_ATOL: f64 = 0.01;
const FILTERBANK_RTOL: f64 = 1e-5;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/librosa-0.11")
}

fn manifest() -> Value {
    read_manifest("manifest.json")
}

/// `release_wav.json`: librosa on release WAVs of the shared data folder.
fn release_manifest() -> Value {
    read_manifest("release_wav.json")
}

fn read_manifest(file: &str) -> Value {
    let path = fixture_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(file: &str) -> Array2<f32> {
    read_npy(&fixture_dir().join(file)).unwrap_or_else(|e| panic!("{e}"))
}

fn load_signal(manifest: &Value, name: &str) -> (Vec<f32>, u32) {
    let sig = &manifest["signals"][name];
    let file = sig["file"]
        .as_str()
        .unwrap_or_else(|| panic!("signal {name} has no file"));
    let path = fixture_dir().join(file);
    let y: ndarray::Array1<f32> =
        ndarray_npy::read_npy(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let sr = sig["sample_rate"]
        .as_u64()
        .unwrap_or_else(|| panic!("signal {name} has no sample_rate"));
    (
        y.to_vec(),
        u32::try_from(sr).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn fixtures<'a>(manifest: &'a Value, ops: &[&str]) -> Vec<&'a Value> {
    let all = manifest["fixtures"]
        .as_array()
        .unwrap_or_else(|| panic!("manifest has no fixtures"));
    let chosen: Vec<&Value> = all
        .iter()
        .filter(|f| ops.contains(&f["op"].as_str().unwrap_or("")))
        .collect();
    assert!(!chosen.is_empty(), "no fixtures for {ops:?}");
    for f in &chosen {
        assert_eq!(f["librosa_version"], "0.11.0", "{}", f["name"]);
    }
    chosen
}

fn name(f: &Value) -> &str {
    f["name"].as_str().unwrap_or("?")
}

/// Build the config librosa was called with, defaults being librosa's.
fn config_from_params(kind: FeatureKind, p: &Value) -> FeatureConfig {
    let uint = |k: &str| p[k].as_u64().map(|v| v as usize);
    let float = |k: &str| p[k].as_f64().map(|v| v as f32);
    let d = FeatureConfig::default();
    let n_fft = uint("n_fft").unwrap_or(d.n_fft);
    let win_length = uint("win_length");
    FeatureConfig {
        kind,
        n_fft,
        // librosa's hop_length default is win_length // 4.
        hop_length: uint("hop_length").unwrap_or(win_length.unwrap_or(n_fft) / 4),
        win_length,
        n_mels: uint("n_mels").unwrap_or(d.n_mels),
        fmin: float("fmin").unwrap_or(d.fmin),
        fmax: float("fmax"),
        htk: p["htk"].as_bool().unwrap_or(d.htk),
        norm: match p.get("norm") {
            Some(Value::Null) => MelNorm::None,
            Some(Value::String(s)) => s.parse().unwrap_or_else(|e| panic!("{e}")),
            _ => d.norm,
        },
        center: p["center"].as_bool().unwrap_or(d.center),
        ..d
    }
}

/// Largest `|a - b| / max(|b|, floor * max|b|)`.
fn max_relative_error(ours: &Array2<f32>, want: &Array2<f32>, floor: f64) -> f64 {
    let peak = want.iter().fold(0f64, |m, &v| m.max(f64::from(v).abs()));
    let denom_floor = (floor * peak).max(f64::MIN_POSITIVE);
    ours.iter()
        .zip(want)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs() / f64::from(b).abs().max(denom_floor))
        .fold(0.0, f64::max)
}

fn max_abs_error(ours: &Array2<f32>, want: &Array2<f32>) -> f64 {
    ours.iter()
        .zip(want)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
        .fold(0.0, f64::max)
}

fn check_shape(f: &Value, ours: &Array2<f32>, want: &Array2<f32>) {
    assert_eq!(ours.dim(), want.dim(), "{}: shape", name(f));
    let shape: Vec<usize> = f["shape"].as_array().map_or(vec![], |s| {
        s.iter()
            .filter_map(|v| v.as_u64())
            .map(|v| v as usize)
            .collect()
    });
    assert_eq!(
        shape,
        vec![want.nrows(), want.ncols()],
        "{}: manifest shape",
        name(f)
    );
}

/// Shape and values of `ours` against fixture `f`'s expected array, to [`VALUE_RTOL`]
/// (relative, floored at [`VALUE_FLOOR`] of the peak); `how` says how `ours` was computed.
fn check_values(f: &Value, ours: &Array2<f32>, how: &str) {
    let want = load(f["expected"].as_str().unwrap_or(""));
    check_shape(f, ours, &want);
    let err = max_relative_error(ours, &want, VALUE_FLOOR);
    println!("{:<24} max relative error {err:.2e}{how}", name(f));
    assert!(
        err <= VALUE_RTOL,
        "{}: relative error {err:e} > {VALUE_RTOL:e}{how}",
        name(f)
    );
}

#[test]
fn spectrograms_match_librosa() {
    let manifest = manifest();
    for f in fixtures(
        &manifest,
        &["melspectrogram", "stft_magnitude", "log1p_stft"],
    ) {
        let kind = match f["op"].as_str() {
            Some("melspectrogram") => FeatureKind::Mel,
            Some("stft_magnitude") => FeatureKind::Stft,
            _ => FeatureKind::LogStft,
        };
        let (y, sr) = load_signal(&manifest, f["signal"].as_str().unwrap_or(""));
        assert_eq!(
            f["params"]["sr"].as_u64(),
            Some(u64::from(sr)),
            "{}",
            name(f)
        );
        let cfg = config_from_params(kind, &f["params"]);
        let ours = FeatureExtractor::new(&cfg, sr)
            .unwrap_or_else(|e| panic!("{}: {e}", name(f)))
            .compute(&y);
        check_values(f, &ours, "");
    }
}

#[test]
fn db_conversions_match_librosa() {
    let manifest = manifest();
    for f in fixtures(&manifest, &["power_to_db", "amplitude_to_db"]) {
        let p = &f["params"];
        let reference = match &p["ref"] {
            Value::String(s) if s == "max" => DbRef::Max,
            v => DbRef::Value(v.as_f64().unwrap_or_else(|| panic!("{}: ref {v}", name(f))) as f32),
        };
        let amin = p["amin"]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: amin", name(f))) as f32;
        let top_db = p["top_db"].as_f64().map(|v| v as f32);
        let amplitude = f["op"] == "amplitude_to_db";
        let convert = |s: &Array2<f32>| {
            if amplitude {
                amplitude_to_db(s, reference, amin, top_db)
            } else {
                power_to_db(s, reference, amin, top_db)
            }
            .unwrap_or_else(|e| panic!("{}: {e}", name(f)))
        };
        let want = load(f["expected"].as_str().unwrap_or(""));

        // 1. The conversion alone, on librosa's own spectrogram.
        let input_name = f["input"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no input", name(f)));
        let input = fixtures(&manifest, &["melspectrogram", "stft_magnitude"])
            .into_iter()
            .find(|g| g["name"] == input_name)
            .unwrap_or_else(|| panic!("{}: input {input_name} not in manifest", name(f)));
        let ours = convert(&load(input["expected"].as_str().unwrap_or("")));
        check_shape(f, &ours, &want);
        let err = max_abs_error(&ours, &want);
        println!(
            "{:<24} max dB error {err:.2e} (conversion of librosa's input)",
            name(f)
        );
        assert!(err <= DB_ATOL, "{}: {err} dB > {DB_ATOL} dB", name(f));

        // 2. End to end from the signal: our spectrogram, then our conversion.
        let kind = if amplitude {
            FeatureKind::Stft
        } else {
            FeatureKind::Mel
        };
        let (y, sr) = load_signal(&manifest, input["signal"].as_str().unwrap_or(""));
        let cfg = config_from_params(kind, &input["params"]);
        let spec = FeatureExtractor::new(&cfg, sr)
            .unwrap_or_else(|e| panic!("{e}"))
            .compute(&y);
        let ours = convert(&spec);
        let err = max_abs_error(&ours, &want);
        println!("{:<24} max dB error {err:.2e} (from the signal)", name(f));
        assert!(
            err <= DB_ATOL,
            "{}: {err} dB > {DB_ATOL} dB end to end",
            name(f)
        );

        // 3. The extractor's `db` option is exactly librosa's ref=np.max, top_db=80 call.
        if reference == DbRef::Max && top_db == Some(80.0) {
            let cfg = FeatureConfig { db: true, ..cfg };
            let ours = FeatureExtractor::new(&cfg, sr)
                .unwrap_or_else(|e| panic!("{e}"))
                .compute(&y);
            let err = max_abs_error(&ours, &want);
            println!(
                "{:<24} max dB error {err:.2e} (FeatureExtractor with db)",
                name(f)
            );
            assert!(
                err <= DB_ATOL,
                "{}: {err} dB > {DB_ATOL} dB with db: true",
                name(f)
            );
        }
    }
}

#[test]
fn pcen_matches_librosa() {
    let manifest = manifest();
    // 1. `librosa.pcen` alone, on librosa's own mel power spectrogram.
    for f in fixtures(&manifest, &["pcen"]) {
        let p = &f["params"];
        let float = |k: &str, default: f64| p[k].as_f64().unwrap_or(default);
        let d = PcenParams::default();
        let params = PcenParams {
            gain: float("gain", d.gain),
            bias: float("bias", d.bias),
            power: float("power", d.power),
            time_constant: float("time_constant", d.time_constant),
            eps: float("eps", d.eps),
        };
        let sr = p["sr"].as_u64().and_then(|v| u32::try_from(v).ok());
        let hop = p["hop_length"].as_u64().map(|v| v as usize);
        let (Some(sr), Some(hop)) = (sr, hop) else {
            panic!("{}: sr and hop_length", name(f))
        };
        let input_name = f["input"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no input", name(f)));
        let input = fixtures(&manifest, &["melspectrogram"])
            .into_iter()
            .find(|g| g["name"] == input_name)
            .unwrap_or_else(|| panic!("{}: input {input_name} not in manifest", name(f)));
        let ours = pcen(
            &load(input["expected"].as_str().unwrap_or("")),
            sr,
            hop,
            &params,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", name(f)));
        check_values(f, &ours, "");
    }
    // 2. The extractor's `pcen` option from the signal: librosa's documented recipe.
    for f in fixtures(&manifest, &["pcen_melspectrogram"]) {
        let (y, sr) = load_signal(&manifest, f["signal"].as_str().unwrap_or(""));
        let cfg = FeatureConfig {
            pcen: Some(PcenParams::default()),
            ..config_from_params(FeatureKind::Mel, &f["params"])
        };
        let ours = FeatureExtractor::new(&cfg, sr)
            .unwrap_or_else(|e| panic!("{}: {e}", name(f)))
            .compute(&y);
        check_values(f, &ours, " (FeatureExtractor with pcen)");
    }
}

#[test]
fn filterbanks_match_librosa() {
    let manifest = manifest();
    for f in fixtures(&manifest, &["filterbank"]) {
        let p = &f["params"];
        let cfg = config_from_params(FeatureKind::Mel, p);
        let sr = p["sr"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or_else(|| panic!("{}: sr", name(f)));
        let ours = mel::filterbank(
            sr, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax, cfg.htk, cfg.norm,
        );
        let want = load(f["expected"].as_str().unwrap_or(""));
        check_shape(f, &ours, &want);
        let err = max_relative_error(&ours, &want, VALUE_FLOOR);
        // Zero pattern identical: the sparse filterbank relies on it.
        let zeros_differ = ours
            .iter()
            .zip(&want)
            .filter(|(a, b)| (**a == 0.0) != (**b == 0.0))
            .count();
        println!(
            "{:<24} max relative error {err:.2e}, {zeros_differ} zero-pattern differences",
            name(f)
        );
        assert!(
            err <= FILTERBANK_RTOL,
            "{}: relative error {err:e} > {FILTERBANK_RTOL:e}",
            name(f)
        );
        assert_eq!(zeros_differ, 0, "{}: zero pattern differs", name(f));
    }
}

#[test]
fn frame_counts_match_librosa() {
    let manifest = manifest();
    let cases = manifest["frame_counts"]
        .as_array()
        .unwrap_or_else(|| panic!("no frame_counts"));
    assert!(cases.len() > 100);
    for c in cases {
        let uint = |k: &str| {
            c[k].as_u64()
                .map(|v| v as usize)
                .unwrap_or_else(|| panic!("{c}: {k}"))
        };
        let cfg = FeatureConfig {
            kind: FeatureKind::Stft,
            n_fft: uint("n_fft"),
            hop_length: uint("hop_length"),
            center: c["center"].as_bool().unwrap_or(true),
            ..FeatureConfig::default()
        };
        let ex = FeatureExtractor::new(&cfg, 8000).unwrap_or_else(|e| panic!("{e}"));
        let n = uint("n_samples");
        // librosa raises where the signal is shorter than one frame; we return 0 frames.
        let want = c["n_frames"].as_u64().map_or(0, |v| v as usize);
        assert_eq!(ex.n_frames(n), want, "{c}");
        assert_eq!(ex.compute(&vec![0.0; n]).ncols(), want, "{c}");
    }
}

#[test]
fn every_fixture_is_checked() {
    let manifest = manifest();
    let known = [
        "melspectrogram",
        "stft_magnitude",
        "log1p_stft",
        "power_to_db",
        "amplitude_to_db",
        "filterbank",
        "pcen",
        "pcen_melspectrogram",
    ];
    for f in manifest["fixtures"].as_array().into_iter().flatten() {
        let op = f["op"].as_str().unwrap_or("");
        assert!(known.contains(&op), "{}: unknown op {op}", name(f));
        assert!(
            fixture_dir()
                .join(f["expected"].as_str().unwrap_or(""))
                .is_file(),
            "{}",
            name(f)
        );
    }
    assert_eq!(manifest["librosa_version"], "0.11.0");

    let release = release_manifest();
    assert_eq!(release["librosa_version"], "0.11.0");
    let release_fixtures = release_fixtures(&release);
    for f in &release_fixtures {
        assert_eq!(f["op"], "release_wav_mel_db", "{}: unknown op", name(f));
        let file = f["release_file"].as_str().unwrap_or("");
        assert!(
            file.ends_with(".wav") && !file.contains(['/', '\\']),
            "{}: release_file {file:?} must be a bare WAV name",
            name(f)
        );
        assert!(
            fixture_dir()
                .join(f["expected"].as_str().unwrap_or(""))
                .is_file(),
            "{}",
            name(f)
        );
    }

    // And no stray .npy: every file in the folder is an input or an output named above.
    let mut named: Vec<&str> = manifest["signals"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.values())
        .chain(manifest["fixtures"].as_array().into_iter().flatten())
        .map(|v| v["file"].as_str().or(v["expected"].as_str()).unwrap_or(""))
        .collect();
    named.extend(
        release_fixtures
            .iter()
            .map(|f| f["expected"].as_str().unwrap_or("")),
    );
    for entry in std::fs::read_dir(fixture_dir()).unwrap_or_else(|e| panic!("{e}")) {
        let file = entry.unwrap_or_else(|e| panic!("{e}")).file_name();
        let file = file.to_string_lossy();
        if file.ends_with(".npy") {
            assert!(named.contains(&file.as_ref()), "{file} is in no manifest");
        }
    }
}

/// The entries of `release_wav.json`, checked for the librosa version.
fn release_fixtures(release: &Value) -> Vec<&Value> {
    let all: Vec<&Value> = release["fixtures"]
        .as_array()
        .unwrap_or_else(|| panic!("release_wav.json has no fixtures"))
        .iter()
        .collect();
    assert!(!all.is_empty(), "release_wav.json has no fixtures");
    for f in &all {
        assert_eq!(f["librosa_version"], "0.11.0", "{}", name(f));
    }
    all
}

/// The SPRSound release WAVs (`block_align` 4 for mono 16-bit) decoded by
/// `lungsound_audio::load` give librosa's length and, through the FeatureExtractor, librosa's
/// mel dB (`librosa.load(path, sr=None)`, then `power_to_db(melspectrogram(y, sr), ref=np.max)`).
#[test]
fn release_wavs_decode_to_librosas_mel_db() {
    let release = release_manifest();
    let fixtures = release_fixtures(&release);
    let dir = lungsound_testutil::skip_without_data!(lungsound_testutil::SPRSOUND_RELEASE_WAV);
    for f in fixtures {
        let file = f["release_file"].as_str().unwrap_or("");
        let path = dir.join(file);
        let uint = |k: &str| {
            f[k].as_u64()
                .unwrap_or_else(|| panic!("{}: no {k}", name(f)))
        };
        let bytes = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert_eq!(bytes, uint("file_bytes"), "{file}: not the release's file");

        // 1. Decoding: librosa's length, rate and samples.
        let (audio, info) = lungsound_audio::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u64::from(audio.sample_rate), uint("sample_rate"), "{file}");
        assert_eq!(
            audio.samples.len() as u64,
            uint("n_samples"),
            "{file}: length"
        );
        assert_eq!(info.n_frames, uint("n_samples"), "{file}: n_frames");
        let sum_abs: f64 = audio.samples.iter().map(|&x| f64::from(x).abs()).sum();
        let want_sum = f["sum_abs"]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: sum_abs", name(f)));
        assert!(
            (sum_abs - want_sum).abs() <= 1e-9 * want_sum,
            "{file}: sum |y| {sum_abs} vs librosa {want_sum}"
        );
        assert!(
            !info.notes.is_empty(),
            "{file}: block_align 4 repaired without a note"
        );

        // 2. Our mel, then our power_to_db with librosa's arguments.
        let p = &f["db"];
        assert_eq!(p["ref"], "max", "{}", name(f));
        let amin = p["amin"]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: amin", name(f))) as f32;
        let top_db = p["top_db"].as_f64().map(|v| v as f32);
        assert_eq!(
            f["params"]["sr"].as_u64(),
            Some(u64::from(audio.sample_rate))
        );
        let cfg = config_from_params(FeatureKind::Mel, &f["params"]);
        let ex = FeatureExtractor::new(&cfg, audio.sample_rate).unwrap_or_else(|e| panic!("{e}"));
        let ours = power_to_db(&ex.compute(&audio.samples), DbRef::Max, amin, top_db)
            .unwrap_or_else(|e| panic!("{}: {e}", name(f)));
        let want = load(f["expected"].as_str().unwrap_or(""));
        check_shape(f, &ours, &want);
        let err = max_abs_error(&ours, &want);
        println!(
            "{:<44} max dB error {err:.2e} (mel, then power_to_db)",
            name(f)
        );
        assert!(err <= DB_ATOL, "{}: {err} dB > {DB_ATOL} dB", name(f));

        // 3. The extractor's own `db` option, which is that same call.
        assert_eq!((amin, top_db), (1e-10, Some(80.0)), "{}", name(f));
        let cfg = FeatureConfig { db: true, ..cfg };
        let ours = FeatureExtractor::new(&cfg, audio.sample_rate)
            .unwrap_or_else(|e| panic!("{e}"))
            .compute(&audio.samples);
        let err = max_abs_error(&ours, &want);
        println!(
            "{:<44} max dB error {err:.2e} (FeatureExtractor with db)",
            name(f)
        );
        assert!(
            err <= DB_ATOL,
            "{}: {err} dB > {DB_ATOL} dB with db: true",
            name(f)
        );
    }
}

/// numpy reads what `write_npy` writes (needs the reference venv; skipped without it).
#[test]
fn numpy_reads_our_npy() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-ref/bin/python");
    if !python.is_file() {
        println!(
            "skipped: no {} (see scripts/fixtures/requirements.txt)",
            python.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("spec.npy");
    let a = Array2::from_shape_fn((3, 4), |(i, j)| i as f32 * 0.5 - j as f32);
    lungsound_features::write_npy(&path, &a).unwrap_or_else(|e| panic!("{e}"));
    let script = "import sys, numpy as np; a = np.load(sys.argv[1]); \
                  print(a.dtype, a.shape, a.flags['C_CONTIGUOUS'], float(a[2, 3]))";
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "float32 (3, 4) True -2.0"
    );
}

//! Test helpers shared by every lungsound crate (a dev-dependency only).
//!
//! - Real data: [`shared_data`] finds `../shared/data` beside the workspace (or
//!   `$LUNGSOUND_SHARED_DATA`); [`sprsound_train`], [`icbhi_root`] and [`icbhi_audio`] point
//!   into it. Tests that need it use [`skip_without_data!`], which prints why and returns
//!   when the folder is absent.
//! - Synthetic signals: [`sine`], [`chirp`], [`white_noise`] (deterministic, seeded).
//! - Files: [`write_wav_i16`] and [`write_wav_with_spec`] write any WAV variant
//!   (8/16/24/32-bit integer, 32/64-bit float, any channel count); [`wav_bytes`] returns the
//!   bytes instead, for tests that damage them. [`temp_dir`] makes a temporary directory.
//! - Property tests: [`proptest_config`], one case budget that `PROPTEST_CASES` overrides.
//!
//! Helpers panic with a clear message on I/O failure: they only ever run inside tests.
#![deny(missing_docs)]

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

/// Environment variable that overrides where the shared data folder is.
pub const SHARED_DATA_ENV: &str = "LUNGSOUND_SHARED_DATA";

/// SPRSound training set, relative to [`shared_data`].
pub const SPRSOUND_TRAIN: &str = "sprsound/train2022";
/// ICBHI 2017 root, relative to [`shared_data`].
pub const ICBHI_ROOT: &str = "icbhi";
/// 60 SPRSound training records as WAV straight from the release, relative to [`shared_data`].
pub const SPRSOUND_RELEASE_WAV: &str = "sprsound/train2022_release_wav";

/// ICBHI recordings with their annotations, relative to [`shared_data`].
pub const ICBHI_AUDIO: &str = "icbhi/audio_and_txt";

/// The real-data folder: `$LUNGSOUND_SHARED_DATA` when set, otherwise `../shared/data`
/// relative to the workspace root. `None` when that folder does not exist.
pub fn shared_data() -> Option<PathBuf> {
    let dir = match std::env::var_os(SHARED_DATA_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    if !dir.is_dir() {
        return None;
    }
    Some(dir.canonicalize().unwrap_or(dir))
}

/// A folder inside [`shared_data`], given relative to it; `None` if either is absent.
pub fn shared_subdir(relative: &str) -> Option<PathBuf> {
    let dir = shared_data()?.join(relative);
    dir.is_dir().then_some(dir)
}

/// `shared/data/sprsound/train2022` (1949 `.flac` + `.json` pairs), if present.
pub fn sprsound_train() -> Option<PathBuf> {
    shared_subdir(SPRSOUND_TRAIN)
}

/// `shared/data/sprsound/train2022_release_wav` (60 records as the release ships them:
/// WAV with `block_align` 4 for mono 16-bit, + JSON), if present.
pub fn sprsound_release_wav() -> Option<PathBuf> {
    shared_subdir(SPRSOUND_RELEASE_WAV)
}

/// `shared/data/icbhi` (split and diagnosis files, `all_annotations/`), if present.
pub fn icbhi_root() -> Option<PathBuf> {
    shared_subdir(ICBHI_ROOT)
}

/// `shared/data/icbhi/audio_and_txt` (19 recordings with annotations), if present.
pub fn icbhi_audio() -> Option<PathBuf> {
    shared_subdir(ICBHI_AUDIO)
}

/// Files directly in `dir` whose extension equals `ext` (case-insensitive), sorted.
/// Empty if `dir` cannot be read.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
        })
        .collect();
    files.sort();
    files
}

/// The name of the enclosing function, for skip messages (used by [`skip_without_data!`]).
#[doc(hidden)]
pub fn __function_name(type_name: &'static str) -> &'static str {
    let name = type_name.strip_suffix("::__here").unwrap_or(type_name);
    name.rsplit("::").next().unwrap_or(name)
}

/// Gets a real-data folder or skips the current test.
///
/// - `skip_without_data!()` evaluates to [`shared_data`]'s folder;
/// - `skip_without_data!("sprsound/train2022")` to that folder inside it.
///
/// When the folder is absent it prints `skipping <test>: ../shared/data not found` (or the
/// sub-folder) to stderr and `return`s from the enclosing function, which must return `()`.
///
/// ```
/// // In a test: `#[test] fn reads_a_real_recording() { ... }`
/// fn reads_a_real_recording() {
///     let dir = lungsound_testutil::skip_without_data!("sprsound/train2022");
///     assert!(dir.is_dir());
/// }
/// # reads_a_real_recording();
/// ```
#[macro_export]
macro_rules! skip_without_data {
    () => {
        match $crate::shared_data() {
            Some(dir) => dir,
            None => {
                fn __here() {}
                eprintln!(
                    "skipping {}: ../shared/data not found",
                    $crate::__function_name(::std::any::type_name_of_val(&__here))
                );
                return;
            }
        }
    };
    ($relative:expr) => {
        match $crate::shared_subdir($relative) {
            Some(dir) => dir,
            None => {
                fn __here() {}
                eprintln!(
                    "skipping {}: ../shared/data/{} not found",
                    $crate::__function_name(::std::any::type_name_of_val(&__here)),
                    $relative
                );
                return;
            }
        }
    };
}

/// A sine `amplitude · sin(2π · freq_hz · t)` sampled at `sample_rate` Hz for `duration_s`
/// seconds (`round(duration_s · sample_rate)` samples), starting at phase 0.
pub fn sine(freq_hz: f64, sample_rate: u32, duration_s: f64, amplitude: f32) -> Vec<f32> {
    let n = n_samples(sample_rate, duration_s);
    let sr = f64::from(sample_rate);
    (0..n)
        .map(|i| amplitude * (2.0 * PI * freq_hz * i as f64 / sr).sin() as f32)
        .collect()
}

/// A linear chirp sweeping from `f0_hz` to `f1_hz` over `duration_s` seconds:
/// `amplitude · sin(2π (f0 t + (f1 − f0) t² / (2 duration_s)))`.
pub fn chirp(
    f0_hz: f64,
    f1_hz: f64,
    sample_rate: u32,
    duration_s: f64,
    amplitude: f32,
) -> Vec<f32> {
    let n = n_samples(sample_rate, duration_s);
    let sr = f64::from(sample_rate);
    let k = if duration_s > 0.0 {
        (f1_hz - f0_hz) / duration_s
    } else {
        0.0
    };
    (0..n)
        .map(|i| {
            let t = i as f64 / sr;
            amplitude * (2.0 * PI * (f0_hz * t + 0.5 * k * t * t)).sin() as f32
        })
        .collect()
}

/// `n` samples of white noise, uniform in [-1, 1), from a SplitMix64 generator seeded with
/// `seed`: the same seed always gives the same samples, on every platform.
pub fn white_noise(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            // Top 24 bits → [0, 1) exactly representable in f32, then to [-1, 1).
            ((z >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn n_samples(sample_rate: u32, duration_s: f64) -> usize {
    (duration_s * f64::from(sample_rate)).round().max(0.0) as usize
}

/// A fresh temporary directory, deleted when dropped.
///
/// # Panics
/// If the directory cannot be created.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temporary directory")
}

/// Writes mono `samples` (in [-1, 1]) as a 16-bit integer WAV.
///
/// # Panics
/// On I/O errors.
pub fn write_wav_i16(path: &Path, samples: &[f32], sample_rate: u32) {
    write_wav_with_spec(path, samples, sample_rate, 1, 16, false);
}

/// Writes interleaved `samples` as a WAV with `channels` channels and the given encoding:
/// `float = false` with `bits` 8, 16, 24 or 32 (integer PCM; values are scaled by
/// 2^(bits−1), rounded and clamped; 8-bit is stored unsigned), or `float = true` with `bits`
/// 32 or 64 (IEEE float, values written as they are, NaN included).
///
/// Integer and 32-bit float files are written by hound (which uses the
/// `WAVE_FORMAT_EXTENSIBLE` header above 16 bits or 2 channels); 64-bit float, which hound
/// cannot write, by [`wav_bytes`] (plain header).
///
/// # Panics
/// On an unsupported `bits`/`float` combination, on `channels == 0` and on I/O errors.
pub fn write_wav_with_spec(
    path: &Path,
    samples: &[f32],
    sample_rate: u32,
    channels: u16,
    bits: u16,
    float: bool,
) {
    if float && bits == 64 {
        let bytes = wav_bytes(samples, sample_rate, channels, bits, float);
        std::fs::write(path, bytes)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let spec = wav_spec(sample_rate, channels, bits, float);
    let mut writer =
        hound::WavWriter::create(path, spec).unwrap_or_else(|e| write_failed(path, &e));
    for &x in samples {
        let result = match (float, bits) {
            (true, _) => writer.write_sample(x),
            (false, 8) => writer.write_sample(quantize(x, 8) as i8),
            (false, 16) => writer.write_sample(quantize(x, 16) as i16),
            (false, _) => writer.write_sample(quantize(x, bits)),
        };
        result.unwrap_or_else(|e| write_failed(path, &e));
    }
    writer.finalize().unwrap_or_else(|e| write_failed(path, &e));
}

fn write_failed<T>(path: &Path, e: &dyn std::fmt::Display) -> T {
    panic!("cannot write {}: {e}", path.display())
}

/// The bytes of a canonical 44-byte-header WAV (`WAVE_FORMAT_PCM` or
/// `WAVE_FORMAT_IEEE_FLOAT`) holding interleaved `samples`, encoded as
/// [`write_wav_with_spec`] describes. Handy for tests that truncate or corrupt a file.
///
/// # Panics
/// On an unsupported `bits`/`float` combination or `channels == 0`.
pub fn wav_bytes(
    samples: &[f32],
    sample_rate: u32,
    channels: u16,
    bits: u16,
    float: bool,
) -> Vec<u8> {
    let _ = wav_spec(sample_rate, channels, bits, float); // validates
    let bytes_per_sample = usize::from(bits / 8);
    let data_len = samples.len() * bytes_per_sample;
    let block_align = u32::from(channels) * u32::from(bits / 8);
    let mut out = Vec::with_capacity(44 + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&(if float { 3u16 } else { 1u16 }).to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * block_align).to_le_bytes());
    out.extend_from_slice(&(block_align as u16).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    for &x in samples {
        match (float, bits) {
            (true, 32) => out.extend_from_slice(&x.to_le_bytes()),
            (true, _) => out.extend_from_slice(&f64::from(x).to_le_bytes()),
            (false, 8) => out.push((quantize(x, 8) + 128) as u8),
            (false, _) => {
                out.extend_from_slice(&quantize(x, bits).to_le_bytes()[..bytes_per_sample])
            }
        }
    }
    out
}

/// `round(x · 2^(bits−1))` clamped to the signed range of `bits`.
fn quantize(x: f32, bits: u16) -> i32 {
    let scale = f64::from(1u32 << (bits - 1));
    (f64::from(x) * scale).round().clamp(-scale, scale - 1.0) as i32
}

fn wav_spec(sample_rate: u32, channels: u16, bits: u16, float: bool) -> hound::WavSpec {
    assert!(channels > 0, "a WAV needs at least one channel");
    let ok = if float {
        matches!(bits, 32 | 64)
    } else {
        matches!(bits, 8 | 16 | 24 | 32)
    };
    assert!(
        ok,
        "unsupported WAV encoding: {bits}-bit {}",
        if float { "float" } else { "integer" }
    );
    hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    }
}

/// The proptest settings of lungsound's property tests: `default_cases` cases per property
/// unless `PROPTEST_CASES` says otherwise (long runs), and no failure files written into
/// the source tree (a failing case is printed, with its seed, instead).
pub fn proptest_config(default_cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_cases),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sine_has_requested_length_frequency_and_amplitude() {
        let x = sine(1000.0, 8000, 0.5, 0.5);
        assert_eq!(x.len(), 4000);
        // 1 kHz at 8 kHz: period of 8 samples, peak at sample 2.
        assert!((x[2] - 0.5).abs() < 1e-6 && x[0].abs() < 1e-6 && (x[6] + 0.5).abs() < 1e-6);
        assert!((x[10] - x[2]).abs() < 1e-5);
    }

    #[test]
    fn chirp_sweeps_upwards() {
        let x = chirp(100.0, 1000.0, 8000, 1.0, 1.0);
        assert_eq!(x.len(), 8000);
        let crossings = |s: &[f32]| s.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!(crossings(&x[..800]) < crossings(&x[7200..]));
    }

    #[test]
    fn white_noise_is_deterministic_bounded_and_roughly_zero_mean() {
        let a = white_noise(10_000, 7);
        assert_eq!(a, white_noise(10_000, 7));
        assert_ne!(a, white_noise(10_000, 8));
        assert!(a.iter().all(|x| (-1.0..1.0).contains(x)));
        let mean = a.iter().map(|&x| f64::from(x)).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
    }

    #[test]
    fn hound_reads_back_what_write_wav_with_spec_wrote() {
        let dir = temp_dir();
        let samples = [0.0f32, 0.5, -0.5, -1.0];
        for (bits, float) in [
            (8, false),
            (16, false),
            (24, false),
            (32, false),
            (32, true),
        ] {
            let path = dir.path().join(format!("{bits}{float}.wav"));
            write_wav_with_spec(&path, &samples, 8000, 2, bits, float);
            let reader = hound::WavReader::open(&path).expect("open");
            let spec = reader.spec();
            assert_eq!(
                (spec.channels, spec.bits_per_sample, spec.sample_rate),
                (2, bits, 8000)
            );
            assert_eq!(reader.len(), 4);
        }
    }

    #[test]
    fn wav_bytes_has_a_plain_header_and_hounds_sample_bytes() {
        let dir = temp_dir();
        let samples = [0.25f32, -0.75, 1.0, -1.0];
        let path = dir.path().join("h.wav");
        write_wav_with_spec(&path, &samples, 4000, 1, 24, false);
        let from_hound = std::fs::read(&path).expect("read");
        let ours = wav_bytes(&samples, 4000, 1, 24, false);
        // hound writes WAVE_FORMAT_EXTENSIBLE (tag 0xfffe) above 16 bits; we write plain PCM.
        assert_eq!(&from_hound[20..22], &[0xfe, 0xff]);
        assert_eq!(&ours[20..22], &[1, 0]);
        assert_eq!(ours.len(), 44 + 12);
        assert_eq!(from_hound[from_hound.len() - 12..], ours[44..]);
    }

    #[test]
    fn quantize_clamps_full_scale() {
        assert_eq!(quantize(1.0, 16), 32767);
        assert_eq!(quantize(-1.0, 16), -32768);
        assert_eq!(quantize(0.5, 8), 64);
    }

    #[test]
    fn missing_env_folder_means_no_data() {
        // Only the pure helper is tested here: changing the environment would race other tests.
        assert_eq!(__function_name("a::b::test_name::__here"), "test_name");
    }
}

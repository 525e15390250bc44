//! Integration tests of lungsound-audio (one test binary, areas as modules).

mod corpus;
mod errors;
mod flac;
mod fuzz;
mod real_data;
mod resample;
mod wav;

use std::path::{Path, PathBuf};

/// `crates/audio/tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Integer samples of a WAV read by hound (independent of symphonia), interleaved.
pub fn hound_ints(path: &Path) -> (hound::WavSpec, Vec<i32>) {
    let mut reader = hound::WavReader::open(path).expect("hound opens the WAV");
    let spec = reader.spec();
    let samples = reader
        .samples::<i32>()
        .map(|s| s.expect("hound sample"))
        .collect();
    (spec, samples)
}

/// Channel mean of interleaved integer samples scaled by 2^(bits-1), computed as the
/// decoder does (f32 sum, then divide).
pub fn scaled_mono(ints: &[i32], channels: usize, bits: u16) -> Vec<f32> {
    let scale = (1u64 << (bits - 1)) as f64;
    ints.chunks_exact(channels)
        .map(|frame| {
            let sum: f32 = frame.iter().map(|&q| (f64::from(q) / scale) as f32).sum();
            sum / channels as f32
        })
        .collect()
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Root mean square.
pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
}

//! Time stretch: phase vocoder, duration scaled by `1 / rate`, pitch kept
//! (`librosa.effects.time_stretch`).

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::pitch_shift::{check_framing, clamp_framing};
use super::{Applied, check_range, draw_uniform, vocoder};
use crate::error::Error;

/// Smallest and largest stretch rate accepted: beyond these the phase
/// vocoder's smearing dominates (and a rate of 0.25 already makes a clip four
/// times longer).
pub const RATE_LIMITS: [f64; 2] = [0.25, 4.0];

/// Speeds up or slows down by a random rate without changing the pitch.
///
/// The output has `round(len / rate)` samples: `rate > 1` is faster and
/// shorter, `rate < 1` slower and longer. Clips used at a fixed length must
/// be cropped or padded afterwards (`lungsound_datasets::fit_length`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeStretch {
    /// Range `[min, max]` the rate is drawn from (uniform), within
    /// [`RATE_LIMITS`]; default `[0.8, 1.25]`.
    pub rate: [f64; 2],
    /// FFT size of the phase vocoder (librosa `n_fft`), >= 2; default 2048.
    pub n_fft: usize,
    /// Hop between vocoder frames (librosa `hop_length`), in `1..=n_fft / 2`;
    /// default 512.
    pub hop_length: usize,
}

impl Default for TimeStretch {
    fn default() -> Self {
        Self {
            rate: [0.8, 1.25],
            n_fft: 2048,
            hop_length: 512,
        }
    }
}

impl TimeStretch {
    /// Checks the ranges (see the fields).
    pub fn validate(&self) -> Result<(), Error> {
        check_range(
            "time_stretch.rate",
            self.rate,
            RATE_LIMITS[0],
            RATE_LIMITS[1],
        )?;
        check_framing("time_stretch", self.n_fft, self.hop_length)
    }

    /// Draws a rate from [`TimeStretch::rate`].
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Applied {
        Applied::TimeStretch {
            rate: draw_uniform(self.rate, rng),
            n_fft: self.n_fft,
            hop_length: self.hop_length,
        }
    }
}

/// Stretches `samples` in time by `1 / rate` keeping the pitch
/// (`librosa.effects.time_stretch(y, rate=rate, n_fft=n_fft, hop_length=hop_length)`):
/// STFT, phase vocoder, inverse STFT of `round(len / rate)` samples.
///
/// Out-of-range arguments are clamped rather than rejected: `rate` to
/// [`RATE_LIMITS`], `n_fft` to >= 2, `hop_length` to `1..=n_fft / 2`; a
/// non-finite `rate` returns the input unchanged.
pub fn time_stretch(samples: &[f32], rate: f64, n_fft: usize, hop_length: usize) -> Vec<f32> {
    if rate == 1.0 || !rate.is_finite() {
        return samples.to_vec();
    }
    let rate = rate.clamp(RATE_LIMITS[0], RATE_LIMITS[1]);
    let (n_fft, hop_length) = clamp_framing(n_fft, hop_length);
    let x: Vec<f64> = samples.iter().map(|&v| f64::from(v)).collect();
    vocoder::time_stretch(&x, rate, n_fft, hop_length)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

//! Pitch shift: phase-vocoder time stretch by `2^(-n/12)`, then band-limited
//! resampling back to the original length (`librosa.effects.pitch_shift`).

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Applied, check_range, draw_uniform, resample, vocoder};
use crate::error::{Error, invalid};

/// Largest shift accepted, in semitones (two octaves): a shift of `n`
/// semitones stretches the signal by `2^(n/12)` before resampling, so larger
/// values cost memory and sound nothing like a lung any more.
pub const MAX_SEMITONES: f64 = 24.0;

/// Shifts the pitch by a random number of semitones, keeping the duration.
///
/// Every frequency is multiplied by `2^(n/12)`; the signal keeps its length
/// (`librosa.effects.pitch_shift(y, sr=sr, n_steps=n, n_fft=n_fft,
/// hop_length=hop_length)`, with our sinc resampler instead of soxr).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PitchShift {
    /// Range `[min, max]` the shift `n` is drawn from (uniform, semitones;
    /// negative = lower). Each bound within ±[`MAX_SEMITONES`]; default
    /// `[-2, 2]`.
    pub semitones: [f64; 2],
    /// FFT size of the phase vocoder (librosa `n_fft`), >= 2; default 2048
    /// (librosa's). Smaller sizes smear short transients such as crackles
    /// less; clips shorter than about `n_fft` samples are better served by
    /// 256-512.
    pub n_fft: usize,
    /// Hop between vocoder frames (librosa `hop_length`), in
    /// `1..=n_fft / 2`; default 512 (`n_fft / 4`, librosa's).
    pub hop_length: usize,
}

impl Default for PitchShift {
    fn default() -> Self {
        Self {
            semitones: [-2.0, 2.0],
            n_fft: 2048,
            hop_length: 512,
        }
    }
}

impl PitchShift {
    /// Checks the ranges (see the fields).
    pub fn validate(&self) -> Result<(), Error> {
        check_range(
            "pitch_shift.semitones",
            self.semitones,
            -MAX_SEMITONES,
            MAX_SEMITONES,
        )?;
        check_framing("pitch_shift", self.n_fft, self.hop_length)
    }

    /// Draws a shift from [`PitchShift::semitones`].
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Applied {
        Applied::PitchShift {
            semitones: draw_uniform(self.semitones, rng),
            n_fft: self.n_fft,
            hop_length: self.hop_length,
        }
    }
}

/// `n_fft` clamped to >= 2 and `hop_length` to `1..=n_fft / 2`.
pub(crate) fn clamp_framing(n_fft: usize, hop_length: usize) -> (usize, usize) {
    let n_fft = n_fft.max(2);
    (n_fft, hop_length.clamp(1, n_fft / 2))
}

/// Checks `n_fft >= 2` and `1 <= hop_length <= n_fft / 2` for `what`.
pub(crate) fn check_framing(what: &str, n_fft: usize, hop_length: usize) -> Result<(), Error> {
    if n_fft < 2 {
        return invalid!("{what}.n_fft must be >= 2, got {n_fft}");
    }
    if hop_length == 0 || hop_length > n_fft / 2 {
        return invalid!(
            "{what}.hop_length must be in 1..=n_fft / 2 ({}), got {hop_length}",
            n_fft / 2
        );
    }
    Ok(())
}

/// Shifts `samples` by `n_steps` semitones (fractional allowed), keeping the
/// length.
///
/// `librosa.effects.pitch_shift`: the signal is time-stretched by
/// `rate = 2^(-n_steps / 12)` with the phase vocoder (so it becomes
/// `2^(n_steps / 12)` times longer at the same pitch), then resampled by
/// `rate` with a Kaiser-windowed sinc (anti-aliased when shifting up), and
/// cut or zero-padded to the input length. Frequencies pushed above the
/// Nyquist frequency are removed, not folded back. The sample rate does not
/// enter: the shift is a ratio.
///
/// Out-of-range arguments are clamped rather than rejected: `n_steps` to
/// ±[`MAX_SEMITONES`], `n_fft` to >= 2, `hop_length` to `1..=n_fft / 2`; a
/// non-finite `n_steps` returns the input unchanged.
pub fn pitch_shift(samples: &[f32], n_steps: f64, n_fft: usize, hop_length: usize) -> Vec<f32> {
    if samples.is_empty() || n_steps == 0.0 || !n_steps.is_finite() {
        return samples.to_vec();
    }
    let n_steps = n_steps.clamp(-MAX_SEMITONES, MAX_SEMITONES);
    let (n_fft, hop_length) = clamp_framing(n_fft, hop_length);
    let rate = 2f64.powf(-n_steps / 12.0);
    let x: Vec<f64> = samples.iter().map(|&v| f64::from(v)).collect();
    let stretched = vocoder::time_stretch(&x, rate, n_fft, hop_length);
    // Resample from sr / rate to sr: the output rate is `rate` times the input's.
    resample::resample(&stretched, rate, samples.len())
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

//! Complex STFT / inverse STFT and the phase vocoder, as librosa 0.11 does
//! them inside `librosa.effects.time_stretch`.
//!
//! - STFT: periodic Hann window of `n_fft`, `center=True` with zero padding
//!   of `n_fft / 2` at both ends (`pad_mode="constant"`, librosa 0.11's
//!   default), frames every `hop_length`.
//! - Phase vocoder (`librosa.phase_vocoder`): output frame `t` reads input
//!   position `t * rate`, interpolates the magnitude linearly between the two
//!   neighbouring frames and advances the phase by the expected advance
//!   `hop_length * 2 pi k / n_fft` plus the measured deviation, wrapped to
//!   `[-pi, pi]`.
//! - ISTFT (`librosa.istft` with `length`): windowed overlap-add divided by
//!   the summed squared window wherever that sum is not (numerically) zero,
//!   with the `n_fft / 2` centre padding removed and the result cut or
//!   zero-padded to `length`.
//!
//! All arithmetic is `f64`.

use std::f64::consts::PI;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::window;

type C64 = Complex<f64>;

/// `np.finfo(np.float32).tiny`: librosa's threshold for a usable window sum
/// (it divides in the dtype of the signal, float32 for our audio).
const TINY_F32: f64 = 1.175_494_350_822_287_5e-38;

/// A planned STFT of one `n_fft` / `hop_length`.
pub(crate) struct Vocoder {
    n_fft: usize,
    hop_length: usize,
    window: Vec<f64>,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
}

impl Vocoder {
    /// Plans the transforms. `n_fft >= 2` and `1 <= hop_length` are the
    /// caller's to check (see `PitchShift::validate`).
    pub(crate) fn new(n_fft: usize, hop_length: usize) -> Self {
        let mut planner = RealFftPlanner::<f64>::new();
        Self {
            n_fft,
            hop_length,
            window: window::hann(n_fft),
            forward: planner.plan_fft_forward(n_fft),
            inverse: planner.plan_fft_inverse(n_fft),
        }
    }

    /// Complex STFT, frames first: `result[t][k]`, `k < n_fft / 2 + 1`.
    pub(crate) fn stft(&self, y: &[f64]) -> Vec<Vec<C64>> {
        let pad = self.n_fft / 2;
        let mut padded = vec![0.0; y.len() + 2 * pad];
        padded[pad..pad + y.len()].copy_from_slice(y);
        if padded.len() < self.n_fft {
            padded.resize(self.n_fft, 0.0);
        }
        let n_frames = 1 + (padded.len() - self.n_fft) / self.hop_length;
        let mut frame = self.forward.make_input_vec();
        let mut scratch = self.forward.make_scratch_vec();
        (0..n_frames)
            .map(|t| {
                let start = t * self.hop_length;
                for ((f, &x), &w) in frame
                    .iter_mut()
                    .zip(&padded[start..start + self.n_fft])
                    .zip(&self.window)
                {
                    *f = x * w;
                }
                let mut spectrum = self.forward.make_output_vec();
                // Lengths come from the plan itself, so this cannot fail.
                let _ = self
                    .forward
                    .process_with_scratch(&mut frame, &mut spectrum, &mut scratch);
                spectrum
            })
            .collect()
    }

    /// Inverse STFT of frames from [`Vocoder::stft`] (or the phase vocoder),
    /// `length` samples long.
    pub(crate) fn istft(&self, frames: &[Vec<C64>], length: usize) -> Vec<f64> {
        let (n_fft, hop) = (self.n_fft, self.hop_length);
        let pad = n_fft / 2;
        // librosa trims the frames that cannot reach the output.
        let n_frames = frames.len().min((length + 2 * pad).div_ceil(hop));
        if n_frames == 0 {
            return vec![0.0; length];
        }
        let full = n_fft + hop * (n_frames - 1);
        let mut y = vec![0.0; full];
        let mut wss = vec![0.0; full];
        let mut spectrum = self.inverse.make_input_vec();
        let mut frame = self.inverse.make_output_vec();
        let mut scratch = self.inverse.make_scratch_vec();
        let scale = 1.0 / n_fft as f64; // numpy's irfft normalisation
        for (t, column) in frames.iter().take(n_frames).enumerate() {
            spectrum.copy_from_slice(column);
            // irfft ignores the imaginary parts of DC and Nyquist; realfft
            // rejects them, so drop them first.
            spectrum[0].im = 0.0;
            if n_fft.is_multiple_of(2) {
                let last = spectrum.len() - 1;
                spectrum[last].im = 0.0;
            }
            let _ = self
                .inverse
                .process_with_scratch(&mut spectrum, &mut frame, &mut scratch);
            let start = t * hop;
            for (i, (&v, &w)) in frame.iter().zip(&self.window).enumerate() {
                y[start + i] += v * scale * w;
                wss[start + i] += w * w;
            }
        }
        let mut out: Vec<f64> = y
            .iter()
            .zip(&wss)
            .skip(pad)
            .take(length)
            .map(|(&v, &w)| if w > TINY_F32 { v / w } else { v })
            .collect();
        out.resize(length, 0.0);
        out
    }

    /// `librosa.phase_vocoder(D, rate=rate, hop_length=hop_length, n_fft=n_fft)`:
    /// `ceil(n_frames / rate)` output frames.
    pub(crate) fn phase_vocoder(&self, d: &[Vec<C64>], rate: f64) -> Vec<Vec<C64>> {
        let Some(first) = d.first() else {
            return Vec::new();
        };
        let n_bins = first.len();
        // hop_length * fft_frequencies(sr=2 pi, n_fft).
        let phi_advance: Vec<f64> = (0..n_bins)
            .map(|k| self.hop_length as f64 * (k as f64 * (2.0 * PI) / self.n_fft as f64))
            .collect();
        let mut phase_acc: Vec<f64> = first.iter().map(|c| c.arg()).collect();
        let zero = vec![C64::new(0.0, 0.0); n_bins];
        let column = |i: usize| d.get(i).unwrap_or(&zero);
        let n_out = (d.len() as f64 / rate).ceil() as usize;
        let mut out = Vec::with_capacity(n_out);
        for t in 0..n_out {
            // np.arange(0, n, rate)[t] = t * rate.
            let step = t as f64 * rate;
            if step >= d.len() as f64 {
                break;
            }
            let i = step as usize;
            let alpha = step.rem_euclid(1.0);
            let (c0, c1) = (column(i), column(i + 1));
            let mut frame = Vec::with_capacity(n_bins);
            for k in 0..n_bins {
                let mag = (1.0 - alpha) * c0[k].norm() + alpha * c1[k].norm();
                frame.push(C64::from_polar(mag, phase_acc[k]));
                let mut dphase = c1[k].arg() - c0[k].arg() - phi_advance[k];
                dphase -= 2.0 * PI * (dphase / (2.0 * PI)).round_ties_even();
                phase_acc[k] += phi_advance[k] + dphase;
            }
            out.push(frame);
        }
        out
    }
}

/// `librosa.effects.time_stretch(y, rate=rate, n_fft=n_fft, hop_length=hop_length)`:
/// `round(len / rate)` samples (ties to even, like Python's `round`).
pub(crate) fn time_stretch(y: &[f64], rate: f64, n_fft: usize, hop_length: usize) -> Vec<f64> {
    if y.is_empty() {
        return Vec::new();
    }
    let vocoder = Vocoder::new(n_fft, hop_length);
    let stretched = vocoder.phase_vocoder(&vocoder.stft(y), rate);
    let length = (y.len() as f64 / rate).round_ties_even() as usize;
    vocoder.istft(&stretched, length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stft_istft_round_trip_is_exact() {
        let y: Vec<f64> = (0..3001)
            .map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0)
            .collect();
        for &(n_fft, hop) in &[(2048, 512), (512, 128), (256, 100), (255, 64)] {
            let v = Vocoder::new(n_fft, hop);
            let back = v.istft(&v.stft(&y), y.len());
            assert_eq!(back.len(), y.len());
            let err = y
                .iter()
                .zip(&back)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-9, "n_fft {n_fft} hop {hop}: {err}");
        }
    }

    #[test]
    fn rate_one_is_identity() {
        let y: Vec<f64> = (0..4000).map(|i| (i as f64 * 0.05).sin()).collect();
        let out = time_stretch(&y, 1.0, 512, 128);
        let err = y
            .iter()
            .zip(&out)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-9, "{err}");
    }

    #[test]
    fn short_and_empty_inputs() {
        assert!(time_stretch(&[], 0.8, 2048, 512).is_empty());
        assert_eq!(time_stretch(&[0.5; 10], 0.5, 2048, 512).len(), 20);
        assert_eq!(time_stretch(&[0.5; 1], 2.0, 2048, 512).len(), 0);
    }
}

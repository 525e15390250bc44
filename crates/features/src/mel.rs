//! Mel scale and mel filterbank, as `librosa.filters.mel` 0.11 builds them.
//!
//! Every step follows librosa's arithmetic in `f64` (`fft_frequencies`,
//! `mel_frequencies`, triangular ramps, Slaney area normalisation) and the
//! result is rounded to `f32` where librosa rounds, so the matrix agrees with
//! librosa's to float32 precision. [`SparseFilterbank`] stores each filter's
//! short non-zero run so applying it costs ~2 multiply-adds per STFT bin
//! instead of a dense `n_mels x n_bins` product.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Filter normalisation (librosa's `norm` argument of `filters.mel`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelNorm {
    /// Divide each triangle by its width in Hz (`norm="slaney"`, librosa's default):
    /// constant energy per channel.
    #[default]
    Slaney,
    /// Leave the triangles with peak 1 (`norm=None`).
    None,
}

impl std::str::FromStr for MelNorm {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "slaney" => Ok(MelNorm::Slaney),
            "none" => Ok(MelNorm::None),
            _ => Err(crate::Error::Parse(format!(
                "unknown mel norm {s:?} (expected slaney or none)"
            ))),
        }
    }
}

impl std::fmt::Display for MelNorm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MelNorm::Slaney => "slaney",
            MelNorm::None => "none",
        })
    }
}

// Slaney's Auditory Toolbox constants, as in librosa.core.convert.hz_to_mel.
const F_MIN: f64 = 0.0;
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;

fn min_log_mel() -> f64 {
    (MIN_LOG_HZ - F_MIN) / F_SP
}

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz → mel (`librosa.hz_to_mel`): Slaney (linear below 1 kHz, log above) or HTK.
pub fn hz_to_mel(frequency_hz: f64, htk: bool) -> f64 {
    if htk {
        return 2595.0 * (1.0 + frequency_hz / 700.0).log10();
    }
    if frequency_hz >= MIN_LOG_HZ {
        min_log_mel() + (frequency_hz / MIN_LOG_HZ).ln() / logstep()
    } else {
        (frequency_hz - F_MIN) / F_SP
    }
}

/// Mel → Hz (`librosa.mel_to_hz`), the inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64, htk: bool) -> f64 {
    if htk {
        return 700.0 * (10f64.powf(mel / 2595.0) - 1.0);
    }
    if mel >= min_log_mel() {
        MIN_LOG_HZ * (logstep() * (mel - min_log_mel())).exp()
    } else {
        F_MIN + F_SP * mel
    }
}

/// `n` frequencies (Hz) evenly spaced on the mel scale from `fmin` to `fmax`
/// inclusive (`librosa.mel_frequencies`).
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64, htk: bool) -> Vec<f64> {
    linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n)
        .into_iter()
        .map(|m| mel_to_hz(m, htk))
        .collect()
}

/// Centre frequency (Hz) of each of the `1 + n_fft / 2` STFT bins
/// (`librosa.fft_frequencies`, i.e. `np.fft.rfftfreq(n_fft, 1 / sr)`).
pub fn fft_frequencies(sample_rate: u32, n_fft: usize) -> Vec<f64> {
    let val = 1.0 / (n_fft as f64 * (1.0 / f64::from(sample_rate)));
    (0..=n_fft / 2).map(|k| k as f64 * val).collect()
}

/// `np.linspace(start, stop, n)`, with numpy's arithmetic (`i * step + start`, exact endpoint).
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let div = (n - 1) as f64;
    let step = (stop - start) / div;
    let mut out: Vec<f64> = (0..n)
        .map(|i| {
            if step == 0.0 {
                i as f64 / div * (stop - start) + start
            } else {
                i as f64 * step + start
            }
        })
        .collect();
    if let Some(last) = out.last_mut() {
        *last = stop;
    }
    out
}

/// Mel filterbank matrix (`librosa.filters.mel(sr=sample_rate, n_fft=n_fft,
/// n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)`).
///
/// `fmax = None` means `sample_rate / 2`. Triangles are spaced evenly on the
/// mel scale (Slaney's, or HTK's with `htk`); with [`MelNorm::Slaney`] each is
/// scaled by `2 / (f_right - f_left)`. No parameter is validated here (as in
/// librosa): `fmax` above Nyquist or too many mels for `n_fft` give empty
/// (all-zero) filters, `fmin == fmax` gives NaN.
/// [`crate::FeatureExtractor::new`] validates before calling this.
///
/// # Shapes
/// → `[n_mels, 1 + n_fft / 2]`
pub fn filterbank(
    sample_rate: u32,
    n_fft: usize,
    n_mels: usize,
    fmin: f32,
    fmax: Option<f32>,
    htk: bool,
    norm: MelNorm,
) -> Array2<f32> {
    let fmax = fmax.map_or(f64::from(sample_rate) / 2.0, f64::from);
    let fftfreqs = fft_frequencies(sample_rate, n_fft);
    let mel_f = mel_frequencies(n_mels + 2, f64::from(fmin), fmax, htk);
    let fdiff: Vec<f64> = mel_f.windows(2).map(|w| w[1] - w[0]).collect();
    let mut weights = Array2::<f32>::zeros((n_mels, fftfreqs.len()));
    for (i, mut row) in weights.outer_iter_mut().enumerate() {
        // librosa fills a float32 matrix with the float64 ramps, then multiplies
        // in place by the float64 Slaney factor: two roundings, reproduced here.
        let enorm = match norm {
            MelNorm::Slaney => Some(2.0 / (mel_f[i + 2] - mel_f[i])),
            MelNorm::None => None,
        };
        for (w, &f) in row.iter_mut().zip(&fftfreqs) {
            let lower = -(mel_f[i] - f) / fdiff[i];
            let upper = (mel_f[i + 2] - f) / fdiff[i + 1];
            let tri = 0f64.max(lower.min(upper)) as f32;
            *w = match enorm {
                Some(e) => (f64::from(tri) * e) as f32,
                None => tri,
            };
        }
    }
    weights
}

/// Partial sums in [`SparseFilterbank::apply`]: one AVX register of `f32`.
const LANES: usize = 8;
// `apply`'s final reduction is written out for eight lanes.
const _: () = assert!(LANES == 8);

/// A filterbank stored as one contiguous non-zero run per filter.
///
/// Mel triangles touch only the bins between their neighbours' centres, so
/// this holds ~2 weights per STFT bin in total instead of `n_mels x n_bins`.
#[derive(Clone, Debug)]
pub(crate) struct SparseFilterbank {
    /// Per filter: first bin, and the range of its weights in `weights`.
    runs: Vec<(usize, std::ops::Range<usize>)>,
    weights: Vec<f32>,
}

impl SparseFilterbank {
    /// Keep the non-zero run `[first, last]` of each row of a dense `[n_filters, n_bins]` matrix.
    pub(crate) fn from_dense(dense: &Array2<f32>) -> Self {
        let n_bins = dense.ncols();
        let mut runs = Vec::with_capacity(dense.nrows());
        let mut weights = Vec::new();
        for row in dense.outer_iter() {
            let first = row.iter().position(|&w| w != 0.0);
            let last = row.iter().rposition(|&w| w != 0.0);
            let begin = weights.len();
            let start = match (first, last) {
                (Some(first), Some(last)) => {
                    // Widen the run (with the row's own zeros) to whole SIMD chunks
                    // so `apply` needs no scalar remainder loop.
                    let len = (last + 1 - first).next_multiple_of(LANES).min(n_bins);
                    let start = first.min(n_bins - len);
                    weights.extend(row.iter().skip(start).take(len).copied());
                    start
                }
                _ => 0,
            };
            runs.push((start, begin..weights.len()));
        }
        Self { runs, weights }
    }

    /// Number of filters (output rows).
    pub(crate) fn len(&self) -> usize {
        self.runs.len()
    }

    /// `out[m] = sum_k weights[m, k] * power[k]` for every filter `m`.
    ///
    /// In `f32`, like librosa's `einsum` of two float32 arrays: the terms are
    /// non-negative, so the sum loses at most a few ulps.
    pub(crate) fn apply(&self, power: &[f32], out: &mut [f32]) {
        for ((start, range), o) in self.runs.iter().zip(out) {
            let w = &self.weights[range.clone()];
            let p = &power[*start..*start + w.len()];
            // Independent partial sums: one running sum is a chain of dependent
            // additions (~4 cycles each), eight lanes fill an AVX register.
            let mut lanes = [0f32; LANES];
            let (wc, pc) = (w.chunks_exact(LANES), p.chunks_exact(LANES));
            let tail: f32 = wc
                .remainder()
                .iter()
                .zip(pc.remainder())
                .map(|(a, b)| a * b)
                .sum();
            for (a, b) in wc.zip(pc) {
                for k in 0..LANES {
                    lanes[k] += a[k] * b[k];
                }
            }
            // Pairwise, so the reduction vectorises too.
            let half: [f32; LANES / 2] = std::array::from_fn(|k| lanes[k] + lanes[k + LANES / 2]);
            *o = ((half[0] + half[2]) + (half[1] + half[3])) + tail;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn slaney_scale_is_linear_below_1khz_and_log_above() {
        assert_relative_eq!(hz_to_mel(0.0, false), 0.0);
        assert_relative_eq!(hz_to_mel(500.0, false), 7.5, max_relative = 1e-12);
        assert_relative_eq!(hz_to_mel(1000.0, false), 15.0, max_relative = 1e-12);
        // 6.4 kHz is exactly 27 log-steps above 1 kHz.
        assert_relative_eq!(hz_to_mel(6400.0, false), 42.0, max_relative = 1e-12);
        for f in [0.0, 123.4, 999.0, 1000.0, 4000.0, 11025.0] {
            assert_relative_eq!(
                mel_to_hz(hz_to_mel(f, false), false),
                f,
                max_relative = 1e-12
            );
            assert_relative_eq!(mel_to_hz(hz_to_mel(f, true), true), f, max_relative = 1e-12);
        }
        assert_relative_eq!(
            hz_to_mel(700.0, true),
            2595.0 * 2f64.log10(),
            max_relative = 1e-12
        );
    }

    #[test]
    fn filterbank_shape_and_slaney_area() {
        let fb = filterbank(8000, 2048, 128, 0.0, None, false, MelNorm::Slaney);
        assert_eq!(fb.dim(), (128, 1025));
        assert!(fb.iter().all(|&w| w >= 0.0));
        // Every filter has weights; Slaney-normalised triangles have area ~1 in Hz.
        let hz_per_bin = 8000.0 / 2048.0;
        for row in fb.outer_iter() {
            let area: f32 = row.sum() * hz_per_bin;
            assert!(area > 0.5 && area < 1.5, "area {area}");
        }
        let peaks = filterbank(8000, 2048, 128, 0.0, None, false, MelNorm::None);
        assert!(peaks.iter().all(|&w| w <= 1.0));
    }

    #[test]
    fn sparse_filterbank_matches_dense_product() {
        let dense = filterbank(22050, 1024, 40, 50.0, Some(8000.0), true, MelNorm::Slaney);
        let sparse = SparseFilterbank::from_dense(&dense);
        assert_eq!(sparse.len(), 40);
        let power: Vec<f32> = (0..513)
            .map(|k| 1.0 + (k as f32 * 0.37).sin().abs())
            .collect();
        let mut out = vec![0f32; 40];
        sparse.apply(&power, &mut out);
        for (m, row) in dense.outer_iter().enumerate() {
            let want: f64 = row
                .iter()
                .zip(&power)
                .map(|(&w, &p)| f64::from(w) * f64::from(p))
                .sum();
            assert_relative_eq!(f64::from(out[m]), want, max_relative = 1e-6);
        }
        // Far fewer stored weights than the dense matrix, in whole SIMD chunks.
        assert!(sparse.weights.len() < 3 * 513);
        assert!(sparse.runs.iter().all(|(_, r)| r.len() % LANES == 0));
    }

    #[test]
    fn norm_parses() {
        assert_eq!("slaney".parse::<MelNorm>().ok(), Some(MelNorm::Slaney));
        assert_eq!("None".parse::<MelNorm>().ok(), Some(MelNorm::None));
        assert!("l2".parse::<MelNorm>().is_err());
    }
}

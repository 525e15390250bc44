//! A small band-limited resampler for arbitrary (irrational) ratios:
//! Kaiser-windowed sinc interpolation, as in resampy / Julius O. Smith's
//! "bandlimited interpolation".
//!
//! Output sample `j` sits at input position `t = j / ratio`
//! (`ratio = out_rate / in_rate`) and is
//! `sum_i x[i] * fc * k(fc * (t - i))` with
//! `k(u) = sinc(u) * kaiser(u / ZEROS)` for `|u| < ZEROS`, and cutoff
//! `fc = ROLLOFF * min(1, ratio)` in units of the input Nyquist rate, so
//! that downsampling removes everything above the new Nyquist frequency
//! first. The kernel is tabulated once (`OVERSAMPLE` points per zero
//! crossing, linear interpolation in between).
//!
//! Constants: `ZEROS = 32` zero crossings each side, `ROLLOFF = 0.945`
//! (pass band up to 94.5 % of the lower Nyquist frequency, like soxr's "HQ"
//! ~95 %), Kaiser `BETA = 10` (about -100 dB side lobes). With these,
//! `tests/augment.rs` measures a tone shifted above the new Nyquist frequency
//! at below -60 dB of the input.
//!
//! This lives here because `lungsound-features` does not depend on
//! `lungsound-audio` (whose `resample` is rubato, for integer rates only).

use std::f64::consts::PI;
use std::sync::OnceLock;

/// Zero crossings of the sinc on each side of the centre.
const ZEROS: usize = 32;
/// Table points per zero crossing.
const OVERSAMPLE: usize = 512;
/// Fraction of the lower Nyquist frequency that is kept.
const ROLLOFF: f64 = 0.945;
/// Kaiser window shape parameter.
const BETA: f64 = 10.0;

/// `k(u)` at `u = i / OVERSAMPLE`, `i = 0 ..= ZEROS * OVERSAMPLE` (plus one
/// zero so interpolation at the end needs no check).
fn kernel_table() -> &'static [f64] {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let n = ZEROS * OVERSAMPLE;
        let i0_beta = bessel_i0(BETA);
        let mut table: Vec<f64> = (0..=n)
            .map(|i| {
                let u = i as f64 / OVERSAMPLE as f64;
                let sinc = if i == 0 {
                    1.0
                } else {
                    (PI * u).sin() / (PI * u)
                };
                let x = u / ZEROS as f64;
                let window = bessel_i0(BETA * (1.0 - x * x).max(0.0).sqrt()) / i0_beta;
                sinc * window
            })
            .collect();
        table.push(0.0);
        table
    })
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..200 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// Resamples `x` by `ratio` (output rate / input rate), returning exactly
/// `n_out` samples; positions past the end of `x` read zeros.
pub(crate) fn resample(x: &[f64], ratio: f64, n_out: usize) -> Vec<f64> {
    let table = kernel_table();
    let fc = ROLLOFF * ratio.min(1.0);
    // Kernel half-width in input samples.
    let half = ZEROS as f64 / fc;
    let scale = fc * OVERSAMPLE as f64;
    let last = x.len() as isize - 1;
    (0..n_out)
        .map(|j| {
            let t = j as f64 / ratio;
            let lo = ((t - half).ceil() as isize).max(0);
            let hi = ((t + half).floor() as isize).min(last);
            let mut acc = 0.0;
            for i in lo..=hi {
                let pos = (t - i as f64).abs() * scale;
                let idx = pos as usize;
                if idx >= ZEROS * OVERSAMPLE {
                    continue;
                }
                let frac = pos - idx as f64;
                let k = table[idx] + frac * (table[idx + 1] - table[idx]);
                acc += x[i as usize] * k;
            }
            acc * fc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i0_matches_known_values() {
        // scipy.special.i0
        assert!((bessel_i0(0.0) - 1.0).abs() < 1e-15);
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_4).abs() < 1e-14);
        assert!((bessel_i0(10.0) - 2_815.716_628_466_254).abs() < 1e-9);
    }

    #[test]
    fn ratio_one_keeps_a_low_tone() {
        let x: Vec<f64> = (0..2000).map(|i| (i as f64 * 0.1).sin()).collect();
        let y = resample(&x, 1.0, x.len());
        // Away from the edges the band-limited copy equals the input.
        let err = x[100..1900]
            .iter()
            .zip(&y[100..1900])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-3, "{err}");
    }

    #[test]
    fn downsampling_keeps_dc_gain() {
        let x = vec![1.0; 4000];
        for ratio in [0.5, 0.7937, 1.0, 1.4983, 2.0] {
            let n = (4000.0 * ratio) as usize;
            let y = resample(&x, ratio, n);
            let mid = y[n / 2];
            assert!((mid - 1.0).abs() < 2e-3, "ratio {ratio}: {mid}");
        }
    }
}

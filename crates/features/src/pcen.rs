//! Per-channel energy normalisation (`librosa.pcen`, Wang et al. 2017).
//!
//! Each frequency row is divided by a slowly smoothed copy of itself (an
//! automatic gain control along time), then compressed:
//!
//! ```text
//! M[t]   = b S[t] + (1 - b) M[t-1],   M[-1] = 1   (librosa's lfilter_zi state)
//! P[t]   = (S[t] / (eps + M[t])^gain + bias)^power - bias^power
//! b      = (sqrt(1 + 4 T^2) - 1) / (2 T^2),   T = time_constant * sr / hop_length  (T^2 b^2 + b = 1)
//! ```
//!
//! Where a dB scale keeps the level of every bin relative to the clip's loudest
//! one, PCEN keeps each band's level relative to that band's recent past: steady
//! background (stethoscope hum, breath) is flattened and onsets (crackles) stand out.
//! As a spectrogram option ([`FeatureConfig::pcen`](crate::FeatureConfig::pcen)) it is
//! applied the way librosa's documentation does: to the mel *magnitude* spectrogram
//! (`power=1`) scaled by 2^31, the range of 32-bit integer audio that PCEN's defaults
//! assume.

use ndarray::{Array2, ArrayBase, Axis, DataMut, Ix2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, invalid};

/// The factor librosa's documentation scales float audio's mel magnitudes by before
/// [`pcen`]: 2^31, the full scale of 32-bit integer samples.
pub const PCEN_INPUT_SCALE: f64 = 2_147_483_648.0;

/// PCEN parameters, librosa 0.11's names and defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcenParams {
    /// Exponent of the gain control (`gain`), >= 0. Default 0.98.
    pub gain: f64,
    /// Offset before compression (`bias`), >= 0. Default 2.
    pub bias: f64,
    /// Compression exponent (`power`), >= 0; 0 means `log1p`. Default 0.5.
    pub power: f64,
    /// Time constant of the smoother in seconds (`time_constant`), > 0. Default 0.4.
    pub time_constant: f64,
    /// Floor of the smoothed energy (`eps`), > 0. Default 1e-6.
    pub eps: f64,
}

impl Default for PcenParams {
    fn default() -> Self {
        Self {
            gain: 0.98,
            bias: 2.0,
            power: 0.5,
            time_constant: 0.4,
            eps: 1e-6,
        }
    }
}

impl PcenParams {
    /// Check librosa's rules; the error names the parameter and its value.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] on the first broken rule.
    pub fn validate(&self) -> Result<(), Error> {
        let non_negative = [
            ("gain", self.gain),
            ("bias", self.bias),
            ("power", self.power),
        ];
        for (name, value) in non_negative {
            if !(value >= 0.0 && value.is_finite()) {
                return invalid!("pcen {name} must be >= 0, got {value}");
            }
        }
        for (name, value) in [("time_constant", self.time_constant), ("eps", self.eps)] {
            if !(value > 0.0 && value.is_finite()) {
                return invalid!("pcen {name} must be > 0, got {value}");
            }
        }
        Ok(())
    }

    /// The smoother's coefficient `b` for frames `hop_length` samples apart at
    /// `sample_rate` Hz (librosa's default: the root in (0, 1) of `T^2 b^2 + b - 1 = 0`,
    /// `T = time_constant * sample_rate / hop_length` frames).
    pub fn smoothing_coefficient(&self, sample_rate: u32, hop_length: usize) -> f64 {
        let t_frames = self.time_constant * f64::from(sample_rate) / hop_length as f64;
        ((1.0 + 4.0 * t_frames * t_frames).sqrt() - 1.0) / (2.0 * t_frames * t_frames)
    }
}

/// `librosa.pcen(S, sr=sample_rate, hop_length=hop_length, ...)` of a non-negative
/// spectrogram `[n_freq, n_frames]` (time along the rows), in place.
///
/// Computed in `f64`, as librosa does for its filter state, and stored as `f32`.
///
/// # Errors
/// [`Error::InvalidParameter`] if `params` break librosa's rules or `hop_length` is 0.
pub fn pcen_in_place<S>(
    s: &mut ArrayBase<S, Ix2>,
    sample_rate: u32,
    hop_length: usize,
    params: &PcenParams,
) -> Result<(), Error>
where
    S: DataMut<Elem = f32>,
{
    params.validate()?;
    if hop_length == 0 || sample_rate == 0 {
        return invalid!(
            "pcen needs sample_rate and hop_length > 0, got {sample_rate} and {hop_length}"
        );
    }
    let b = params.smoothing_coefficient(sample_rate, hop_length);
    let PcenParams {
        gain,
        bias,
        power,
        eps,
        ..
    } = *params;
    let log_eps = eps.ln();
    let bias_power = bias.powf(power);
    for mut row in s.axis_iter_mut(Axis(0)) {
        let mut smoothed = 1.0f64;
        for x in row.iter_mut() {
            let value = f64::from(*x);
            smoothed = b * value + (1.0 - b) * smoothed;
            // (eps + M)^-gain, in log space as librosa computes it.
            let agc = (-gain * (log_eps + (smoothed / eps).ln_1p())).exp();
            let normalised = value * agc;
            let out = if power == 0.0 {
                normalised.ln_1p()
            } else if bias == 0.0 {
                (power * (value.ln() + agc.ln())).exp()
            } else {
                bias_power * (power * (normalised / bias).ln_1p()).exp_m1()
            };
            *x = out as f32;
        }
    }
    Ok(())
}

/// [`pcen_in_place`] on a copy.
///
/// # Errors
/// As [`pcen_in_place`].
pub fn pcen(
    s: &Array2<f32>,
    sample_rate: u32,
    hop_length: usize,
    params: &PcenParams,
) -> Result<Array2<f32>, Error> {
    let mut out = s.clone();
    pcen_in_place(&mut out, sample_rate, hop_length, params)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn defaults_are_librosas() {
        let p = PcenParams::default();
        assert_eq!(
            (p.gain, p.bias, p.power, p.time_constant, p.eps),
            (0.98, 2.0, 0.5, 0.4, 1e-6)
        );
        assert!(p.validate().is_ok());
    }

    #[test]
    fn smoothing_coefficient_solves_librosas_equation() {
        let p = PcenParams::default();
        let b = p.smoothing_coefficient(8000, 128);
        let t = 0.4 * 8000.0 / 128.0;
        // T^2 b^2 + b - 1 = 0 is the equation librosa's closed form solves.
        assert!((t * t * b * b + b - 1.0).abs() < 1e-12, "{b}");
        assert!(b > 0.0 && b < 1.0);
    }

    #[test]
    fn a_steady_band_settles_to_a_level_that_does_not_depend_on_its_loudness() {
        // With gain 1 and no eps, S / M -> 1 for any constant S: the AGC removes level.
        let params = PcenParams {
            gain: 1.0,
            eps: 1e-12,
            ..PcenParams::default()
        };
        let mut s = Array2::from_elem((2, 400), 1.0e6f32);
        s.row_mut(1).fill(1.0e9);
        pcen_in_place(&mut s, 8000, 128, &params).expect("valid");
        let settled = 2f64.sqrt() * ((1.0f64 + 0.5).sqrt() - 1.0);
        for row in s.rows() {
            let last = f64::from(row[399]);
            assert!((last - settled).abs() < 1e-4, "{last} vs {settled}");
        }
    }

    #[test]
    fn an_onset_stands_out_of_a_steady_background() {
        let mut s = Array2::from_elem((1, 300), 1.0e6f32);
        s[[0, 200]] = 1.0e8;
        pcen_in_place(&mut s, 8000, 128, &PcenParams::default()).expect("valid");
        let (before, onset) = (s[[0, 199]], s[[0, 200]]);
        assert!(onset > 5.0 * before, "{onset} vs {before}");
    }

    #[test]
    fn power_zero_and_bias_zero_take_librosas_branches() {
        let s = array![[1.0e3f32, 2.0e3, 4.0e3]];
        let log = pcen(
            &s,
            8000,
            128,
            &PcenParams {
                power: 0.0,
                ..PcenParams::default()
            },
        )
        .expect("valid");
        let no_bias = pcen(
            &s,
            8000,
            128,
            &PcenParams {
                bias: 0.0,
                ..PcenParams::default()
            },
        )
        .expect("valid");
        assert!(
            log.iter()
                .chain(&no_bias)
                .all(|v| v.is_finite() && *v > 0.0)
        );
        // power 0 is log1p(S * agc); bias 0 is (S * agc)^power: sqrt(x) vs log1p(x) of one x.
        for (l, n) in log.iter().zip(&no_bias) {
            let x = f64::from(*n).powi(2);
            assert!(
                (f64::from(*l) - x.ln_1p()).abs() < 1e-4 * x.ln_1p(),
                "{l} {n}"
            );
        }
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            (
                PcenParams {
                    gain: -1.0,
                    ..PcenParams::default()
                },
                "gain",
            ),
            (
                PcenParams {
                    bias: f64::NAN,
                    ..PcenParams::default()
                },
                "bias",
            ),
            (
                PcenParams {
                    power: -0.5,
                    ..PcenParams::default()
                },
                "power",
            ),
            (
                PcenParams {
                    time_constant: 0.0,
                    ..PcenParams::default()
                },
                "time_constant",
            ),
            (
                PcenParams {
                    eps: 0.0,
                    ..PcenParams::default()
                },
                "eps",
            ),
        ];
        for (params, name) in cases {
            let err = params.validate().expect_err(name).to_string();
            assert!(err.contains(name), "{err}");
        }
        let mut s = Array2::<f32>::ones((1, 3));
        let err = pcen_in_place(&mut s, 8000, 0, &PcenParams::default()).expect_err("hop 0");
        assert!(err.to_string().contains("hop_length"), "{err}");
    }
}

//! Time shift: move the signal in time by a random number of samples, either
//! rolling it around (`np.roll`) or shifting in silence.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Applied, check_range, draw_uniform};
use crate::error::Error;

/// What happens to the samples pushed past one end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftMode {
    /// Circular shift: they come back in at the other end (`np.roll`), so
    /// nothing is lost; suits cyclic content such as breathing.
    #[default]
    Roll,
    /// They are dropped and the gap is filled with zeros.
    Zero,
}

impl std::fmt::Display for ShiftMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ShiftMode::Roll => "roll",
            ShiftMode::Zero => "zero",
        })
    }
}

impl std::str::FromStr for ShiftMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "roll" => Ok(ShiftMode::Roll),
            "zero" | "zeros" | "zero_fill" | "zero-fill" => Ok(ShiftMode::Zero),
            other => Err(Error::Parse(format!(
                "unknown time shift mode {other:?}: expected \"roll\" or \"zero\""
            ))),
        }
    }
}

/// Shifts the signal by a random offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeShift {
    /// Range `[min, max]` of the shift in seconds (finite, min <= max);
    /// positive moves the content later. The shift in samples is drawn
    /// uniformly from the integers in `[round(min * sr), round(max * sr)]`.
    /// Default `[-0.5, 0.5]`.
    pub shift_s: [f64; 2],
    /// Roll around (default) or fill with zeros.
    pub mode: ShiftMode,
}

impl Default for TimeShift {
    fn default() -> Self {
        Self {
            shift_s: [-0.5, 0.5],
            mode: ShiftMode::Roll,
        }
    }
}

impl TimeShift {
    /// Checks the range (see the fields).
    pub fn validate(&self) -> Result<(), Error> {
        check_range("time_shift.shift_s", self.shift_s, f64::MIN, f64::MAX)
    }

    /// Draws a shift in samples at `sample_rate`.
    pub fn draw<R: Rng + ?Sized>(&self, sample_rate: u32, rng: &mut R) -> Applied {
        let sr = f64::from(sample_rate);
        let lo = (self.shift_s[0].min(self.shift_s[1]) * sr).round();
        let hi = (self.shift_s[0].max(self.shift_s[1]) * sr).round();
        // Uniform over the integers lo..=hi (one draw, whatever the range).
        let shift = draw_uniform([lo, hi + 1.0], rng).floor().min(hi);
        Applied::TimeShift {
            shift_samples: shift as i64,
            mode: self.mode,
        }
    }
}

/// Circular shift by `shift` samples (`np.roll(samples, shift)`): output
/// `i` is input `(i - shift) mod len`; positive moves the content later.
pub fn roll(samples: &[f32], shift: i64) -> Vec<f32> {
    let n = samples.len();
    if n == 0 {
        return Vec::new();
    }
    let k = shift.rem_euclid(n as i64) as usize;
    let mut out = Vec::with_capacity(n);
    out.extend_from_slice(&samples[n - k..]);
    out.extend_from_slice(&samples[..n - k]);
    out
}

/// Shift by `shift` samples with `mode`: [`roll`], or move and fill the gap
/// with zeros (a shift of `len` or more gives all zeros).
pub fn time_shift(samples: &[f32], shift: i64, mode: ShiftMode) -> Vec<f32> {
    match mode {
        ShiftMode::Roll => roll(samples, shift),
        ShiftMode::Zero => {
            let n = samples.len();
            let k = usize::try_from(shift.unsigned_abs())
                .unwrap_or(usize::MAX)
                .min(n);
            let mut out = vec![0.0; n];
            if shift >= 0 {
                out[k..].copy_from_slice(&samples[..n - k]);
            } else {
                out[..n - k].copy_from_slice(&samples[k..]);
            }
            out
        }
    }
}

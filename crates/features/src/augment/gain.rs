//! Gain: scale by a random number of decibels.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Applied, check_range, draw_uniform};
use crate::error::Error;

/// Largest |gain| accepted, in dB.
pub const MAX_GAIN_DB: f64 = 60.0;

/// Multiplies the signal by `10^(gain_db / 20)`.
///
/// Nothing is clipped: a positive gain can push samples beyond ±1 (our WAVs
/// are 32-bit float, so they survive writing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gain {
    /// Range `[min, max]` the gain is drawn from (uniform, dB), each bound
    /// within ±[`MAX_GAIN_DB`]; default `[-6, 6]`.
    pub gain_db: [f64; 2],
}

impl Default for Gain {
    fn default() -> Self {
        Self {
            gain_db: [-6.0, 6.0],
        }
    }
}

impl Gain {
    /// Checks the range (see the field).
    pub fn validate(&self) -> Result<(), Error> {
        check_range("gain.gain_db", self.gain_db, -MAX_GAIN_DB, MAX_GAIN_DB)
    }

    /// Draws a gain from [`Gain::gain_db`].
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Applied {
        Applied::Gain {
            gain_db: draw_uniform(self.gain_db, rng),
        }
    }
}

/// `samples * 10^(gain_db / 20)` (computed in `f64`, so the RMS ratio is
/// exact up to `f32` rounding).
pub fn gain(samples: &[f32], gain_db: f64) -> Vec<f32> {
    let factor = 10f64.powf(gain_db / 20.0);
    samples
        .iter()
        .map(|&v| (f64::from(v) * factor) as f32)
        .collect()
}

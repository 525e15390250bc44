//! Additive Gaussian noise (white or pink) at a chosen signal-to-noise ratio.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

use super::{Applied, check_range, draw_uniform};
use crate::error::Error;

/// The noise's spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseColor {
    /// Flat power spectrum (i.i.d. Gaussian samples).
    #[default]
    White,
    /// Power falling as `1 / f` (-3 dB per octave, equal power per octave),
    /// made by shaping white Gaussian noise in the frequency domain.
    Pink,
}

impl std::fmt::Display for NoiseColor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NoiseColor::White => "white",
            NoiseColor::Pink => "pink",
        })
    }
}

impl std::str::FromStr for NoiseColor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "white" => Ok(NoiseColor::White),
            "pink" => Ok(NoiseColor::Pink),
            other => Err(Error::Parse(format!(
                "unknown noise color {other:?}: expected \"white\" or \"pink\""
            ))),
        }
    }
}

/// Adds Gaussian noise at a random SNR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Noise {
    /// Range `[min, max]` the signal-to-noise ratio is drawn from (uniform,
    /// dB, each bound in `[-100, 200]`). The SNR is measured against the clip's mean power
    /// (silence included): noise power = signal power / `10^(snr_db / 10)`.
    /// Default `[10, 30]`.
    pub snr_db: [f64; 2],
    /// White (default) or pink.
    pub color: NoiseColor,
}

impl Default for Noise {
    fn default() -> Self {
        Self {
            snr_db: [10.0, 30.0],
            color: NoiseColor::White,
        }
    }
}

impl Noise {
    /// Checks the range (see the fields).
    pub fn validate(&self) -> Result<(), Error> {
        check_range("noise.snr_db", self.snr_db, -100.0, 200.0)
    }

    /// Draws an SNR and a seed for the noise itself.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Applied {
        Applied::Noise {
            snr_db: draw_uniform(self.snr_db, rng),
            color: self.color,
            seed: rng.random(),
        }
    }
}

/// Adds `color` noise to `samples` at exactly `snr_db` (the noise is scaled
/// so that its own mean power, not just its expected power, is
/// `mean(samples²) / 10^(snr_db / 10)`). The noise comes from
/// `ChaCha8Rng::seed_from_u64(seed)`. Silent (all-zero) input is returned
/// unchanged: there is no power to measure an SNR against.
pub fn add_noise(samples: &[f32], snr_db: f64, color: NoiseColor, seed: u64) -> Vec<f32> {
    let n = samples.len();
    let signal_power = samples.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n.max(1) as f64;
    if signal_power == 0.0 || !snr_db.is_finite() {
        return samples.to_vec();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = gaussian_noise(n, color, &mut rng);
    let noise_power = noise.iter().map(|v| v * v).sum::<f64>() / n as f64;
    if noise_power == 0.0 {
        return samples.to_vec();
    }
    let target = signal_power / 10f64.powf(snr_db / 10.0);
    let scale = (target / noise_power).sqrt();
    samples
        .iter()
        .zip(&noise)
        .map(|(&s, &v)| (f64::from(s) + v * scale) as f32)
        .collect()
}

/// `n` samples of zero-mean Gaussian noise of the given color (unscaled).
///
/// Pink: white noise's spectrum multiplied by `1 / sqrt(k)` at bin `k >= 1`
/// (DC removed), transformed back. Fewer than 4 samples are always white.
pub fn gaussian_noise<R: Rng + ?Sized>(n: usize, color: NoiseColor, rng: &mut R) -> Vec<f64> {
    let mut white: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
    if color == NoiseColor::White || n < 4 {
        return white;
    }
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let mut spectrum = forward.make_output_vec();
    // Lengths come from the plans, so neither transform can fail.
    let _ = forward.process(&mut white, &mut spectrum);
    spectrum[0] = 0.0.into();
    for (k, bin) in spectrum.iter_mut().enumerate().skip(1) {
        *bin /= (k as f64).sqrt();
    }
    if n.is_multiple_of(2) {
        let last = spectrum.len() - 1;
        spectrum[last].im = 0.0;
    }
    let mut pink = inverse.make_output_vec();
    let _ = inverse.process(&mut spectrum, &mut pink);
    pink
}

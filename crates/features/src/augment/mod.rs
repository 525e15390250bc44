//! Wave-level data augmentation for the **training split only**: pitch shift,
//! time stretch, time shift, gain and additive noise on mono `f32` audio,
//! each seeded and reproducible.
//!
//! - One small struct per transform, holding the *ranges* its parameters are
//!   drawn from ([`PitchShift`], [`TimeStretch`], [`TimeShift`], [`Gain`],
//!   [`Noise`]); all are serde `Serialize`/`Deserialize` with defaults, so a
//!   recipe (TOML or JSON) can hold them, and each has `validate()`.
//! - [`Augmentation`] is one of them; a [`Step`] adds the probability of
//!   applying it; [`AugmentConfig`] is the pipeline: steps in order, copies
//!   per clip (offline augmentation) and the classes to augment.
//! - Drawing and applying are separate: `draw` turns ranges into an
//!   [`Applied`] record (the concrete values, including the noise's own
//!   seed), and [`Applied::apply`] is deterministic. So what happened to a
//!   clip can be stored ([`describe`]) and replayed ([`apply_all`]).
//! - The deterministic building blocks are public too: [`pitch_shift`],
//!   [`time_stretch`], [`roll`], [`time_shift`], [`gain`], [`add_noise`].
//! - Offline augmentation of a folder written by `lungsound segment`:
//!   [`augment_folder`] (training split only; writes the clips, an extended
//!   `manifest.csv` and `augment_config.json`).
//!
//! Randomness comes only from the `rng` passed in; callers seed a
//! `ChaCha8Rng` (see [`derive_seed`] for one seed per clip and copy).
//!
//! ```
//! use lungsound_features::augment::{AugmentConfig, Augmentation, Gain, Noise, PitchShift, Step};
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//!
//! let config = AugmentConfig {
//!     transforms: vec![
//!         Step::new(Augmentation::PitchShift(PitchShift { semitones: [-2.0, 2.0], ..Default::default() })),
//!         Step::new(Augmentation::Gain(Gain { gain_db: [-6.0, 6.0] })).with_probability(0.5),
//!         Step::new(Augmentation::Noise(Noise::default())),
//!     ],
//!     copies_per_clip: 1,
//!     classes: Some(vec!["Wheeze".into(), "Fine Crackle".into()]),
//! };
//! config.validate()?;
//! let clip: Vec<f32> = (0..8000).map(|i| (i as f32 * 0.345).sin() * 0.3).collect();
//! if config.applies_to("Wheeze") {
//!     let mut rng = ChaCha8Rng::seed_from_u64(7);
//!     let augmented = config.apply(&clip, 8000, &mut rng);
//!     assert_eq!(augmented.len(), clip.len()); // no time stretch in this recipe
//! }
//! # Ok::<(), lungsound_features::Error>(())
//! ```

mod folder;
mod gain;
mod noise;
mod pitch_shift;
mod resample;
mod time_shift;
mod time_stretch;
mod vocoder;

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use folder::{AUGMENT_CONFIG_FILE, AugmentFolderOptions, AugmentReport, augment_folder};
pub use gain::{Gain, MAX_GAIN_DB, gain};
pub use noise::{Noise, NoiseColor, add_noise, gaussian_noise};
pub use pitch_shift::{MAX_SEMITONES, PitchShift, pitch_shift};
pub use time_shift::{ShiftMode, TimeShift, roll, time_shift};
pub use time_stretch::{RATE_LIMITS, TimeStretch, time_stretch};

use crate::error::{Error, invalid};

/// One transform with its parameter ranges. Serialised with a `kind` tag:
/// `{ kind = "pitch_shift", semitones = [-2, 2] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Augmentation {
    /// See [`PitchShift`].
    PitchShift(PitchShift),
    /// See [`TimeStretch`].
    TimeStretch(TimeStretch),
    /// See [`TimeShift`].
    TimeShift(TimeShift),
    /// See [`Gain`].
    Gain(Gain),
    /// See [`Noise`].
    Noise(Noise),
}

impl Augmentation {
    /// The serde tag: `pitch_shift`, `time_stretch`, `time_shift`, `gain`, `noise`.
    pub fn name(&self) -> &'static str {
        match self {
            Augmentation::PitchShift(_) => "pitch_shift",
            Augmentation::TimeStretch(_) => "time_stretch",
            Augmentation::TimeShift(_) => "time_shift",
            Augmentation::Gain(_) => "gain",
            Augmentation::Noise(_) => "noise",
        }
    }

    /// Checks the transform's parameters; the message states the rule and value.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Augmentation::PitchShift(t) => t.validate(),
            Augmentation::TimeStretch(t) => t.validate(),
            Augmentation::TimeShift(t) => t.validate(),
            Augmentation::Gain(t) => t.validate(),
            Augmentation::Noise(t) => t.validate(),
        }
    }

    /// Draws concrete parameters (`sample_rate` turns time shifts in seconds
    /// into samples).
    pub fn draw<R: Rng + ?Sized>(&self, sample_rate: u32, rng: &mut R) -> Applied {
        match self {
            Augmentation::PitchShift(t) => t.draw(rng),
            Augmentation::TimeStretch(t) => t.draw(rng),
            Augmentation::TimeShift(t) => t.draw(sample_rate, rng),
            Augmentation::Gain(t) => t.draw(rng),
            Augmentation::Noise(t) => t.draw(rng),
        }
    }
}

/// An [`Augmentation`] applied with a probability. Serialised flat:
/// `{ kind = "gain", gain_db = [-6, 6], probability = 0.5 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Chance of applying the transform to a clip, in `[0, 1]`; default 1.
    #[serde(default = "one")]
    pub probability: f64,
    /// The transform.
    #[serde(flatten)]
    pub augmentation: Augmentation,
}

fn one() -> f64 {
    1.0
}

impl Step {
    /// `augmentation` applied always (probability 1).
    pub fn new(augmentation: Augmentation) -> Self {
        Self {
            probability: 1.0,
            augmentation,
        }
    }

    /// The same step with another probability.
    pub fn with_probability(self, probability: f64) -> Self {
        Self {
            probability,
            ..self
        }
    }
}

/// The augmentation pipeline: which transforms, in which order, on which
/// classes, how many copies.
///
/// Used offline by `lungsound augment` (writes `copies_per_clip` augmented
/// WAVs per training clip) and by `lungsound-train` (its `augment` section
/// adds augmented copies of the selected training clips when a run's
/// training set is built, one seed per clip and copy). Either way it must
/// only ever touch the **training split**: validation and test clips are
/// never augmented.
///
/// Steps run in order, each on the previous one's output. Put `noise` last
/// so that its SNR refers to the signal as finally heard, and `time_stretch`
/// first if clips are cropped to a fixed length afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentConfig {
    /// The steps, applied in order. May be empty (nothing happens).
    pub transforms: Vec<Step>,
    /// Augmented copies written per clip by offline augmentation, >= 1;
    /// default 1.
    #[serde(default = "one_usize")]
    pub copies_per_clip: usize,
    /// Augment only clips with one of these labels (compared ignoring ASCII
    /// case and surrounding spaces, e.g. `["Wheeze", "Fine Crackle"]` to
    /// oversample abnormal classes); `None` (default) augments every class.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
}

fn one_usize() -> usize {
    1
}

impl Default for AugmentConfig {
    /// No transforms, one copy, every class.
    fn default() -> Self {
        Self {
            transforms: Vec::new(),
            copies_per_clip: 1,
            classes: None,
        }
    }
}

impl AugmentConfig {
    /// Checks every step and the pipeline's own fields.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the step (`transforms[1] (gain): ...`)
    /// and stating the rule and the value given.
    pub fn validate(&self) -> Result<(), Error> {
        for (i, step) in self.transforms.iter().enumerate() {
            let name = step.augmentation.name();
            if !(0.0..=1.0).contains(&step.probability) {
                return invalid!(
                    "transforms[{i}] ({name}): probability must be in [0, 1], got {}",
                    step.probability
                );
            }
            step.augmentation.validate().map_err(|e| match e {
                Error::InvalidParameter(msg) => {
                    Error::InvalidParameter(format!("transforms[{i}] ({name}): {msg}"))
                }
                other => other,
            })?;
        }
        if self.copies_per_clip == 0 {
            return invalid!("copies_per_clip must be >= 1, got 0");
        }
        if let Some(classes) = &self.classes
            && (classes.is_empty() || classes.iter().any(|c| c.trim().is_empty()))
        {
            return invalid!(
                "classes must list non-empty class names (or be left out to augment every class), got {classes:?}"
            );
        }
        Ok(())
    }

    /// Whether clips labelled `label` are to be augmented ([`AugmentConfig::classes`]).
    pub fn applies_to(&self, label: &str) -> bool {
        match &self.classes {
            None => true,
            Some(classes) => classes
                .iter()
                .any(|c| c.trim().eq_ignore_ascii_case(label.trim())),
        }
    }

    /// Draws what to apply to one clip: for each step in order, a coin for
    /// its probability and its parameters (both always drawn, so one step's
    /// outcome never shifts the random stream of the next).
    pub fn draw<R: Rng + ?Sized>(&self, sample_rate: u32, rng: &mut R) -> Vec<Applied> {
        let mut applied = Vec::with_capacity(self.transforms.len());
        for step in &self.transforms {
            let coin: f64 = rng.random();
            let drawn = step.augmentation.draw(sample_rate, rng);
            if coin < step.probability {
                applied.push(drawn);
            }
        }
        applied
    }

    /// Augments one clip: [`AugmentConfig::draw`] then [`apply_all`]. The
    /// output has the input's length unless a time stretch was applied.
    /// Does not check [`AugmentConfig::classes`]; see
    /// [`AugmentConfig::applies_to`].
    pub fn apply<R: Rng + ?Sized>(
        &self,
        samples: &[f32],
        sample_rate: u32,
        rng: &mut R,
    ) -> Vec<f32> {
        self.apply_recorded(samples, sample_rate, rng).0
    }

    /// [`AugmentConfig::apply`], also returning what was applied.
    pub fn apply_recorded<R: Rng + ?Sized>(
        &self,
        samples: &[f32],
        sample_rate: u32,
        rng: &mut R,
    ) -> (Vec<f32>, Vec<Applied>) {
        let applied = self.draw(sample_rate, rng);
        (apply_all(&applied, samples), applied)
    }

    /// [`AugmentConfig::apply_recorded`] with a fresh
    /// `ChaCha8Rng::seed_from_u64(seed)` (e.g. from [`derive_seed`]).
    pub fn apply_seeded(
        &self,
        samples: &[f32],
        sample_rate: u32,
        seed: u64,
    ) -> (Vec<f32>, Vec<Applied>) {
        self.apply_recorded(samples, sample_rate, &mut ChaCha8Rng::seed_from_u64(seed))
    }
}

/// A transform with its parameters drawn: applying it is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Applied {
    /// [`pitch_shift`] by `semitones`.
    PitchShift {
        /// Shift in semitones.
        semitones: f64,
        /// Vocoder FFT size.
        n_fft: usize,
        /// Vocoder hop.
        hop_length: usize,
    },
    /// [`time_stretch`] by `rate`.
    TimeStretch {
        /// Stretch rate (> 1 faster / shorter).
        rate: f64,
        /// Vocoder FFT size.
        n_fft: usize,
        /// Vocoder hop.
        hop_length: usize,
    },
    /// [`time_shift`] by `shift_samples`.
    TimeShift {
        /// Shift in samples (positive = later).
        shift_samples: i64,
        /// Roll or zero fill.
        mode: ShiftMode,
    },
    /// [`gain`] by `gain_db`.
    Gain {
        /// Gain in dB.
        gain_db: f64,
    },
    /// [`add_noise`] at `snr_db`.
    Noise {
        /// Signal-to-noise ratio in dB.
        snr_db: f64,
        /// White or pink.
        color: NoiseColor,
        /// Seed of the noise samples.
        seed: u64,
    },
}

impl Applied {
    /// Applies the transform to `samples`.
    pub fn apply(&self, samples: &[f32]) -> Vec<f32> {
        match *self {
            Applied::PitchShift {
                semitones,
                n_fft,
                hop_length,
            } => pitch_shift(samples, semitones, n_fft, hop_length),
            Applied::TimeStretch {
                rate,
                n_fft,
                hop_length,
            } => time_stretch(samples, rate, n_fft, hop_length),
            Applied::TimeShift {
                shift_samples,
                mode,
            } => time_shift(samples, shift_samples, mode),
            Applied::Gain { gain_db } => gain(samples, gain_db),
            Applied::Noise {
                snr_db,
                color,
                seed,
            } => add_noise(samples, snr_db, color, seed),
        }
    }
}

/// Short, comma-free (CSV-friendly) description, e.g. `pitch_shift(+1.25 st)`,
/// `time_stretch(rate 0.912)`, `time_shift(roll -120 samples)`,
/// `gain(-3.10 dB)`, `noise(pink at 14.8 dB SNR)`.
impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Applied::PitchShift { semitones, .. } => write!(f, "pitch_shift({semitones:+.2} st)"),
            Applied::TimeStretch { rate, .. } => write!(f, "time_stretch(rate {rate:.3})"),
            Applied::TimeShift {
                shift_samples,
                mode,
            } => {
                write!(f, "time_shift({mode} {shift_samples:+} samples)")
            }
            Applied::Gain { gain_db } => write!(f, "gain({gain_db:+.2} dB)"),
            Applied::Noise { snr_db, color, .. } => {
                write!(f, "noise({color} at {snr_db:.1} dB SNR)")
            }
        }
    }
}

/// Applies `applied` in order to `samples`.
pub fn apply_all(applied: &[Applied], samples: &[f32]) -> Vec<f32> {
    applied.iter().fold(samples.to_vec(), |x, a| a.apply(&x))
}

/// The records joined with `"; "`, or `"none"` when nothing was applied
/// (every step's coin came up tails).
pub fn describe(applied: &[Applied]) -> String {
    if applied.is_empty() {
        return "none".to_owned();
    }
    applied
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A seed for one clip and copy, derived from a run's `seed`, a stable `key`
/// (e.g. the clip's file name) and an `index` (copy number, epoch, ...).
///
/// `splitmix64` of the seed mixed with FNV-1a-64 of `key` and the index; the
/// same on every platform and version, so augmenting one clip does not
/// depend on which other clips are processed or in which order.
pub fn derive_seed(seed: u64, key: &str, index: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(
        splitmix64(seed ^ splitmix64(hash)) ^ splitmix64(index.wrapping_add(0x9e37_79b9_7f4a_7c15)),
    )
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Checks that `range` is `[min, max]` with finite `min <= max` inside
/// `[lower, upper]`; `name` goes into the message.
pub(crate) fn check_range(
    name: &str,
    range: [f64; 2],
    lower: f64,
    upper: f64,
) -> Result<(), Error> {
    let [lo, hi] = range;
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return invalid!("{name} must be [min, max] with finite min <= max, got [{lo}, {hi}]");
    }
    if lo < lower || hi > upper {
        return invalid!("{name} must lie within [{lower}, {upper}], got [{lo}, {hi}]");
    }
    Ok(())
}

/// Uniform draw from `[min, max]` (one `f64` from `rng` whatever the range;
/// bounds in either order; a degenerate range gives its value).
pub(crate) fn draw_uniform<R: Rng + ?Sized>(range: [f64; 2], rng: &mut R) -> f64 {
    let u: f64 = rng.random();
    let (lo, hi) = (range[0].min(range[1]), range[0].max(range[1]));
    if lo == hi { lo } else { lo + (hi - lo) * u }
}

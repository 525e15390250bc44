//! The optional parts of [`ExperimentConfig`](super::ExperimentConfig) that
//! change the signal or the training batches: the band-pass filter
//! ([`BandpassSettings`], part of the feature pipeline), audio augmentation
//! of the training split ([`AugmentSettings`]) and MixUp ([`MixupSettings`]).
//! Each is `None` by default, so configs written before they existed load
//! unchanged.

use std::fmt;
use std::str::FromStr;

use lungsound_datasets::Task;
use lungsound_features::Butterworth;
use lungsound_features::augment::{AugmentConfig, Step};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidConfig(msg.into())
}

fn one_f64() -> f64 {
    1.0
}

fn one_usize() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// A Butterworth band-pass filter applied to every recording right after
/// resampling, before clips are cut (training, validation, evaluation and
/// [`Predictor`](crate::Predictor) alike; part of the feature cache key).
///
/// TOML: `bandpass = { order = 6, low_hz = 60, high_hz = 1300 }` in `[features]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandpassSettings {
    /// Order of the low-pass prototype (scipy's `N`; the band-pass has
    /// `order` second-order sections), >= 1.
    pub order: usize,
    /// Lower -3 dB edge (Hz), > 0.
    pub low_hz: f64,
    /// Upper -3 dB edge (Hz), < `sample_rate / 2`.
    pub high_hz: f64,
    /// `true` (default): zero-phase forward-backward filtering
    /// (`scipy.signal.sosfiltfilt`, magnitude squared, no delay); `false`:
    /// causal filtering (`scipy.signal.sosfilt`).
    #[serde(default = "yes")]
    pub zero_phase: bool,
}

impl BandpassSettings {
    /// The filter designed for `sample_rate` (errors state the rule and value).
    pub fn design(&self, sample_rate: u32) -> Result<Butterworth> {
        Ok(Butterworth::bandpass(
            self.order,
            self.low_hz,
            self.high_hz,
            sample_rate,
        )?)
    }

    /// Filters `samples` (at `sample_rate`).
    ///
    /// # Errors
    /// Invalid settings, or (zero-phase) a signal not longer than the
    /// filter's edge padding ([`Butterworth::padlen`]).
    pub fn apply(&self, samples: &[f32], sample_rate: u32) -> Result<Vec<f32>> {
        let filter = self.design(sample_rate)?;
        if self.zero_phase {
            Ok(filter.filtfilt(samples)?)
        } else {
            Ok(filter.filter(samples))
        }
    }
}

impl FromStr for BandpassSettings {
    type Err = Error;

    /// `LOW-HIGH` or `LOW-HIGH:ORDER` in Hz, e.g. `60-1300:6` (order 4
    /// when left out), zero-phase.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            invalid(format!(
                "band-pass {s:?}: expected LOW-HIGH[:ORDER] in Hz, e.g. 60-1300:6"
            ))
        };
        let (band, order) = match s.split_once(':') {
            Some((band, order)) => (band, order.trim().parse().map_err(|_| bad())?),
            None => (s, 4),
        };
        let (low, high) = band.split_once('-').ok_or_else(bad)?;
        Ok(Self {
            order,
            low_hz: low.trim().parse().map_err(|_| bad())?,
            high_hz: high.trim().parse().map_err(|_| bad())?,
            zero_phase: true,
        })
    }
}

/// How MixUp chooses the target of a mixed pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MixupMode {
    /// The targets are mixed like the inputs: `λ·t_i + (1−λ)·t_j` (Zhang et
    /// al. 2018).
    #[default]
    Soft,
    /// The mixed input keeps one member's target unchanged: the abnormal
    /// member's when exactly one of the two is abnormal (not the task's
    /// Normal class; e.g. crackle + normal → crackle), otherwise the
    /// member with the larger weight (`i` when `λ >= 0.5`). As in the ICBHI
    /// notebook workflow.
    HardPair,
}

impl MixupMode {
    /// `soft` or `hard-pair`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Soft => "soft",
            Self::HardPair => "hard-pair",
        }
    }
}

impl fmt::Display for MixupMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MixupMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "soft" => Ok(Self::Soft),
            "hard-pair" | "hard" => Ok(Self::HardPair),
            _ => Err(invalid(format!(
                "unknown MixUp mode {s:?}; expected soft or hard-pair"
            ))),
        }
    }
}

/// MixUp on the training batches (after standardisation and resizing):
/// with probability `probability` a batch is mixed with a seeded
/// permutation of itself, `x = λ·x_i + (1−λ)·x_j`, one `λ ~ Beta(α, α)` per
/// batch; targets per [`MixupMode`]. Validation never sees it.
///
/// TOML: `mixup = { alpha = 0.2, mode = "hard-pair" }` in `[training]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixupSettings {
    /// α of the Beta(α, α) distribution of λ, > 0 (small α: λ near 0 or 1,
    /// mild mixing; α = 1: uniform).
    pub alpha: f64,
    /// `soft` (default) or `hard-pair`.
    #[serde(default)]
    pub mode: MixupMode,
    /// Chance that a batch is mixed at all, in [0, 1]. Default 1.
    #[serde(default = "one_f64")]
    pub probability: f64,
}

impl MixupSettings {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(invalid(format!(
                "mixup.alpha must be > 0, got {}",
                self.alpha
            )));
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(invalid(format!(
                "mixup.probability must be in [0, 1], got {}",
                self.probability
            )));
        }
        Ok(())
    }
}

impl FromStr for MixupSettings {
    type Err = Error;

    /// `ALPHA` or `ALPHA:MODE`, e.g. `0.2` or `0.4:hard-pair` (probability 1).
    fn from_str(s: &str) -> Result<Self> {
        let (alpha, mode) = match s.split_once(':') {
            Some((a, m)) => (a, m.parse()?),
            None => (s, MixupMode::Soft),
        };
        let alpha = alpha.trim().parse().map_err(|_| {
            invalid(format!(
                "MixUp {s:?}: expected ALPHA[:MODE], e.g. 0.2 or 0.4:hard-pair"
            ))
        })?;
        Ok(Self {
            alpha,
            mode,
            probability: 1.0,
        })
    }
}

/// SpecAugment-style masking of the training batches (Park et al., 2019),
/// after standardisation and resizing, so a masked band or span holds the
/// training mean (0). Every spectrogram of a batch, with probability
/// `probability`, gets `freq_masks` bands of `0..=freq_width` rows and
/// `time_masks` spans of `0..=time_width` columns set to 0, each width and
/// position drawn uniformly from the epoch's seeded RNG. Validation never
/// sees it.
///
/// TOML: `spec_augment = { freq_masks = 2, freq_width = 8, time_masks = 2, time_width = 16 }`
/// in `[training]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecAugmentSettings {
    /// Frequency bands masked per spectrogram.
    pub freq_masks: usize,
    /// Largest band, in rows of the network input (>= 1 when `freq_masks` > 0).
    pub freq_width: usize,
    /// Time spans masked per spectrogram.
    pub time_masks: usize,
    /// Longest span, in columns of the network input (>= 1 when `time_masks` > 0).
    pub time_width: usize,
    /// Chance that a spectrogram is masked at all, in [0, 1]. Default 1.
    #[serde(default = "one_f64")]
    pub probability: f64,
}

impl SpecAugmentSettings {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.freq_masks == 0 && self.time_masks == 0 {
            return Err(invalid(
                "spec_augment masks nothing: freq_masks and time_masks are both 0",
            ));
        }
        if self.freq_masks > 0 && self.freq_width == 0 {
            return Err(invalid("spec_augment.freq_width must be >= 1, got 0"));
        }
        if self.time_masks > 0 && self.time_width == 0 {
            return Err(invalid("spec_augment.time_width must be >= 1, got 0"));
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(invalid(format!(
                "spec_augment.probability must be in [0, 1], got {}",
                self.probability
            )));
        }
        Ok(())
    }
}

impl FromStr for SpecAugmentSettings {
    type Err = Error;

    /// `FREQ_MASKS:FREQ_WIDTH:TIME_MASKS:TIME_WIDTH`, e.g. `2:8:2:16`
    /// (probability 1).
    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<usize> = s
            .split(':')
            .map(|p| p.trim().parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                invalid(format!(
                    "SpecAugment {s:?}: expected FREQ_MASKS:FREQ_WIDTH:TIME_MASKS:TIME_WIDTH, e.g. 2:8:2:16"
                ))
            })?;
        let [freq_masks, freq_width, time_masks, time_width] = parts[..] else {
            return Err(invalid(format!(
                "SpecAugment {s:?}: expected 4 numbers FREQ_MASKS:FREQ_WIDTH:TIME_MASKS:TIME_WIDTH, e.g. 2:8:2:16"
            )));
        };
        let settings = Self {
            freq_masks,
            freq_width,
            time_masks,
            time_width,
            probability: 1.0,
        };
        settings.validate()?;
        Ok(settings)
    }
}

/// How the augmented copies of a clip are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AugmentMode {
    /// Every copy runs the whole chain of `transforms` (each step with its
    /// probability): `copies` extra clips per selected clip.
    #[default]
    Chain,
    /// Every transform makes its own copies, alone (still with its
    /// probability): `copies × transforms.len()` extra clips per selected
    /// clip. "4 augmentations" of the ICBHI notebook = 4 transforms, 1 copy.
    Each,
}

impl AugmentMode {
    /// `chain` or `each`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chain => "chain",
            Self::Each => "each",
        }
    }
}

impl fmt::Display for AugmentMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Audio augmentation of the **training split** (offline per run): every
/// training clip whose class is in `classes` gets extra clips computed from
/// augmented audio, cached like the others. Validation, evaluation and
/// prediction never see augmented clips, and the input normalisation is
/// computed on the original training clips only.
///
/// The augmented audio is the clip's span of the (band-passed) recording,
/// transformed, then fitted to `clip_seconds` like an original clip. Copy
/// `c` of a clip is seeded with
/// `derive_seed(training.seed, "<record>#<event index>" or "<record>@<start_s>", c)`,
/// so runs are reproducible and a resumed run has the same clips.
///
/// TOML:
/// ```toml
/// [augment]
/// copies = 1
/// mode = "each"
/// classes = ["Crackle", "Wheeze", "Both"]
/// [[augment.transforms]]
/// kind = "pitch_shift"
/// semitones = [-2, 2]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentSettings {
    /// Augmented copies per selected clip (per transform in `each` mode), >= 1. Default 1.
    #[serde(default = "one_usize")]
    pub copies: usize,
    /// `chain` (default) or `each`.
    #[serde(default)]
    pub mode: AugmentMode,
    /// Class names (the task's, any ASCII case) whose clips are augmented;
    /// `None` (default): every class.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// The transforms (`lungsound_features::augment::Step`: `kind` plus the
    /// transform's ranges and an optional `probability`), in order; at least one.
    pub transforms: Vec<Step>,
}

impl AugmentSettings {
    /// The features crate's pipeline for the whole chain.
    pub fn pipeline(&self) -> AugmentConfig {
        AugmentConfig {
            transforms: self.transforms.clone(),
            copies_per_clip: self.copies,
            classes: self.classes.clone(),
        }
    }

    /// Extra clips per selected clip: `copies`, times the number of
    /// transforms in `each` mode.
    pub fn clips_per_source(&self) -> usize {
        match self.mode {
            AugmentMode::Chain => self.copies,
            AugmentMode::Each => self.copies * self.transforms.len(),
        }
    }

    /// The pipeline that makes extra clip number `copy` (in
    /// `0..clips_per_source()`): the whole chain, or (`each`) transform
    /// `copy % transforms.len()` alone.
    pub fn pipeline_for_copy(&self, copy: usize) -> AugmentConfig {
        let mut pipeline = self.pipeline();
        if self.mode == AugmentMode::Each && !self.transforms.is_empty() {
            let step = self.transforms[copy % self.transforms.len()].clone();
            pipeline.transforms = vec![step];
        }
        pipeline
    }

    /// Whether clips of class `class` (index into `task`'s classes) are augmented.
    pub fn applies_to(&self, task: Task, class: usize) -> bool {
        task.class_names()
            .get(class)
            .is_some_and(|name| self.pipeline().applies_to(name))
    }

    /// Checks the transforms and that every class name is one of `task`'s.
    pub fn validate(&self, task: Task) -> Result<()> {
        if self.transforms.is_empty() {
            return Err(invalid(
                "augment.transforms is empty; list at least one transform or leave [augment] out",
            ));
        }
        if self.copies == 0 {
            return Err(invalid("augment.copies must be >= 1, got 0"));
        }
        self.pipeline()
            .validate()
            .map_err(|e| invalid(format!("augment: {e}")))?;
        for class in self.classes.iter().flatten() {
            let known = task
                .class_names()
                .iter()
                .any(|c| c.eq_ignore_ascii_case(class.trim()));
            if !known {
                return Err(invalid(format!(
                    "augment.classes: {class:?} is not a class of task {task} ({})",
                    task.class_names().join(", ")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lungsound_features::augment::{Augmentation, Gain, Noise};

    #[test]
    fn flags_parse() {
        let b: BandpassSettings = "60-1300:6".parse().unwrap();
        assert_eq!(
            (b.order, b.low_hz, b.high_hz, b.zero_phase),
            (6, 60.0, 1300.0, true)
        );
        assert_eq!("100-2000".parse::<BandpassSettings>().unwrap().order, 4);
        assert!("100".parse::<BandpassSettings>().is_err());
        assert!("a-b:3".parse::<BandpassSettings>().is_err());
        let m: MixupSettings = "0.4:hard-pair".parse().unwrap();
        assert_eq!((m.alpha, m.mode), (0.4, MixupMode::HardPair));
        assert_eq!(
            "0.2".parse::<MixupSettings>().unwrap().mode,
            MixupMode::Soft
        );
        assert!("0.2:sideways".parse::<MixupSettings>().is_err());
    }

    #[test]
    fn bandpass_filters_and_rejects_bad_bands() {
        let b: BandpassSettings = "60-1300:6".parse().unwrap();
        let x = vec![0.5f32; 4000];
        let y = b.apply(&x, 8000).unwrap();
        assert_eq!(y.len(), x.len());
        assert!(
            y[1000..3000].iter().all(|v| v.abs() < 1e-3),
            "DC is removed"
        );
        let bad = BandpassSettings {
            high_hz: 5000.0,
            ..b.clone()
        };
        assert!(
            bad.design(8000)
                .unwrap_err()
                .to_string()
                .contains("high_hz")
        );
        assert!(b.apply(&x[..10], 8000).is_err());
    }

    #[test]
    fn augment_settings_count_copies_and_check_classes() {
        let mut a = AugmentSettings {
            copies: 2,
            mode: AugmentMode::Chain,
            classes: Some(vec!["wheeze".into()]),
            transforms: vec![
                Step::new(Augmentation::Gain(Gain::default())),
                Step::new(Augmentation::Noise(Noise::default())),
            ],
        };
        a.validate(Task::Cycles4).unwrap();
        assert_eq!(a.clips_per_source(), 2);
        assert_eq!(a.pipeline_for_copy(1).transforms.len(), 2);
        a.mode = AugmentMode::Each;
        assert_eq!(a.clips_per_source(), 4);
        let p = a.pipeline_for_copy(3);
        assert_eq!(p.transforms.len(), 1);
        assert_eq!(p.transforms[0].augmentation.name(), "noise");
        assert!(a.applies_to(Task::Cycles4, 2) && !a.applies_to(Task::Cycles4, 0));
        let err = a.validate(Task::EventBinary).unwrap_err().to_string();
        assert!(
            err.contains("\"wheeze\"") && err.contains("Adventitious"),
            "{err}"
        );
        a.transforms.clear();
        assert!(a.validate(Task::Cycles4).is_err());
    }
}

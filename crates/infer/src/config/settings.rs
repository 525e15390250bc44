//! The nested parts of [`ExperimentConfig`](super::ExperimentConfig), each
//! with its defaults and validation.

use std::fmt;
use std::str::FromStr;

use lungsound_datasets::{DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, Level, PadMode, Task};
use lungsound_features::{FeatureConfig, FeatureExtractor, FeatureKind};
use serde::{Deserialize, Serialize};

use super::augment::{BandpassSettings, MixupSettings, SpecAugmentSettings};
use crate::error::{Error, Result};

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidConfig(msg.into())
}

/// Audio, clip and spectrogram parameters.
///
/// Audio is resampled to `sample_rate`, cut into fixed-length clips of
/// `clip_seconds` (an annotated event, fitted with `pad`; or a window of a
/// recording), and turned into a spectrogram `[n_freq, n_frames]` by
/// `spectrogram`. The network sees it standardised per frequency bin and,
/// with `input_size`, resized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureSettings {
    /// Audio is resampled to this rate (Hz) before anything else. Default
    /// 8000: SPRSound's own rate; ICBHI's 4 kHz and 44.1 kHz files are
    /// resampled to it.
    pub sample_rate: u32,
    /// Spectrogram parameters (librosa names and meanings). Defaults: log-mel
    /// (`db: true`, power_to_db with `ref = max`, `top_db` 80), `n_fft` 512
    /// (64 ms at 8 kHz), `hop_length` 128 (16 ms; 256 for record
    /// tasks), 64 mels from 50 Hz to `sample_rate / 2`.
    pub spectrogram: FeatureConfig,
    /// Further spectrograms stacked below `spectrogram` along the frequency axis, each
    /// computed and scaled on its own (a multi-resolution input, e.g. a log-STFT of 16 ms
    /// windows under the 64 ms log-mel): the network sees `[Σ n_freq, n_frames]`. Each must
    /// have `spectrogram`'s `hop_length` and `center` (see
    /// [`FeatureExtractor::stacked`]). In a recipe: `[[features.stack]]` tables. Default
    /// none; left out of `config.json` and of feature-cache keys when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<FeatureConfig>,
    /// Length of every clip (seconds), > 0. Events: each annotated event is
    /// cropped (from its start) or padded to this length — SPRSound events
    /// last 0.5–2.3 s (5–95 %), so the default 3 s keeps whole events.
    /// Records: the recording is cut into windows of this length, every window
    /// is a training sample with the record's label, and the record's
    /// prediction is the mean of its windows' probabilities.
    pub clip_seconds: f64,
    /// How clips shorter than `clip_seconds` are filled. Default `repeat`
    /// (the event is looped; zeros would teach the network that silence
    /// means "short event").
    pub pad: PadMode,
    /// Hop between consecutive windows (seconds) for record tasks and for the
    /// sliding-window timeline of [`Predictor`](crate::Predictor). Default
    /// half of `clip_seconds`.
    pub window_hop_seconds: f64,
    /// Resize the spectrogram to `[height, width]` before the network
    /// (bilinear), e.g. for ImageNet-pretrained models. Default: none.
    pub input_size: Option<[usize; 2]>,
    /// Butterworth band-pass applied to each recording after resampling and
    /// before clips are cut (training, evaluation and prediction). Default: none.
    pub bandpass: Option<BandpassSettings>,
    /// Event tasks: annotated events longer than this (s) are left out of
    /// training, validation and evaluation (an Info issue each) instead of
    /// being cropped, e.g. 3.72 in the SPRSound notebook workflow. Ignored
    /// by record tasks and by [`Predictor`](crate::Predictor), which
    /// classifies every event it is given. Default: none (keep all).
    pub max_event_seconds: Option<f64>,
}

impl Default for FeatureSettings {
    fn default() -> Self {
        Self::for_task(Task::EventBinary)
    }
}

/// The longest clip (and window hop) a config may ask for, in seconds: ten minutes, far past
/// any breath or recording window, and small enough that clip sizes cannot overflow.
pub const MAX_CLIP_SECONDS: f64 = 600.0;

impl FeatureSettings {
    /// The defaults for `task`'s level. Events: 2 s clips (SPRSound events
    /// last 1.2 s median, 2.0 s at the 90th percentile; longer ones are
    /// cropped), `hop_length` 128 (16 ms) → 64 × 126 inputs. Records: 8 s
    /// windows every 4 s with `hop_length` 256 (32 ms) → 64 × 251 inputs, 2–3
    /// windows per SPRSound recording (9.2 s or 15.4 s). The sizes are what
    /// trains in reasonable time on a CPU.
    pub fn for_task(task: Task) -> Self {
        let (clip_seconds, hop_length) = match task.level() {
            Level::Event => (2.0, 128),
            Level::Record => (8.0, 256),
        };
        Self {
            sample_rate: 8000,
            spectrogram: FeatureConfig {
                kind: FeatureKind::Mel,
                n_fft: 512,
                hop_length,
                n_mels: 64,
                fmin: 50.0,
                fmax: None,
                db: true,
                ..FeatureConfig::default()
            },
            stack: Vec::new(),
            clip_seconds,
            pad: PadMode::Repeat,
            window_hop_seconds: clip_seconds / 2.0,
            input_size: None,
            bandpass: None,
            max_event_seconds: None,
        }
    }

    /// Clip length in samples at `sample_rate`.
    pub fn clip_samples(&self) -> usize {
        (self.clip_seconds * f64::from(self.sample_rate)).round() as usize
    }

    /// Window hop in samples (at least 1).
    pub fn hop_samples(&self) -> usize {
        ((self.window_hop_seconds * f64::from(self.sample_rate)).round() as usize).max(1)
    }

    /// Every spectrogram the network sees, top first: `spectrogram`, then `stack`.
    pub fn spectrogram_parts(&self) -> impl Iterator<Item = &FeatureConfig> {
        std::iter::once(&self.spectrogram).chain(&self.stack)
    }

    /// The extractor these settings describe (`spectrogram` with `stack` below it).
    pub fn extractor(&self) -> Result<FeatureExtractor> {
        let parts: Vec<FeatureConfig> = self.spectrogram_parts().cloned().collect();
        Ok(FeatureExtractor::stacked(&parts, self.sample_rate)?)
    }

    /// `[n_freq, n_frames]` of one clip's spectrogram.
    pub fn spectrogram_shape(&self) -> Result<[usize; 2]> {
        if !(self.clip_seconds > 0.0 && self.clip_seconds <= MAX_CLIP_SECONDS) {
            return Err(invalid(format!(
                "clip_seconds must be in (0, {MAX_CLIP_SECONDS}], got {}",
                self.clip_seconds
            )));
        }
        Ok(self.extractor()?.output_shape(self.clip_samples()))
    }

    /// `[height, width]` the network sees: `input_size`, else the spectrogram's shape.
    pub fn input_shape(&self) -> Result<[usize; 2]> {
        match self.input_size {
            Some(size) => Ok(size),
            None => self.spectrogram_shape(),
        }
    }

    /// Checks the settings (building the extractor checks the spectrogram part).
    pub fn validate(&self) -> Result<()> {
        let rates = lungsound_audio::SAMPLE_RATE_RANGE;
        if !rates.contains(&self.sample_rate) {
            return Err(invalid(format!(
                "sample_rate must be in {}..={} Hz, got {}",
                rates.start(),
                rates.end(),
                self.sample_rate
            )));
        }
        if !(self.clip_seconds.is_finite()
            && self.clip_seconds > 0.0
            && self.clip_seconds <= MAX_CLIP_SECONDS)
        {
            return Err(invalid(format!(
                "clip_seconds must be in (0, {MAX_CLIP_SECONDS}], got {}",
                self.clip_seconds
            )));
        }
        if !(self.window_hop_seconds.is_finite()
            && self.window_hop_seconds > 0.0
            && self.window_hop_seconds <= MAX_CLIP_SECONDS)
        {
            return Err(invalid(format!(
                "window_hop_seconds must be in (0, {MAX_CLIP_SECONDS}], got {}",
                self.window_hop_seconds
            )));
        }
        if self.pad == PadMode::None {
            return Err(invalid(
                "pad `none` would give clips of different lengths; use zero or repeat",
            ));
        }
        if self
            .spectrogram_parts()
            .any(|s| s.kind == FeatureKind::Mel && !s.db && s.pcen.is_none())
        {
            // Cached features are stored as f16, which flushes the tiny powers of
            // quiet bands to zero; the log scale (or PCEN's compression) keeps them.
            tracing::warn!("mel without db: linear power loses precision in the f16 feature cache");
        }
        if let Some([h, w]) = self.input_size
            && (h == 0 || w == 0)
        {
            return Err(invalid(format!("input_size must be positive, got {h}x{w}")));
        }
        if let Some(max) = self.max_event_seconds
            && !(max.is_finite() && max > 0.0)
        {
            return Err(invalid(format!("max_event_seconds must be > 0, got {max}")));
        }
        if let Some(bandpass) = &self.bandpass {
            bandpass
                .design(self.sample_rate)
                .map_err(|e| invalid(format!("features.bandpass: {e}")))?;
        }
        let [n_freq, n_frames] = self.spectrogram_shape()?;
        if n_freq == 0 || n_frames == 0 {
            return Err(invalid(format!(
                "a {} s clip gives an empty spectrogram ({n_freq}x{n_frames})",
                self.clip_seconds
            )));
        }
        Ok(())
    }
}

/// Per-frequency-bin standardisation `(x - mean[f]) / std[f]`, computed on the
/// training split and reloaded for evaluation and prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    /// Mean of each frequency bin over all training clips and frames.
    pub mean: Vec<f32>,
    /// Standard deviation of each bin (floored at 1e-3 so flat bins stay finite).
    pub std: Vec<f32>,
}

/// Which parameter update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba), L2 weight decay added to the gradient (PyTorch's `Adam`).
    Adam,
    /// AdamW: Adam with decoupled weight decay (PyTorch's `AdamW`).
    Adamw,
    /// SGD with (heavy-ball) momentum and L2 weight decay (PyTorch's `SGD`).
    Sgd,
    /// RMSprop with optional momentum (PyTorch's `RMSprop`, alpha 0.99).
    Rmsprop,
}

impl OptimizerKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Adam => "adam",
            Self::Adamw => "adamw",
            Self::Sgd => "sgd",
            Self::Rmsprop => "rmsprop",
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OptimizerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "adam" => Ok(Self::Adam),
            "adamw" => Ok(Self::Adamw),
            "sgd" => Ok(Self::Sgd),
            "rmsprop" => Ok(Self::Rmsprop),
            _ => Err(invalid(format!(
                "unknown optimizer {s:?}; expected adam, adamw, sgd or rmsprop"
            ))),
        }
    }
}

/// Optimizer and its hyper-parameters (PyTorch's formulas and defaults for betas/eps/alpha).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Which update. Default AdamW.
    pub kind: OptimizerKind,
    /// Peak learning rate, > 0. Default 1e-3.
    pub lr: f64,
    /// Momentum for SGD and RMSprop, in [0, 1). Default 0.9 (used by sgd/rmsprop only).
    pub momentum: f64,
    /// Weight decay, >= 0 (decoupled for AdamW, L2 otherwise). Default 1e-2.
    pub weight_decay: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adamw,
            lr: 1e-3,
            momentum: 0.9,
            weight_decay: 1e-2,
        }
    }
}

impl OptimizerConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(invalid(format!("lr must be > 0, got {}", self.lr)));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(invalid(format!(
                "momentum must be in [0, 1), got {}",
                self.momentum
            )));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(invalid(format!(
                "weight_decay must be >= 0, got {}",
                self.weight_decay
            )));
        }
        Ok(())
    }
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Constant `lr` (after warmup).
    Constant,
    /// Cosine decay from `lr` to `min_lr` over the epochs after warmup, per step.
    Cosine,
    /// Multiply by `gamma` every `step_size` epochs.
    Step,
    /// Multiply by `factor` when the validation loss has not improved for
    /// `plateau_patience` epochs.
    Plateau,
}

impl ScheduleKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Cosine => "cosine",
            Self::Step => "step",
            Self::Plateau => "plateau",
        }
    }
}

impl fmt::Display for ScheduleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScheduleKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "constant" => Ok(Self::Constant),
            "cosine" => Ok(Self::Cosine),
            "step" => Ok(Self::Step),
            "plateau" => Ok(Self::Plateau),
            _ => Err(invalid(format!(
                "unknown schedule {s:?}; expected constant, cosine, step or plateau"
            ))),
        }
    }
}

/// Learning-rate schedule parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Which schedule. Default cosine.
    pub kind: ScheduleKind,
    /// Linear warmup from 0 to `lr` over this many epochs (per step), >= 0. Default 1.
    pub warmup_epochs: f64,
    /// Lowest learning rate of the cosine schedule. Default 0.
    pub min_lr: f64,
    /// Step schedule: epochs between decays, >= 1. Default 10.
    pub step_size: usize,
    /// Step schedule: decay factor, in (0, 1]. Default 0.1.
    pub gamma: f64,
    /// Plateau schedule: epochs without a better validation loss before decaying. Default 3.
    pub plateau_patience: usize,
    /// Plateau schedule: decay factor, in (0, 1). Default 0.5.
    pub plateau_factor: f64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Cosine,
            warmup_epochs: 1.0,
            min_lr: 0.0,
            step_size: 10,
            gamma: 0.1,
            plateau_patience: 3,
            plateau_factor: 0.5,
        }
    }
}

impl ScheduleConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.warmup_epochs.is_finite() && self.warmup_epochs >= 0.0) {
            return Err(invalid(format!(
                "warmup_epochs must be >= 0, got {}",
                self.warmup_epochs
            )));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0) {
            return Err(invalid(format!("min_lr must be >= 0, got {}", self.min_lr)));
        }
        if self.step_size == 0 {
            return Err(invalid("step_size must be >= 1, got 0"));
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(invalid(format!(
                "gamma must be in (0, 1], got {}",
                self.gamma
            )));
        }
        if !(self.plateau_factor > 0.0 && self.plateau_factor < 1.0) {
            return Err(invalid(format!(
                "plateau_factor must be in (0, 1), got {}",
                self.plateau_factor
            )));
        }
        Ok(())
    }
}

/// Class weighting of the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeights {
    /// Every sample counts the same.
    Off,
    /// Weight of class c = n / (n_classes · n_c) on the training split
    /// (sklearn's "balanced"); classes absent from training get weight 0.
    Inverse,
    /// The square root of `Inverse`: softer for very rare classes.
    Sqrt,
}

impl FromStr for ClassWeights {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "inverse" => Ok(Self::Inverse),
            "sqrt" => Ok(Self::Sqrt),
            _ => Err(invalid(format!(
                "unknown class weights {s:?}; expected off, inverse or sqrt"
            ))),
        }
    }
}

impl std::fmt::Display for ClassWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Off => "off",
            Self::Inverse => "inverse",
            Self::Sqrt => "sqrt",
        })
    }
}

/// Batch size, epochs, early stopping, imbalance handling, seed, weight EMA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSettings {
    /// Samples per batch, >= 1. Default 64.
    pub batch_size: usize,
    /// Maximum number of epochs, >= 1. Default 30.
    pub epochs: usize,
    /// Stop after this many epochs without a better selection score
    /// (`None`: never). Default 10.
    pub patience: Option<usize>,
    /// Loss weighting by class. Default inverse frequency.
    pub class_weights: ClassWeights,
    /// Seed for shuffling and for libtorch (initialisation, dropout). Default 42.
    pub seed: u64,
    /// Decay per step of the exponential moving average of the weights that
    /// is validated and saved; 0 disables it. The EMA smooths the large
    /// epoch-to-epoch swings of the validation Score. Default 0.995 (an
    /// average over roughly the last 200 steps).
    pub ema_decay: f64,
    /// Label smoothing of the cross-entropy, in [0, 1). Default 0.
    pub label_smoothing: f64,
    /// Initial weights (e.g. torchvision ImageNet weights as safetensors),
    /// loaded with `lungsound_models::load_pretrained` before training.
    /// In `lungsound cv`, `{fold}` in the path becomes each fold's index (fold-matched
    /// initial weights, e.g. `runs/cv-events/fold-{fold}/model.safetensors`). Default none.
    pub pretrained: Option<std::path::PathBuf>,
    /// Freeze every parameter before this layer (`lungsound_models::freeze_until`,
    /// e.g. `layer3`). Default none.
    pub freeze_until: Option<String>,
    /// MixUp of the training batches. Default none.
    pub mixup: Option<MixupSettings>,
    /// SpecAugment masking of the training batches. Default none.
    pub spec_augment: Option<SpecAugmentSettings>,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            batch_size: 64,
            epochs: 30,
            patience: Some(10),
            class_weights: ClassWeights::Inverse,
            seed: 42,
            ema_decay: 0.995,
            label_smoothing: 0.0,
            pretrained: None,
            freeze_until: None,
            mixup: None,
            spec_augment: None,
        }
    }
}

impl TrainingSettings {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(invalid("batch_size must be >= 1, got 0"));
        }
        if self.epochs == 0 {
            return Err(invalid("epochs must be >= 1, got 0"));
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            return Err(invalid(format!(
                "ema_decay must be in [0, 1), got {}",
                self.ema_decay
            )));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(invalid(format!(
                "label_smoothing must be in [0, 1), got {}",
                self.label_smoothing
            )));
        }
        if let Some(mixup) = &self.mixup {
            mixup.validate()?;
        }
        if let Some(masking) = &self.spec_augment {
            masking.validate()?;
        }
        Ok(())
    }
}

/// How the training data is split into training and validation.
///
/// Always patient-wise ([`lungsound_datasets::patient_split`]); for ICBHI
/// only the official split's `train` part is used, and validation patients
/// come from inside it. The test set never takes part in model selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitSettings {
    /// Fraction of recordings (whole patients) held out for validation, in (0, 1). Default 0.2.
    pub val_fraction: f64,
    /// Seed of the split. Default 2022 (the datasets crate's default, so
    /// `lungsound segment` manifests agree).
    pub seed: u64,
    /// Validation patients (filled in when training starts; informational).
    pub val_patients: Vec<String>,
    /// Number of training / validation recordings (filled in when training starts).
    pub n_train_recordings: usize,
    /// See `n_train_recordings`.
    pub n_val_recordings: usize,
    /// Cross-validation: validate on one of `count` patient-wise folds
    /// ([`lungsound_datasets::patient_folds`] with `seed`) instead of `val_fraction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fold: Option<FoldSelection>,
}

/// Which fold of a patient-wise K-fold split validates (`lungsound cv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoldSelection {
    /// Number of folds, at least 2.
    pub count: usize,
    /// The validation fold, `0..count`.
    pub index: usize,
}

impl Default for SplitSettings {
    fn default() -> Self {
        Self {
            val_fraction: DEFAULT_VAL_FRACTION,
            seed: DEFAULT_SPLIT_SEED,
            val_patients: Vec::new(),
            n_train_recordings: 0,
            n_val_recordings: 0,
            fold: None,
        }
    }
}

impl SplitSettings {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.val_fraction > 0.0 && self.val_fraction < 1.0) {
            return Err(invalid(format!(
                "val_fraction must be in (0, 1), got {}",
                self.val_fraction
            )));
        }
        if let Some(f) = self.fold
            && (f.count < 2 || f.index >= f.count)
        {
            return Err(invalid(format!(
                "split.fold must name one of at least 2 folds, got fold {} of {}",
                f.index, f.count
            )));
        }
        Ok(())
    }
}

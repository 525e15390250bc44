//! The experiment flags of `lungsound train` (and the overrides `lungsound cv` takes), and
//! their mapping onto an [`ExperimentConfig`] — the one place where a flag becomes a config
//! value. Flags are kept as parsed ([`ExperimentFlags`]) and converted once, over a recipe
//! ([`ExperimentFlags::recipe_experiment`]) or over the defaults and a `--config` file
//! ([`ExperimentFlags::experiment`]); the result is then refreshed and validated.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use lungsound_datasets::{DatasetKind, PadMode, Task};
use lungsound_features::FeatureKind;
use lungsound_infer::ExperimentConfig;
use lungsound_infer::config::{
    BandpassSettings, ClassWeights, MixupSettings, OptimizerKind, ScheduleKind, SpecAugmentSettings,
};
use lungsound_train::Recipe;

use super::runtime;

/// Flags that describe the experiment: dataset, model, features, optimisation and
/// augmentation. Every field is `None`/`false` unless given, so a flag overrides the
/// recipe or config file only when the user gives it.
#[derive(Debug, Default, clap::Args)]
pub struct ExperimentFlags {
    /// Dataset format of --data: sprsound or icbhi [default: detected from the folder].
    #[arg(long, value_name = "KIND")]
    pub dataset: Option<DatasetKind>,
    /// Training data folder (ICBHI: only its official train split is used).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Task: 1-1, 1-2 (events), 2-1, 2-2 (records), cycles4 (ICBHI cycles).
    #[arg(long)]
    pub task: Option<Task>,
    /// Network architecture: small-cnn, vgg16, vgg19, resnet18, resnet152v2,
    /// mobilenetv3-large, inceptionv3, dualnet [default: small-cnn].
    #[arg(long, value_name = "NAME")]
    pub arch: Option<String>,
    /// small-cnn channel width multiplier [default: 0.5].
    #[arg(long, value_name = "W", help_heading = "Model")]
    pub width_multiplier: Option<f64>,
    /// small-cnn pooling over time: mean-max, or attention (a learned weighted
    /// mean next to the max) [default: mean-max].
    #[arg(long, value_name = "KIND", help_heading = "Model")]
    pub time_pooling: Option<lungsound_models::TimePooling>,
    /// Dropout before the classifier [default: 0.3].
    #[arg(long, value_name = "P", help_heading = "Model")]
    pub dropout: Option<f64>,
    /// Initial weights (e.g. torchvision ImageNet safetensors / .pth).
    #[arg(long, value_name = "FILE", help_heading = "Model")]
    pub pretrained: Option<PathBuf>,
    /// Freeze the parameters before this layer (e.g. layer3).
    #[arg(long, value_name = "LAYER", help_heading = "Model")]
    pub freeze_until: Option<String>,

    /// Spectrogram: mel, stft or logstft [default: mel, in dB].
    #[arg(long, value_name = "KIND", help_heading = "Features")]
    pub features: Option<FeatureKind>,
    /// Number of mel bands, 1–1024 [default: 64].
    #[arg(long, value_name = "N", help_heading = "Features", value_parser = crate::limits::mel_bands)]
    pub n_mels: Option<usize>,
    /// FFT size in samples, 2–65536 [default: 512].
    #[arg(long, value_name = "N", help_heading = "Features", value_parser = crate::limits::fft_size)]
    pub n_fft: Option<usize>,
    /// Samples between frames, 1–65536 [default: 128 for events, 256 for records].
    #[arg(long, value_name = "N", help_heading = "Features", value_parser = crate::limits::hop_size)]
    pub hop_length: Option<usize>,
    /// Lowest mel frequency (Hz) [default: 50].
    #[arg(long, value_name = "HZ", help_heading = "Features")]
    pub fmin: Option<f32>,
    /// Highest mel frequency (Hz) [default: sample_rate / 2].
    #[arg(long, value_name = "HZ", help_heading = "Features")]
    pub fmax: Option<f32>,
    /// Resample audio to this rate (Hz), 1000–384000 [default: 8000].
    #[arg(long, value_name = "HZ", help_heading = "Features", value_parser = crate::limits::sample_rate)]
    pub sample_rate: Option<u32>,
    /// Clip length in seconds (events: each event fitted to it; records:
    /// window length) [default: 2 for events, 8 for records].
    #[arg(long, value_name = "S", help_heading = "Features")]
    pub clip_seconds: Option<f64>,
    /// Hop between windows of a recording (s) [default: clip_seconds / 2].
    #[arg(long, value_name = "S", help_heading = "Features")]
    pub window_hop_seconds: Option<f64>,
    /// Padding of short clips: zero or repeat [default: repeat].
    #[arg(long, value_name = "MODE", help_heading = "Features")]
    pub pad: Option<PadMode>,
    /// Resize spectrograms to HxW before the network (e.g. 224x224).
    #[arg(long, value_name = "HxW", value_parser = parse_size, help_heading = "Features")]
    pub input_size: Option<[usize; 2]>,
    /// Butterworth band-pass before clipping, LOW-HIGH[:ORDER] in Hz (e.g.
    /// 60-1300:6; order 4 if left out), or `off`.
    #[arg(long, value_name = "LOW-HIGH[:ORDER]", value_parser = parse_switch::<BandpassSettings>, help_heading = "Features")]
    pub bandpass: Option<Switch<BandpassSettings>>,
    /// Event tasks: leave out events longer than S seconds (0: keep all).
    #[arg(long, value_name = "S", help_heading = "Features")]
    pub max_event_seconds: Option<f64>,

    /// adam, adamw, sgd or rmsprop [default: adamw].
    #[arg(long, value_name = "NAME", help_heading = "Optimization")]
    pub optimizer: Option<OptimizerKind>,
    /// Peak learning rate [default: 0.001].
    #[arg(long, value_name = "LR", help_heading = "Optimization")]
    pub lr: Option<f64>,
    /// Momentum of sgd / rmsprop [default: 0.9].
    #[arg(long, value_name = "M", help_heading = "Optimization")]
    pub momentum: Option<f64>,
    /// Weight decay (decoupled for adamw) [default: 0.01].
    #[arg(long, value_name = "W", help_heading = "Optimization")]
    pub weight_decay: Option<f64>,
    /// constant, cosine, step or plateau [default: cosine].
    #[arg(long, value_name = "NAME", help_heading = "Optimization")]
    pub schedule: Option<ScheduleKind>,
    /// Linear warmup length in epochs [default: 1].
    #[arg(long, value_name = "EPOCHS", help_heading = "Optimization")]
    pub warmup_epochs: Option<f64>,
    /// Samples per batch, 1–4096 [default: 64].
    #[arg(long, value_name = "N", help_heading = "Optimization", value_parser = crate::limits::batch_size)]
    pub batch_size: Option<usize>,
    /// Maximum number of epochs [default: 30].
    #[arg(long, value_name = "N", help_heading = "Optimization")]
    pub epochs: Option<usize>,
    /// Stop after N epochs without a better validation Score (0: never) [default: 10].
    #[arg(long, value_name = "N", help_heading = "Optimization")]
    pub patience: Option<usize>,
    /// Loss weights: off, inverse (class frequency) or sqrt (its square root) [default: inverse].
    #[arg(long, value_name = "MODE", help_heading = "Optimization")]
    pub class_weights: Option<ClassWeights>,
    /// Decay of the weight EMA that is validated and saved (0: off) [default: 0.995].
    #[arg(long, value_name = "D", help_heading = "Optimization")]
    pub ema_decay: Option<f64>,
    /// Label smoothing [default: 0].
    #[arg(long, value_name = "E", help_heading = "Optimization")]
    pub label_smoothing: Option<f64>,
    /// Seed of initialisation, shuffling and dropout [default: 42].
    #[arg(long, help_heading = "Optimization")]
    pub seed: Option<u64>,
    /// Fraction of recordings (whole patients) for validation [default: 0.2].
    #[arg(long, value_name = "F", help_heading = "Optimization")]
    pub val_fraction: Option<f64>,
    /// Seed of the patient-wise split [default: 2022].
    #[arg(long, value_name = "SEED", help_heading = "Optimization")]
    pub split_seed: Option<u64>,

    /// MixUp of training batches: ALPHA[:MODE] with MODE soft or hard-pair
    /// (e.g. 0.2:hard-pair), or `off` [default: off].
    #[arg(long, value_name = "ALPHA[:MODE]", value_parser = parse_switch::<MixupSettings>, help_heading = "Augmentation")]
    pub mixup: Option<Switch<MixupSettings>>,
    /// SpecAugment masking of training spectrograms:
    /// FREQ_MASKS:FREQ_WIDTH:TIME_MASKS:TIME_WIDTH (widths in input rows /
    /// columns, e.g. 2:8:2:16), or `off` [default: off].
    #[arg(long, value_name = "F:FW:T:TW", value_parser = parse_switch::<SpecAugmentSettings>, help_heading = "Augmentation")]
    pub spec_augment: Option<Switch<SpecAugmentSettings>>,
    /// Augmented copies per selected training clip (the [augment] section of
    /// the recipe or --config file says which classes and transforms).
    #[arg(long, value_name = "N", help_heading = "Augmentation")]
    pub augment_copies: Option<usize>,
    /// Drop the [augment] section of the recipe or --config file.
    #[arg(long, help_heading = "Augmentation")]
    pub no_augment: bool,
}

pub(crate) fn parse_size(s: &str) -> Result<[usize; 2], String> {
    let (h, w) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected HxW such as 224x224, got {s:?}"))?;
    let n = |v: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| format!("{v:?} in {s:?} is not a size"))
    };
    Ok([n(h)?, n(w)?])
}

/// A flag value that can also be `off` (`Switch(None)`).
#[derive(Debug, Clone)]
pub struct Switch<T>(pub Option<T>);

pub(crate) fn parse_switch<T: std::str::FromStr>(s: &str) -> Result<Switch<T>, String>
where
    T::Err: std::fmt::Display,
{
    if ["off", "none"].contains(&s.trim().to_ascii_lowercase().as_str()) {
        return Ok(Switch(None));
    }
    s.parse::<T>()
        .map(|v| Switch(Some(v)))
        .map_err(|e| e.to_string())
}

impl ExperimentFlags {
    /// The recipe's experiment with the flags applied over it (`train --recipe`, `cv`).
    ///
    /// # Errors
    /// A flag value the config refuses, named with the recipe's path.
    pub fn recipe_experiment(&self, recipe: &Recipe) -> anyhow::Result<ExperimentConfig> {
        let mut c = recipe.config.clone();
        if let Some(dataset) = self.dataset {
            c.dataset = dataset;
        }
        if let Some(task) = self.task {
            c.task = task;
        }
        if let Some(data) = &self.data {
            c.data_dir = data.clone();
        }
        self.apply_flags(c)
            .with_context(|| format!("recipe {}", recipe.path.display()))
    }

    /// Defaults < config file (`--config`, JSON or TOML) < flags (`train` without a recipe).
    /// The dataset kind is detected from `--data` when neither the flags nor the file say it.
    ///
    /// # Errors
    /// No data folder, an undetectable dataset, no task for SPRSound, an unreadable config
    /// file, or a value the config refuses.
    pub fn experiment(&self, config_file: Option<&Path>) -> anyhow::Result<ExperimentConfig> {
        let file: Option<serde_json::Value> = match config_file {
            Some(path) => Some(lungsound_infer::config::read_settings(path)?),
            None => None,
        };
        let from_file = |key: &str| {
            file.as_ref()
                .and_then(|f| f.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let data = match (&self.data, from_file("data_dir")) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => PathBuf::from(d),
            (None, None) => bail!("--data DIR is required"),
        };
        // The flag (or config file) overrides; otherwise the folder says what it is, as
        // for `analyze` and `segment`.
        let dataset = match (self.dataset, from_file("dataset")) {
            (Some(d), _) => d,
            (None, Some(d)) => d.parse()?,
            (None, None) => match lungsound_datasets::detect(&data) {
                Ok(kind @ (DatasetKind::SprSound | DatasetKind::Icbhi)) => kind,
                Ok(other) => bail!(
                    "{} looks like a {} of recordings without SPRSound or ICBHI annotations; \
                     training needs one of those (or --dataset)",
                    data.display(),
                    other.display_name()
                ),
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("cannot tell what dataset {} is", data.display())));
                }
            },
        };
        let task = match (self.task, from_file("task")) {
            (Some(t), _) => t,
            (None, Some(t)) => t.parse()?,
            (None, None) if dataset == DatasetKind::Icbhi => Task::Cycles4,
            (None, None) => bail!("--task 1-1|1-2|2-1|2-2 is required"),
        };
        let mut c = ExperimentConfig::new(dataset, task, data.clone());
        if let Some(path) = config_file {
            c = c.merge_file(path)?;
        }
        c.dataset = dataset;
        c.task = task;
        c.data_dir = data;
        self.apply_flags(c)
    }

    /// The experiment flags over `c`; then derived values and validation.
    fn apply_flags(&self, mut c: ExperimentConfig) -> anyhow::Result<ExperimentConfig> {
        if let Some(arch) = &self.arch {
            c.model.arch = arch.parse().map_err(|e| anyhow::anyhow!("--arch: {e}"))?;
        }
        set(&mut c.model.width_multiplier, self.width_multiplier);
        set(&mut c.model.dropout, self.dropout);
        set(&mut c.model.time_pooling, self.time_pooling);
        if self.pretrained.is_some() {
            c.training.pretrained = self.pretrained.clone();
        }
        if self.freeze_until.is_some() {
            c.training.freeze_until = self.freeze_until.clone();
        }
        let f = &mut c.features;
        let s = &mut f.spectrogram;
        set(&mut s.kind, self.features);
        if self.features.is_some_and(|k| k == FeatureKind::LogStft) {
            s.db = false; // already log-compressed
        }
        set(&mut s.n_mels, self.n_mels);
        set(&mut s.n_fft, self.n_fft);
        set(&mut s.hop_length, self.hop_length);
        set(&mut s.fmin, self.fmin);
        if self.fmax.is_some() {
            s.fmax = self.fmax;
        }
        set(&mut f.sample_rate, self.sample_rate);
        if let Some(clip) = self.clip_seconds {
            f.clip_seconds = clip;
            f.window_hop_seconds = clip / 2.0;
        }
        set(&mut f.window_hop_seconds, self.window_hop_seconds);
        set(&mut f.pad, self.pad);
        if self.input_size.is_some() {
            f.input_size = self.input_size;
        }
        if let Some(Switch(bandpass)) = &self.bandpass {
            f.bandpass = bandpass.clone();
        }
        if let Some(max) = self.max_event_seconds {
            f.max_event_seconds = (max > 0.0).then_some(max);
        }
        let o = &mut c.optimizer;
        set(&mut o.kind, self.optimizer);
        set(&mut o.lr, self.lr);
        set(&mut o.momentum, self.momentum);
        set(&mut o.weight_decay, self.weight_decay);
        set(&mut c.schedule.kind, self.schedule);
        set(&mut c.schedule.warmup_epochs, self.warmup_epochs);
        let t = &mut c.training;
        set(&mut t.batch_size, self.batch_size);
        set(&mut t.epochs, self.epochs);
        if let Some(p) = self.patience {
            t.patience = (p > 0).then_some(p);
        }
        set(&mut t.class_weights, self.class_weights);
        set(&mut t.ema_decay, self.ema_decay);
        set(&mut t.label_smoothing, self.label_smoothing);
        set(&mut t.seed, self.seed);
        set(&mut c.split.val_fraction, self.val_fraction);
        set(&mut c.split.seed, self.split_seed);
        if let Some(Switch(mixup)) = &self.mixup {
            c.training.mixup = mixup.clone();
        }
        if let Some(Switch(masking)) = &self.spec_augment {
            c.training.spec_augment = masking.clone();
        }
        if self.no_augment {
            c.augment = None;
        }
        if let Some(copies) = self.augment_copies {
            match c.augment.as_mut() {
                Some(a) => a.copies = copies,
                None => bail!(
                    "--augment-copies needs an [augment] section (classes, transforms) in the recipe or --config file"
                ),
            }
        }
        c.command = runtime::command_line();
        c.refresh_derived();
        c.validate()?;
        Ok(c)
    }

    /// True when any flag that changes the experiment is given (`--resume` refuses them).
    pub fn changes_experiment(&self) -> bool {
        let a = self;
        a.arch.is_some()
            || a.width_multiplier.is_some()
            || a.dropout.is_some()
            || a.time_pooling.is_some()
            || a.pretrained.is_some()
            || a.freeze_until.is_some()
            || a.features.is_some()
            || a.n_mels.is_some()
            || a.n_fft.is_some()
            || a.hop_length.is_some()
            || a.fmin.is_some()
            || a.fmax.is_some()
            || a.sample_rate.is_some()
            || a.clip_seconds.is_some()
            || a.window_hop_seconds.is_some()
            || a.pad.is_some()
            || a.input_size.is_some()
            || a.optimizer.is_some()
            || a.lr.is_some()
            || a.momentum.is_some()
            || a.weight_decay.is_some()
            || a.schedule.is_some()
            || a.warmup_epochs.is_some()
            || a.batch_size.is_some()
            || a.patience.is_some()
            || a.class_weights.is_some()
            || a.ema_decay.is_some()
            || a.label_smoothing.is_some()
            || a.seed.is_some()
            || a.val_fraction.is_some()
            || a.split_seed.is_some()
            || a.bandpass.is_some()
            || a.max_event_seconds.is_some()
            || a.mixup.is_some()
            || a.spec_augment.is_some()
            || a.augment_copies.is_some()
            || a.no_augment
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

#[cfg(test)]
mod tests;

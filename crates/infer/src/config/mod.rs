//! [`ExperimentConfig`]: everything a run needs, saved as `RUN_DIR/config.json`.
//!
//! One struct, nested by concern (features, model, optimizer, schedule,
//! training, split). It is built once (defaults < `--config` file < flags, in
//! the CLI), validated by [`ExperimentConfig::validate`] (which builds the
//! feature extractor and the model config), written out with derived values
//! resolved before training starts, and read back by `evaluate` and
//! [`Predictor::load`](crate::Predictor::load). [`ExperimentConfig::model_config`]
//! is the one place the network's input shape and class count are derived.

mod augment;
mod settings;

use std::path::{Path, PathBuf};

use lungsound_datasets::{DatasetKind, Level, Task};
use lungsound_features::FeatureExtractor;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use augment::{
    AugmentMode, AugmentSettings, BandpassSettings, MixupMode, MixupSettings, SpecAugmentSettings,
};
pub use settings::{
    ClassWeights, FeatureSettings, FoldSelection, Normalization, OptimizerConfig, OptimizerKind,
    ScheduleConfig, ScheduleKind, SplitSettings, TrainingSettings,
};

/// File name of the experiment config inside a run directory.
pub const CONFIG_FILE: &str = "config.json";

/// The full description of a training run (see the module doc).
///
/// `dataset` and `task` are top-level keys of `config.json` so that tools can
/// find them without knowing the rest of the layout. Unknown keys (here and
/// in every nested section) are errors naming the key, so a typo in a
/// `--config` file or recipe never passes silently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Version of lungsound that wrote the file (informational).
    pub lungsound_version: String,
    /// The command line that started the run, for the model card (informational).
    #[serde(default)]
    pub command: String,
    /// Which dataset format the training data is in (`sprsound` or `icbhi`).
    pub dataset: DatasetKind,
    /// The task (`1-1`, `1-2`, `2-1`, `2-2`, `cycles4`).
    pub task: Task,
    /// Folder of the training data.
    pub data_dir: PathBuf,
    /// Class names in class-index order (derived from `task`; written for readers).
    #[serde(default)]
    pub classes: Vec<String>,
    /// Audio, clip and spectrogram parameters.
    pub features: FeatureSettings,
    /// Network architecture and its options.
    pub model: lungsound_models::ModelConfig,
    /// Optimizer and its hyper-parameters.
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule.
    pub schedule: ScheduleConfig,
    /// Batch size, epochs, early stopping, class weights, seed, weight EMA.
    pub training: TrainingSettings,
    /// Validation split.
    pub split: SplitSettings,
    /// Audio augmentation of the training split (`None`: off, the default).
    #[serde(default)]
    pub augment: Option<AugmentSettings>,
    /// Per-frequency-bin input standardisation, computed on the training split
    /// when training starts (`None` before that).
    #[serde(default)]
    pub normalization: Option<Normalization>,
}

/// ICBHI's default sample rate (Hz), as in its reference workflow.
pub const ICBHI_SAMPLE_RATE: u32 = 4000;
/// ICBHI's default clip length (s), as in its reference workflow.
pub const ICBHI_CLIP_SECONDS: f64 = 4.0;

impl ExperimentConfig {
    /// The defaults for `dataset` and `task`: small-cnn on log-mel with the
    /// settings that worked best on the SPRSound validation split (see
    /// [`FeatureSettings::for_task`] and [`TrainingSettings::default`]). ICBHI
    /// follows its reference workflow instead: audio at 4 kHz (the Littmann 3200
    /// recordings' rate; nothing in a lung sound needs more), cycles fitted to 4 s
    /// clips padded with zeros.
    pub fn new(dataset: DatasetKind, task: Task, data_dir: impl Into<PathBuf>) -> Self {
        let mut features = FeatureSettings::for_task(task);
        if dataset == DatasetKind::Icbhi {
            features.sample_rate = ICBHI_SAMPLE_RATE;
            features.clip_seconds = ICBHI_CLIP_SECONDS;
            features.pad = lungsound_datasets::PadMode::Zero;
        }
        let mut config = Self {
            lungsound_version: env!("CARGO_PKG_VERSION").to_string(),
            command: String::new(),
            dataset,
            task,
            data_dir: data_dir.into(),
            classes: class_names(task),
            features,
            // Half-width small-cnn (16-32-64-128 channels, 0.25 M parameters):
            // a quarter of the full width's training time on a CPU (2.3 s vs
            // 7.7 s per batch of 64 at 64x188 on 2 cores) and ~1 MB on disk.
            model: lungsound_models::ModelConfig {
                width_multiplier: 0.5,
                ..lungsound_models::ModelConfig::default()
            },
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
            training: TrainingSettings::default(),
            split: SplitSettings::default(),
            augment: None,
            normalization: None,
        };
        config.refresh_derived();
        config
    }

    /// Recomputes the derived fields (`classes`, the model's input shape and
    /// class count) from the rest. Call after changing features or task.
    pub fn refresh_derived(&mut self) {
        self.classes = class_names(self.task);
        if let Ok(model) = self.model_config() {
            self.model = model;
        }
    }

    /// Checks every setting; builds the feature extractor and the model
    /// config to do so. The error names the setting, the rule and the value.
    pub fn validate(&self) -> Result<()> {
        if !matches!(self.dataset, DatasetKind::SprSound | DatasetKind::Icbhi) {
            return Err(Error::InvalidConfig(format!(
                "dataset must be sprsound or icbhi for training, got {}",
                self.dataset
            )));
        }
        let task_ok = match self.dataset {
            DatasetKind::Icbhi => self.task == Task::Cycles4,
            _ => self.task != Task::Cycles4,
        };
        if !task_ok {
            return Err(Error::InvalidConfig(format!(
                "task {} does not apply to dataset {} (icbhi: cycles4; sprsound: 1-1, 1-2, 2-1, 2-2)",
                self.task, self.dataset
            )));
        }
        self.features.validate()?;
        self.optimizer.validate()?;
        self.schedule.validate()?;
        self.training.validate()?;
        self.split.validate()?;
        if let Some(augment) = &self.augment {
            augment.validate(self.task)?;
        }
        if let Some(norm) = &self.normalization {
            let n_freq = self.extractor()?.n_freq();
            if norm.mean.len() != n_freq || norm.std.len() != n_freq {
                return Err(Error::InvalidConfig(format!(
                    "normalization has {} means and {} stds, the features have {n_freq} frequency bins",
                    norm.mean.len(),
                    norm.std.len()
                )));
            }
        }
        self.model_config()?;
        Ok(())
    }

    /// The feature extractor these settings describe.
    pub fn extractor(&self) -> Result<FeatureExtractor> {
        self.features.extractor()
    }

    /// The network configuration: the architecture and options from
    /// `self.model`, with `in_channels = 1` (2 for `dualnet`, whose two
    /// branches both get the one spectrogram channel, see
    /// [`Network::forward`](crate::Network::forward)), `input = [height, width]`
    /// of the (optionally resized) spectrogram and `num_classes` of the task.
    /// Training and [`Predictor::load`](crate::Predictor::load) both call this.
    pub fn model_config(&self) -> Result<lungsound_models::ModelConfig> {
        let [height, width] = self.features.input_shape()?;
        let mut model = self.model.clone();
        model.in_channels = if model.arch == lungsound_models::Arch::DualNet {
            2
        } else {
            1
        };
        model.input = [height as i64, width as i64];
        model.num_classes = self.task.n_classes() as i64;
        model.validate()?;
        Ok(model)
    }

    /// Event tasks get one sample per annotated event, record tasks one per recording.
    pub fn level(&self) -> Level {
        self.task.level()
    }

    /// Reads `RUN_DIR/config.json`.
    pub fn load(run_dir: &Path) -> Result<Self> {
        let path = run_dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let config: Self = serde_json::from_str(&text).map_err(|e| Error::json(&path, e))?;
        config
            .validate()
            .map_err(|e| Error::run_dir(&path, e.to_string()))?;
        Ok(config)
    }

    /// Writes `RUN_DIR/config.json` (pretty-printed, atomically).
    pub fn save(&self, run_dir: &Path) -> Result<()> {
        let path = run_dir.join(CONFIG_FILE);
        let mut text = serde_json::to_string_pretty(self).map_err(|e| Error::json(&path, e))?;
        text.push('\n');
        crate::fsutil::write_atomic(&path, text.as_bytes())
    }

    /// Overlays a partial config (JSON or TOML by extension, keys as in
    /// `config.json`) on `self`: keys present in the file win, the rest stay.
    /// Unknown keys are errors naming the file and the key's path.
    pub fn merge_file(&self, path: &Path) -> Result<Self> {
        self.merge_value(read_settings(path)?, path)
    }

    /// [`ExperimentConfig::merge_file`] with the file already read; `path`
    /// names it in errors.
    pub fn merge_value(&self, overlay: serde_json::Value, path: &Path) -> Result<Self> {
        let mut base = serde_json::to_value(self).map_err(|e| Error::json(path, e))?;
        // The task decides the clip defaults; a file that changes the task
        // starts from that task's defaults.
        if let Some(task) = overlay.get("task").and_then(|t| t.as_str()) {
            let task: Task = task
                .parse()
                .map_err(|e: lungsound_datasets::Error| Error::InvalidConfig(e.to_string()))?;
            if task != self.task {
                let fresh = Self::new(self.dataset, task, self.data_dir.clone());
                base["features"] =
                    serde_json::to_value(&fresh.features).map_err(|e| Error::json(path, e))?;
            }
        }
        merge_json(&mut base, overlay);
        let mut merged: Self = from_value_at(base, path)?;
        merged.refresh_derived();
        Ok(merged)
    }
}

/// Deserializes `value`; an error names `path` and the key path inside it
/// (e.g. `features.spectrogram: unknown field `n_mel``).
pub fn from_value_at<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    path: &Path,
) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        if at == "." || at.is_empty() {
            Error::InvalidConfig(format!("{}: {inner}", path.display()))
        } else {
            Error::InvalidConfig(format!("{}: {at}: {inner}", path.display()))
        }
    })
}

/// Reads a settings file (TOML if it ends in `.toml`, else JSON) as a JSON
/// object, without interpreting it.
pub fn read_settings(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let value: serde_json::Value = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        toml::from_str(&text).map_err(|e| Error::Toml {
            path: path.to_path_buf(),
            source: Box::new(e),
        })?
    } else {
        serde_json::from_str(&text).map_err(|e| Error::json(path, e))?
    };
    if !value.is_object() {
        return Err(Error::InvalidConfig(format!(
            "{}: a config file must hold a table/object of settings",
            path.display()
        )));
    }
    Ok(value)
}

fn class_names(task: Task) -> Vec<String> {
    task.class_names()
        .iter()
        .map(|s| (*s).to_string())
        .collect()
}

/// Recursively overlays `overlay` on `base` (objects merge, everything else replaces).
fn merge_json(base: &mut serde_json::Value, overlay: serde_json::Value) {
    match (base, overlay) {
        (serde_json::Value::Object(base), serde_json::Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(slot) => merge_json(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_validate_for_every_sprsound_task() {
        for task in [
            Task::EventBinary,
            Task::EventMulti,
            Task::RecordTernary,
            Task::RecordMulti,
        ] {
            let c = ExperimentConfig::new(DatasetKind::SprSound, task, "data");
            c.validate().unwrap();
            assert_eq!(
                c.model_config().unwrap().num_classes,
                task.n_classes() as i64
            );
        }
        ExperimentConfig::new(DatasetKind::Icbhi, Task::Cycles4, "d")
            .validate()
            .unwrap();
        assert!(
            ExperimentConfig::new(DatasetKind::Icbhi, Task::EventBinary, "d")
                .validate()
                .is_err()
        );
    }

    #[test]
    fn dataset_and_task_are_top_level_keys_and_round_trip() {
        let c = ExperimentConfig::new(DatasetKind::SprSound, Task::EventMulti, "data");
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["dataset"], "sprsound");
        assert_eq!(v["task"], "1-2");
        let back: ExperimentConfig = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn configs_written_before_augmentation_existed_still_load() {
        let c = ExperimentConfig::new(DatasetKind::SprSound, Task::EventMulti, "data");
        let mut v = serde_json::to_value(&c).unwrap();
        let strip = |v: &mut serde_json::Value, key: &str| {
            v.as_object_mut().unwrap().remove(key).unwrap();
        };
        strip(&mut v, "augment");
        strip(&mut v["features"], "bandpass");
        strip(&mut v["features"], "max_event_seconds");
        strip(&mut v["training"], "mixup");
        strip(&mut v["training"], "spec_augment");
        let back: ExperimentConfig = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        let base = ExperimentConfig::new(DatasetKind::SprSound, Task::EventBinary, "data");
        let path = dir.path().join("c.toml");
        for (text, key) in [
            ("epochs = 3\n", "epochs"),
            ("[training]\nepoch = 3\n", "training.epoch"),
            (
                "[features.spectrogram]\nn_mel = 3\n",
                "features.spectrogram.n_mel",
            ),
            (
                "[features.bandpass]\norder = 6\nlow = 60\n",
                "features.bandpass.low",
            ),
            ("[model]\nwidth = 2\n", "model.width"),
            (
                "[training.spec_augment]\nfreq_masks = 2\nfreq_width = 8\ntime_masks = 1\ntime_widht = 4\n",
                "training.spec_augment.time_widht",
            ),
            ("[split]\nval_fraktion = 0.1\n", "split.val_fraktion"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = base.merge_file(&path).unwrap_err().to_string();
            let name = key.rsplit('.').next().unwrap();
            assert!(
                err.contains("c.toml") && err.contains(&format!("`{name}`")),
                "{err}"
            );
            if let Some((section, _)) = key.rsplit_once('.') {
                assert!(err.contains(section), "{err} lacks {section}");
            }
        }
        // A run directory's config.json with a stray key is refused too.
        let mut v = serde_json::to_value(&base).unwrap();
        v["optimizer"]["betas"] = serde_json::json!([0.9, 0.999]);
        std::fs::write(dir.path().join(CONFIG_FILE), v.to_string()).unwrap();
        let err = ExperimentConfig::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("betas"), "{err}");
    }

    #[test]
    fn spec_augment_in_a_config_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let base = ExperimentConfig::new(DatasetKind::SprSound, Task::EventMulti, "data");
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[training]\nspec_augment = { freq_masks = 2, freq_width = 8, time_masks = 2, time_width = 12 }\n",
        )
        .unwrap();
        let c = base.merge_file(&path).unwrap();
        let s = c.training.spec_augment.clone().unwrap();
        assert_eq!(
            (s.freq_masks, s.freq_width, s.time_masks, s.time_width),
            (2, 8, 2, 12)
        );
        assert_eq!(s.probability, 1.0);
        let back: ExperimentConfig =
            serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        std::fs::write(
            &path,
            "[training]\nspec_augment = { freq_masks = 2, freq_width = 0, time_masks = 0, time_width = 0 }\n",
        )
        .unwrap();
        let err = base
            .merge_file(&path)
            .and_then(|c| c.validate().map(|()| c))
            .unwrap_err()
            .to_string();
        assert!(err.contains("freq_width"), "{err}");
    }

    #[test]
    fn config_file_overrides_only_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[training]\nepochs = 3\n[features.spectrogram]\nn_mels = 32\n",
        )
        .unwrap();
        let base = ExperimentConfig::new(DatasetKind::SprSound, Task::EventBinary, "data");
        let merged = base.merge_file(&path).unwrap();
        assert_eq!(merged.training.epochs, 3);
        assert_eq!(merged.features.spectrogram.n_mels, 32);
        assert_eq!(merged.model_config().unwrap().input[0], 32);
        assert_eq!(merged.training.batch_size, base.training.batch_size);
        std::fs::write(&path, "{\"training\": {\"epochs\": \"x\"}}").unwrap();
        let json = dir.path().join("c.json");
        std::fs::rename(&path, &json).unwrap();
        let err = base.merge_file(&json).unwrap_err().to_string();
        assert!(err.contains("c.json"), "{err}");
    }
}

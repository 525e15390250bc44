//! Training, evaluation and prediction for lungsound: the stage after
//! `datasets`, `features` and `models`, before `serve` and the CLI.
//!
//! - [`ExperimentConfig`]: one config per run, saved as `RUN_DIR/config.json`;
//!   [`ExperimentConfig::model_config`] derives the network's input shape and
//!   class count for training and loading alike.
//! - Data ([`data`]): recordings → fixed-length clips (one per event, or
//!   windows of a recording) → f16 spectrograms cached on disk
//!   ([`FeatureCache`]) → standardised batches, with hooks for training-only
//!   transforms ([`Augmentations`]).
//! - [`train`] / [`resume`]: the training loop with checkpoints every epoch,
//!   weight EMA, model selection by validation Score, early stopping;
//!   writes `config.json`, `history.csv`, `model.safetensors`,
//!   `checkpoint.safetensors` and `model_card.md`.
//! - [`evaluate_run`]: a run on a dataset folder → `metrics.json`,
//!   `predictions.csv`, plots and `report.md`.
//! - [`Predictor`]: a run loaded for prediction (`Send + Sync`).
//! - [`recipe`]: a whole experiment in one TOML file ([`Recipe`]);
//!   [`run_recipe`] trains, then evaluates into `RUN_DIR/eval/`.
//!
//! Training-only augmentation is part of the config, so resumed and
//! reproduced runs apply it too: `augment` (augmented copies of selected
//! training clips, [`data::augment`]) and `training.mixup`
//! ([`data::mixup::MixUp`]); `features.bandpass` filters every recording
//! in training, evaluation and prediction alike.
//!
//! The `tch::Device` is always a parameter; only the CLI chooses it.
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod accounting;
mod card;
pub mod checkpoint;
pub mod config;
pub mod cv;
pub mod data;
mod error;
mod evaluate;
mod fsutil;
mod gate;
mod inference;
mod network;
mod optim;
pub mod recipe;
pub mod schedule;
mod split;
mod training;

pub use card::MODEL_CARD_FILE;
pub use checkpoint::{CHECKPOINT_FILE, EpochRecord, HISTORY_FILE, MODEL_FILE, read_history};
pub use config::{CONFIG_FILE, ExperimentConfig};
pub use data::FeatureCache;
pub use data::batch::{Augmentations, Batch, BatchTransform, SampleTransform};
pub use error::{Error, Result};
pub use evaluate::{
    EvalSplit, EvaluateOptions, EvaluationReport, METRICS_FILE, PREDICTIONS_FILE, evaluate_run,
};
pub use inference::{EventPrediction, Predictor, RecordingPrediction, Segment};
pub use network::Network;
pub use optim::Optimizer;
pub use recipe::{EvaluateSettings, Recipe, RecipeReport, run_recipe};
pub use split::{RunSplit, load_data, run_split};
/// The libtorch bindings this crate is built on (for `Device` and thread settings).
pub use tch;
pub use training::{
    EpochCallback, TrainOptions, TrainReport, class_weights, default_cache_dir, resume, train,
};

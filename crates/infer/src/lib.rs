//! Trained lungsound models at work: everything that reads a run and
//! classifies with it, without training. It sits after `datasets`,
//! `features` and `models`, and before `train`, `serve`, the CLI and the
//! Python package.
//!
//! - [`ExperimentConfig`]: one config per run, saved as `RUN_DIR/config.json`;
//!   [`ExperimentConfig::model_config`] derives the network's input shape and
//!   class count for training and loading alike.
//! - Data ([`data`]): recordings → fixed-length clips (one per event, or
//!   windows of a recording) → f16 spectrograms cached on disk
//!   ([`FeatureCache`]) → standardised batches, with hooks for training-only
//!   transforms ([`Augmentations`], [`data::ClipAugmenter`]) that
//!   `lungsound-train` implements.
//! - [`scoring`]: a run's network ([`load_network`]), clip and unit
//!   probabilities, the metrics of a set's units (training validates with it).
//! - [`evaluate_run`]: a run on a dataset folder → `metrics.json`,
//!   `predictions.csv`, plots and `report.md`, optionally gated by a
//!   Normal-vs-abnormal run ([`gate`]); a run may name its own gate in `gate.json`
//!   ([`gate_file`], [`GateChoice`]).
//! - [`ensemble`]: several runs answering as one (mean of their probabilities), read
//!   wherever a run directory is.
//! - [`Predictor`]: a run loaded for prediction (`Send + Sync`); [`models`]: a folder of
//!   runs, optionally gated, and what they say about one recording (`predict --json`).
//!
//! The `tch::Device` is always a parameter; only the CLI chooses it.
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod accounting;
pub mod config;
pub mod data;
pub mod ensemble;
mod error;
mod evaluate;
pub mod fsutil;
pub mod gate;
pub mod gate_file;
mod inference;
pub mod models;
mod network;
mod options;
mod report;
pub mod scoring;
mod split;

pub use config::{CONFIG_FILE, ExperimentConfig};
pub use data::batch::{Augmentations, Batch, BatchTransform, SampleTransform};
pub use data::{FeatureCache, default_cache_dir};
pub use error::{Error, Result};
pub use evaluate::{EvaluationReport, METRICS_FILE, PREDICTIONS_FILE, ScoredOnly, evaluate_run};
pub use gate_file::{GATE_FILE, GateChoice};
pub use inference::{EventPrediction, Predictor, RecordingPrediction, Segment};
pub use network::{Network, save_tensors};
pub use options::{EvalSplit, EvaluateOptions};
pub use scoring::{MODEL_FILE, load_network};
pub use split::{RunSplit, load_data, run_split};
/// The libtorch bindings this crate is built on (for `Device` and thread settings).
pub use tch;

//! Training lungsound models: the stage after `lungsound-infer`, which
//! holds the run config, the feature pipeline and evaluation that training
//! shares with prediction.
//!
//! - [`train`] / [`resume`]: the training loop with checkpoints every epoch,
//!   weight EMA, model selection by validation Score, early stopping;
//!   writes `config.json`, `history.csv`, `model.safetensors`,
//!   `checkpoint.safetensors` and `model_card.md`.
//! - [`augment`]: training-only augmentation. `augment` in the config
//!   (augmented copies of selected training clips, [`augment::plan`]) and
//!   `training.mixup` ([`augment::mixup::MixUp`]) and
//!   `training.spec_augment` are part of the config, so resumed and
//!   reproduced runs apply them too.
//! - [`recipe`]: a whole experiment in one TOML file ([`Recipe`]);
//!   [`run_recipe`] trains, then evaluates into `RUN_DIR/eval/`.
//! - [`cv`]: patient-wise K-fold cross-validation of a recipe.
//!
//! Errors are `lungsound-infer`'s [`Error`]. The `tch::Device` is always a
//! parameter; only the CLI chooses it.
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod augment;
mod card;
pub mod checkpoint;
pub mod cv;
mod ema;
mod optim;
pub mod recipe;
mod report;
pub mod schedule;
mod training;

pub use card::MODEL_CARD_FILE;
pub use checkpoint::{CHECKPOINT_FILE, EpochRecord, HISTORY_FILE, read_history};
pub use ema::Ema;
pub use lungsound_infer::{Error, Result};
pub use optim::Optimizer;
pub use recipe::{EvaluateSettings, Recipe, RecipeReport, run_recipe};
pub use report::TrainReport;
pub use training::{EpochCallback, TrainOptions, class_weights, resume, train};

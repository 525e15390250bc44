//! [`TrainReport`]: what a training call did, handed to the model card,
//! recipes and cross-validation.

use std::path::PathBuf;

use lungsound_datasets::Issue;
use lungsound_infer::ExperimentConfig;

use crate::checkpoint::EpochRecord;

/// What a training call did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The config as saved (normalisation and split filled in).
    pub config: ExperimentConfig,
    /// Every finished epoch, including those before a resume.
    pub history: Vec<EpochRecord>,
    /// Epoch (from 1) of `model.safetensors`.
    pub best_epoch: Option<usize>,
    /// True when early stopping ended the run.
    pub stopped_early: bool,
    /// True when every epoch is done (or early stopping ended the run).
    pub finished: bool,
    /// Problems with individual recordings or clips (skipped).
    pub issues: Vec<Issue>,
    /// Training clips (augmented ones included) and validation units.
    pub n_train_clips: usize,
    /// Augmented clips among `n_train_clips`.
    pub n_augmented_clips: usize,
    /// See `n_train_clips`.
    pub n_val_units: usize,
}

impl TrainReport {
    /// The best epoch's record.
    pub fn best(&self) -> Option<&EpochRecord> {
        let e = self.best_epoch?;
        self.history.iter().find(|r| r.epoch == e)
    }
}

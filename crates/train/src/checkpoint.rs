//! Checkpoints and the per-epoch history.
//!
//! `RUN_DIR/checkpoint.safetensors` is one file, rewritten atomically after
//! every epoch, holding everything needed to continue a killed run exactly:
//! the network (`model/…`), the weight EMA (`ema/…`), the optimizer state
//! (`optim/…`) and the trainer state as JSON bytes (`trainer_state`: epochs
//! done, history, best epoch, early-stopping and plateau counters). Random
//! numbers need no saving: each epoch reseeds libtorch and the shuffling RNG
//! from the run's seed and the epoch number.
//!
//! `RUN_DIR/history.csv` has one row per finished epoch with the columns of
//! [`EpochRecord`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::schedule::PlateauState;
use lungsound_infer::{Error, Result};

/// File name of the checkpoint inside a run directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// File name of the history inside a run directory.
pub const HISTORY_FILE: &str = "history.csv";

const STATE_KEY: &str = "trainer_state";

/// One epoch's numbers (a row of `history.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss (class-weighted cross-entropy) over the epoch's batches.
    pub train_loss: f64,
    /// Validation loss: class-weighted negative log-likelihood of the units'
    /// (events' or records') mean probabilities.
    pub val_loss: f64,
    /// Validation accuracy over units.
    pub val_accuracy: f64,
    /// Validation challenge Score: BioCAS Score, or ICBHI Score for `cycles4`.
    pub val_score: f64,
    /// Validation sensitivity (of the same challenge).
    pub val_se: f64,
    /// Validation specificity.
    pub val_sp: f64,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Wall-clock seconds of the epoch (training and validation).
    pub seconds: f64,
}

/// The trainer's state between epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Epochs finished.
    pub epochs_done: usize,
    /// One record per finished epoch.
    pub history: Vec<EpochRecord>,
    /// Epoch (from 1) of the saved `model.safetensors`.
    pub best_epoch: Option<usize>,
    /// Epochs since the best one (early stopping).
    pub epochs_since_best: usize,
    /// Plateau schedule state.
    pub plateau: PlateauState,
    /// Updates of the weight EMA.
    pub ema_updates: u64,
    /// True once early stopping ended the run.
    pub stopped_early: bool,
}

impl TrainerState {
    /// The state of a run that has not started.
    pub fn fresh() -> Self {
        Self {
            epochs_done: 0,
            history: Vec::new(),
            best_epoch: None,
            epochs_since_best: 0,
            plateau: PlateauState::default(),
            ema_updates: 0,
            stopped_early: false,
        }
    }

    /// The record of the best epoch.
    pub fn best(&self) -> Option<&EpochRecord> {
        let epoch = self.best_epoch?;
        self.history.iter().find(|r| r.epoch == epoch)
    }
}

/// Whether `candidate` beats `best`: a higher Score, or the same Score with
/// a lower validation loss.
pub fn is_better(candidate: &EpochRecord, best: Option<&EpochRecord>) -> bool {
    match best {
        None => true,
        Some(b) => {
            candidate.val_score > b.val_score
                || (candidate.val_score == b.val_score && candidate.val_loss < b.val_loss)
        }
    }
}

/// Writes the checkpoint: `groups` are `(prefix, named tensors)`.
pub fn save_checkpoint(
    run_dir: &Path,
    state: &TrainerState,
    groups: &[(&str, Vec<(String, Tensor)>)],
) -> Result<()> {
    let path = run_dir.join(CHECKPOINT_FILE);
    let json = serde_json::to_vec(state).map_err(|e| Error::json(&path, e))?;
    let mut tensors = vec![(STATE_KEY.to_string(), Tensor::from_slice(&json))];
    for (prefix, named) in groups {
        for (name, t) in named {
            tensors.push((format!("{prefix}/{name}"), t.shallow_clone()));
        }
    }
    lungsound_infer::save_tensors(&path, &tensors)
}

/// Reads a checkpoint: the trainer state and every tensor by full name.
pub fn load_checkpoint(run_dir: &Path) -> Result<(TrainerState, BTreeMap<String, Tensor>)> {
    let path = run_dir.join(CHECKPOINT_FILE);
    if !path.is_file() {
        return Err(Error::run_dir(
            run_dir,
            format!("no {CHECKPOINT_FILE} to resume from"),
        ));
    }
    let tensors: BTreeMap<String, Tensor> = Tensor::read_safetensors(&path)
        .map_err(|e| Error::torch(format!("reading {}", path.display()), e))?
        .into_iter()
        .collect();
    let bytes = tensors
        .get(STATE_KEY)
        .map(|t| Vec::<u8>::try_from(t).unwrap_or_default())
        .ok_or_else(|| Error::run_dir(&path, format!("checkpoint lacks {STATE_KEY:?}")))?;
    let state = serde_json::from_slice(&bytes).map_err(|e| Error::json(&path, e))?;
    Ok((state, tensors))
}

/// The tensors of `tensors` whose names start with `prefix/`, prefix removed.
pub fn group(tensors: &BTreeMap<String, Tensor>, prefix: &str) -> BTreeMap<String, Tensor> {
    let p = format!("{prefix}/");
    tensors
        .iter()
        .filter_map(|(k, t)| {
            k.strip_prefix(&p)
                .map(|n| (n.to_string(), t.shallow_clone()))
        })
        .collect()
}

/// Writes `history.csv` atomically.
pub fn write_history(run_dir: &Path, history: &[EpochRecord]) -> Result<()> {
    let path = run_dir.join(HISTORY_FILE);
    let mut w = csv::Writer::from_writer(Vec::new());
    if history.is_empty() {
        w.write_record([
            "epoch",
            "train_loss",
            "val_loss",
            "val_accuracy",
            "val_score",
            "val_se",
            "val_sp",
            "lr",
            "seconds",
        ])
        .map_err(|e| Error::Csv {
            path: path.clone(),
            source: e,
        })?;
    }
    for r in history {
        w.serialize(r).map_err(|e| Error::Csv {
            path: path.clone(),
            source: e,
        })?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::io(&path, std::io::Error::other(e.to_string())))?;
    lungsound_infer::fsutil::write_atomic(&path, &bytes)
}

/// Reads `history.csv`.
pub fn read_history(run_dir: &Path) -> Result<Vec<EpochRecord>> {
    let path = run_dir.join(HISTORY_FILE);
    let mut r = csv::Reader::from_path(&path).map_err(|e| Error::Csv {
        path: path.clone(),
        source: e,
    })?;
    r.deserialize()
        .collect::<Result<Vec<EpochRecord>, _>>()
        .map_err(|e| Error::Csv { path, source: e })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(epoch: usize, val_score: f64, val_loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 0.5,
            val_loss,
            val_accuracy: 0.7,
            val_score,
            val_se: 0.6,
            val_sp: 0.8,
            lr: 1e-3,
            seconds: 1.25,
        }
    }

    #[test]
    fn selection_prefers_score_then_loss() {
        let best = record(1, 0.8, 0.5);
        assert!(is_better(&record(2, 0.81, 0.9), Some(&best)));
        assert!(is_better(&record(2, 0.8, 0.4), Some(&best)));
        assert!(!is_better(&record(2, 0.8, 0.5), Some(&best)));
        assert!(!is_better(&record(2, 0.79, 0.1), Some(&best)));
    }

    #[test]
    fn history_and_checkpoint_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let history = vec![record(1, 0.5, 0.7), record(2, 0.1 + 0.2, 1.0 / 3.0)];
        write_history(dir.path(), &history).unwrap();
        assert_eq!(read_history(dir.path()).unwrap(), history);
        let text = std::fs::read_to_string(dir.path().join(HISTORY_FILE)).unwrap();
        assert!(text.starts_with(
            "epoch,train_loss,val_loss,val_accuracy,val_score,val_se,val_sp,lr,seconds\n"
        ));

        let mut state = TrainerState::fresh();
        state.history = history;
        state.best_epoch = Some(2);
        let w = Tensor::from_slice(&[1.5f32, -2.0]);
        save_checkpoint(dir.path(), &state, &[("model", vec![("w".into(), w)])]).unwrap();
        let (back, tensors) = load_checkpoint(dir.path()).unwrap();
        assert_eq!(back, state);
        assert_eq!(back.best().unwrap().epoch, 2);
        let model = group(&tensors, "model");
        assert_eq!(Vec::<f32>::try_from(&model["w"]).unwrap(), vec![1.5, -2.0]);
    }
}

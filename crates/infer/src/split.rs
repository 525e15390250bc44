//! Which recordings train and which validate.

use std::path::Path;

use lungsound_datasets::{
    Dataset, DatasetKind, Recording, Split, load_dataset_as, patient_folds, patient_split,
};

use crate::config::ExperimentConfig;
use crate::error::{Error, Result};

/// The training and validation recordings of a run.
#[derive(Debug, Clone)]
pub struct RunSplit<'a> {
    /// Recordings the network is trained on.
    pub train: Vec<&'a Recording>,
    /// Recordings used for validation (model selection, early stopping).
    pub val: Vec<&'a Recording>,
}

/// Loads `dir` as `kind` (an error if the folder is not that kind of dataset).
pub fn load_data(dir: &Path, kind: DatasetKind) -> Result<Dataset> {
    let detected = lungsound_datasets::detect(dir)?;
    if detected != kind {
        return Err(Error::InvalidConfig(format!(
            "{} looks like a {} dataset, not {}",
            dir.display(),
            detected.display_name(),
            kind.display_name()
        )));
    }
    Ok(load_dataset_as(dir, kind)?)
}

/// Splits the recordings with audio patient-wise
/// ([`lungsound_datasets::patient_split`] with the config's fraction and
/// seed, or fold `split.fold` of [`lungsound_datasets::patient_folds`] for
/// cross-validation). ICBHI: only the official split's `train` part takes part; its
/// `test` part is never used for training or selection.
pub fn run_split<'a>(dataset: &'a Dataset, config: &ExperimentConfig) -> Result<RunSplit<'a>> {
    let pool: Vec<&Recording> = dataset
        .recordings
        .iter()
        .filter(|r| r.has_audio())
        .filter(|r| match dataset.kind {
            DatasetKind::Icbhi => r.official_split == Some(Split::Train),
            _ => true,
        })
        .collect();
    if pool.is_empty() {
        return Err(Error::NoData(format!(
            "{} has no recordings with audio{}",
            dataset.root.display(),
            if dataset.kind == DatasetKind::Icbhi {
                " in the official train split"
            } else {
                ""
            }
        )));
    }
    let owned: Vec<Recording> = pool.iter().map(|r| (*r).clone()).collect();
    if let Some(fold) = config.split.fold {
        let folds = patient_folds(&owned, fold.count, config.split.seed);
        let (val, train): (Vec<_>, Vec<_>) = pool
            .iter()
            .zip(&folds)
            .partition(|&(_, &f)| f == fold.index);
        return Ok(RunSplit {
            train: train.into_iter().map(|(r, _)| *r).collect(),
            val: val.into_iter().map(|(r, _)| *r).collect(),
        });
    }
    let indices = patient_split(&owned, config.split.val_fraction, config.split.seed);
    Ok(RunSplit {
        train: indices.train.iter().map(|&i| pool[i]).collect(),
        val: indices.val.iter().map(|&i| pool[i]).collect(),
    })
}

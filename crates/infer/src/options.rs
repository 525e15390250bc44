//! How [`evaluate_run`](crate::evaluate_run) evaluates: which recordings,
//! which task, which gate, which device.

use std::path::PathBuf;

use lungsound_datasets::Task;
use tch::Device;

use crate::data::FeatureCache;
use crate::error::{Error, Result};

/// Which recordings of the data folder [`evaluate_run`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvalSplit {
    /// Every recording with audio.
    #[default]
    All,
    /// The run's training recordings (same patient-wise split as training).
    Train,
    /// The run's validation recordings (same patient-wise split as training).
    Val,
    /// ICBHI's official test split.
    Test,
}

impl EvalSplit {
    /// A phrase for reports: which recordings were evaluated.
    pub fn describe(self) -> &'static str {
        match self {
            EvalSplit::All => "all recordings",
            EvalSplit::Train => "the run's patient-wise training split",
            EvalSplit::Val => "the run's patient-wise validation split",
            EvalSplit::Test => "official test split",
        }
    }
}

impl std::str::FromStr for EvalSplit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Self::All),
            "train" => Ok(Self::Train),
            "val" => Ok(Self::Val),
            "test" => Ok(Self::Test),
            _ => Err(Error::InvalidConfig(format!(
                "unknown split {s:?}; expected all, train, val or test"
            ))),
        }
    }
}

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvaluateOptions {
    /// Where the network runs.
    pub device: Device,
    /// Feature cache.
    pub cache: FeatureCache,
    /// Which recordings.
    pub split: EvalSplit,
    /// Clips per forward pass.
    pub batch_size: usize,
    /// The command line, for the report (empty: not recorded).
    pub command: String,
    /// Score on this task instead of the model's own: the model's task or a
    /// coarsening of it ([`Task::class_map_to`], e.g. a 1-2 model on 1-1),
    /// with the fine classes' probabilities summed. `None`: the model's task.
    pub task: Option<Task>,
    /// A Normal-vs-abnormal run (e.g. task 1-1) that decides each unit's
    /// probability of Normal, while the evaluated model splits the rest over
    /// its abnormal classes (two-stage scoring; see `gate.rs`). `None`: the
    /// model alone.
    pub gate: Option<PathBuf>,
}

impl EvaluateOptions {
    /// All recordings, no cache, batches of 64.
    pub fn new(device: Device) -> Self {
        Self {
            device,
            cache: FeatureCache::disabled(),
            split: EvalSplit::All,
            batch_size: 64,
            command: String::new(),
            task: None,
            gate: None,
        }
    }
}

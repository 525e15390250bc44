//! The evaluation report of [`evaluate_run`](crate::evaluate_run): plots
//! and `report.md`, written by `lungsound-report`.

use std::path::{Path, PathBuf};

use lungsound_datasets::Task;
use lungsound_eval::Metrics;

use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::options::EvaluateOptions;

/// What an evaluation scored, for its report.
pub(crate) struct ScoredTask<'a> {
    /// The task scored.
    pub task: Task,
    /// Its metrics.
    pub metrics: &'a Metrics,
    /// Units without a prediction.
    pub unscored: Option<lungsound_report::Unscored>,
}

/// Writes `confusion_matrix.png`/`.svg`, `roc.png`/`.svg` and `report.md`
/// into `out_dir` (`lungsound_report::write_evaluation_report`).
pub(crate) fn write_evaluation_report(
    out_dir: &Path,
    run_dir: &Path,
    data_dir: &Path,
    options: &EvaluateOptions,
    config: &ExperimentConfig,
    scored: ScoredTask<'_>,
) -> Result<Vec<PathBuf>> {
    let ScoredTask {
        task,
        metrics,
        unscored,
    } = scored;
    let task = if task == config.task {
        task.to_string()
    } else {
        format!("{task} (from the model's {} probabilities)", config.task)
    };
    let context = lungsound_report::EvalContext {
        model: format!("{} ({})", run_dir.display(), config.model.arch),
        task,
        dataset: match config.dataset {
            lungsound_datasets::DatasetKind::Icbhi => "ICBHI 2017".to_string(),
            lungsound_datasets::DatasetKind::SprSound => "SPRSound".to_string(),
            other => other.to_string(),
        },
        data_dir: data_dir.to_path_buf(),
        split: options.split.describe().to_string(),
        n_samples: metrics.n_samples,
        command: options.command.clone(),
        extra: {
            let mut extra = vec![("trained with".to_string(), config.command.clone())];
            if let Some(gate) = &options.gate {
                extra.push((
                    "gated by".to_string(),
                    format!(
                        "{}: its probability of Normal replaces the model's; the model splits the rest over its abnormal classes",
                        gate.display()
                    ),
                ));
            }
            extra
        },
        unscored,
    };
    Ok(lungsound_report::write_evaluation_report(
        metrics, &context, out_dir,
    )?)
}

//! Patient-wise K-fold cross-validation: one run per fold, out-of-fold predictions for every
//! training unit, and the Score of each fold on the run's task and the coarser tasks it
//! implies, with mean ± sd.
//!
//! Layout of the output folder:
//!
//! ```text
//! OUT/config.json            the experiment every fold trains (its split.fold unset)
//! OUT/folds.json             seed, fold count, the fold of every recording and patient
//! OUT/fold-K/                a normal run directory (config.json, model, history, card)
//! OUT/fold-K/eval[-TASK]/    evaluation of fold K's patients (metrics.json, predictions.csv)
//! OUT/fold-K/fold.json       that fold's scores (written last: its presence marks the fold done)
//! OUT/oof_predictions[-TASK].csv   every fold's predictions.csv with a leading `fold` column
//! OUT/cv.json, OUT/cv.md     per-fold and mean ± sd Scores
//! ```
//!
//! Resumable: a fold with `fold.json` is read back, a fold with a checkpoint is resumed, the
//! others are trained; a rerun with other folds than `folds.json` records is refused.
//!
//! Fold-matched initial weights: `{fold}` in `training.pretrained` is replaced by each fold's
//! index, so fold K can start from a model trained on the same patients (for example fold K of
//! another cross-validation on these folds) without seeing its validation patients.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lungsound_datasets::{DatasetKind, Recording, Split, Task, patient_folds};
use serde::{Deserialize, Serialize};

use crate::checkpoint::CHECKPOINT_FILE;
use crate::training::{TrainOptions, resume, train};
use lungsound_infer::config::{CONFIG_FILE, ExperimentConfig, FoldSelection};
use lungsound_infer::load_data;
use lungsound_infer::{Error, Result};
use lungsound_infer::{EvalSplit, EvaluateOptions, PREDICTIONS_FILE, evaluate_run};

/// `OUT/folds.json`.
pub const FOLDS_FILE: &str = "folds.json";
/// `OUT/fold-K/fold.json`.
pub const FOLD_RESULT_FILE: &str = "fold.json";
/// `OUT/cv.json`.
pub const CV_FILE: &str = "cv.json";
/// `OUT/cv.md`.
pub const CV_REPORT_FILE: &str = "cv.md";

/// The fold of every recording and patient, as written to `folds.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldAssignment {
    /// Number of folds.
    pub count: usize,
    /// Seed of [`patient_folds`].
    pub seed: u64,
    /// (recording id, patient, fold), in dataset order.
    pub recordings: Vec<(String, String, usize)>,
}

/// One fold's result, as written to `fold-K/fold.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// The fold, `0..count`.
    pub fold: usize,
    /// Validation recordings and patients of the fold.
    pub n_recordings: usize,
    /// See `n_recordings`.
    pub n_patients: usize,
    /// (task, units scored, units expected, BioCAS Score) for the run's task, then the
    /// coarser tasks.
    pub scores: Vec<TaskScore>,
}

/// A fold's Score on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskScore {
    /// The task.
    pub task: Task,
    /// Units the annotations define / that got a prediction.
    pub units_expected: usize,
    /// See `units_expected`.
    pub units_scored: usize,
    /// BioCAS SE, SP and Score (a skipped unit counts as wrong).
    pub sensitivity: f64,
    /// See `sensitivity`.
    pub specificity: f64,
    /// See `sensitivity`.
    pub score: f64,
}

/// Mean ± sample standard deviation of a task's fold Scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSummary {
    /// The task.
    pub task: Task,
    /// Score of each fold, in fold order.
    pub per_fold: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (0 for one fold).
    pub sd: f64,
}

/// What [`run_cv`] produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// The task the folds were trained on.
    pub task: Task,
    /// Fold count and seed.
    pub folds: usize,
    /// See `folds`.
    pub seed: u64,
    /// Each fold's result.
    pub results: Vec<FoldResult>,
    /// Mean ± sd per task (the run's task first); empty while folds are pending.
    pub summary: Vec<TaskSummary>,
    /// Folds not run yet because [`CvOptions::only_folds`] left them out; the summary,
    /// `cv.json`, `cv.md` and the out-of-fold files are written once none is pending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<usize>,
}

/// How to cross-validate.
#[derive(Debug, Clone)]
pub struct CvOptions {
    /// Number of folds (at least 2).
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Device, cache and progress of each fold's training (and evaluation).
    pub train: TrainOptions,
    /// Clips per forward pass when evaluating.
    pub batch_size: usize,
    /// Run only these folds (empty: all), e.g. one process per core on different folds of
    /// the same folder; finished folds are read back either way.
    pub only_folds: Vec<usize>,
}

/// The placeholder in `training.pretrained` that [`run_cv`] replaces by the fold's index.
pub const FOLD_PLACEHOLDER: &str = "{fold}";

/// `path` with every [`FOLD_PLACEHOLDER`] replaced by `index` (unchanged without one).
pub fn fold_pretrained_path(path: &Path, index: usize) -> PathBuf {
    match path.to_str() {
        Some(text) if text.contains(FOLD_PLACEHOLDER) => {
            PathBuf::from(text.replace(FOLD_PLACEHOLDER, &index.to_string()))
        }
        // Not touched otherwise: a path that is not UTF-8 stays byte for byte.
        _ => path.to_path_buf(),
    }
}

/// The tasks a `task` model is scored on: its own, then every coarser one.
pub fn scored_tasks(task: Task) -> Vec<Task> {
    let mut tasks = vec![task];
    tasks.extend(
        Task::ALL
            .into_iter()
            .filter(|&t| t != task && task.class_map_to(t).is_some()),
    );
    tasks
}

/// Cross-validates `config` in `out_dir`; see the module documentation.
///
/// # Errors
/// Invalid settings, an `out_dir` holding another fold assignment, and any error of
/// training or evaluation.
pub fn run_cv(config: &ExperimentConfig, out_dir: &Path, options: &CvOptions) -> Result<CvReport> {
    let mut base = config.clone();
    base.split.fold = None;
    base.split.seed = options.seed;
    let mut probe = base.clone();
    probe.split.fold = Some(FoldSelection {
        count: options.folds,
        index: 0,
    });
    probe.validate()?;
    if let Some(&bad) = options.only_folds.iter().find(|&&k| k >= options.folds) {
        return Err(Error::InvalidConfig(format!(
            "fold {bad} does not exist: folds are numbered 0 to {}",
            options.folds - 1
        )));
    }

    let dataset = load_data(&base.data_dir, base.dataset)?;
    let pool: Vec<&Recording> = dataset
        .recordings
        .iter()
        .filter(|r| r.has_audio())
        .filter(|r| dataset.kind != DatasetKind::Icbhi || r.official_split == Some(Split::Train))
        .collect();
    let owned: Vec<Recording> = pool.iter().map(|r| (*r).clone()).collect();
    let folds = patient_folds(&owned, options.folds, options.seed);
    let assignment = FoldAssignment {
        count: options.folds,
        seed: options.seed,
        recordings: owned
            .iter()
            .zip(&folds)
            .map(|(r, &f)| (r.id.clone(), r.patient.clone(), f))
            .collect(),
    };
    lungsound_infer::fsutil::create_dir_all(out_dir)?;
    check_or_write_assignment(out_dir, &assignment)?;
    write_json(&out_dir.join(CONFIG_FILE), &base)?;

    let tasks = scored_tasks(base.task);
    let mut results = Vec::with_capacity(options.folds);
    let mut pending = Vec::new();
    for index in 0..options.folds {
        let run_dir = fold_dir(out_dir, index);
        let done = run_dir.join(FOLD_RESULT_FILE);
        if let Ok(text) = std::fs::read_to_string(&done)
            && let Ok(result) = serde_json::from_str::<FoldResult>(&text)
        {
            tracing::info!("fold {index}: done earlier, read back");
            results.push(result);
            continue;
        }
        if !options.only_folds.is_empty() && !options.only_folds.contains(&index) {
            pending.push(index);
            continue;
        }
        let mut fold_config = base.clone();
        fold_config.split.fold = Some(FoldSelection {
            count: options.folds,
            index,
        });
        fold_config.training.pretrained = base
            .training
            .pretrained
            .as_deref()
            .map(|path| fold_pretrained_path(path, index));
        if run_dir.join(CHECKPOINT_FILE).exists() {
            resume(&run_dir, None, &options.train)?;
        } else {
            train(fold_config, &run_dir, &options.train)?;
        }
        let result = evaluate_fold(&run_dir, &base, index, &folds, &assignment, &tasks, options)?;
        write_json(&done, &result)?;
        results.push(result);
    }

    if !pending.is_empty() {
        return Ok(CvReport {
            task: base.task,
            folds: options.folds,
            seed: options.seed,
            results,
            summary: Vec::new(),
            pending,
        });
    }
    for (k, &task) in tasks.iter().enumerate() {
        let suffix = eval_suffix(k, task);
        let mut csv = String::new();
        for index in 0..options.folds {
            let path = fold_dir(out_dir, index)
                .join(format!("eval{suffix}"))
                .join(PREDICTIONS_FILE);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            for (line_no, line) in text.lines().enumerate() {
                if line_no == 0 {
                    if index == 0 {
                        let _ = writeln!(csv, "fold,{line}");
                    }
                } else {
                    let _ = writeln!(csv, "{index},{line}");
                }
            }
        }
        let path = out_dir.join(format!("oof_predictions{suffix}.csv"));
        lungsound_infer::fsutil::write_atomic(&path, csv.as_bytes())?;
    }

    let summary = tasks
        .iter()
        .map(|&task| summarize(task, &results))
        .collect();
    let report = CvReport {
        task: base.task,
        folds: options.folds,
        seed: options.seed,
        results,
        summary,
        pending,
    };
    write_json(&out_dir.join(CV_FILE), &report)?;
    lungsound_infer::fsutil::write_atomic(
        &out_dir.join(CV_REPORT_FILE),
        markdown(&report, &base).as_bytes(),
    )?;
    Ok(report)
}

/// `OUT/fold-K`.
pub fn fold_dir(out_dir: &Path, index: usize) -> PathBuf {
    out_dir.join(format!("fold-{index}"))
}

/// `""` for the run's own task (position 0), `-TASK` for the coarser ones.
fn eval_suffix(position: usize, task: Task) -> String {
    if position == 0 {
        String::new()
    } else {
        format!("-{task}")
    }
}

fn evaluate_fold(
    run_dir: &Path,
    base: &ExperimentConfig,
    index: usize,
    folds: &[usize],
    assignment: &FoldAssignment,
    tasks: &[Task],
    options: &CvOptions,
) -> Result<FoldResult> {
    let mut scores = Vec::with_capacity(tasks.len());
    for (k, &task) in tasks.iter().enumerate() {
        let mut eval = EvaluateOptions::new(options.train.device);
        eval.cache = options.train.cache.clone();
        eval.split = EvalSplit::Val;
        eval.batch_size = options.batch_size.max(1);
        eval.task = Some(task);
        let out = run_dir.join(format!("eval{}", eval_suffix(k, task)));
        let report = evaluate_run(run_dir, &base.data_dir, &out, &eval)?;
        scores.push(TaskScore {
            task,
            units_expected: report.account.units_expected,
            units_scored: report.account.units_scored,
            sensitivity: report.metrics.biocas.sensitivity,
            specificity: report.metrics.biocas.specificity,
            score: report.metrics.biocas.score,
        });
    }
    let mut patients: Vec<&str> = assignment
        .recordings
        .iter()
        .filter(|(_, _, f)| *f == index)
        .map(|(_, p, _)| p.as_str())
        .collect();
    patients.sort_unstable();
    patients.dedup();
    Ok(FoldResult {
        fold: index,
        n_recordings: folds.iter().filter(|&&f| f == index).count(),
        n_patients: patients.len(),
        scores,
    })
}

fn summarize(task: Task, results: &[FoldResult]) -> TaskSummary {
    let per_fold: Vec<f64> = results
        .iter()
        .filter_map(|r| r.scores.iter().find(|s| s.task == task).map(|s| s.score))
        .collect();
    let (mean, sd) = mean_sd(&per_fold);
    TaskSummary {
        task,
        per_fold,
        mean,
        sd,
    }
}

/// Mean and sample standard deviation (0 for fewer than two values; NaN-free).
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

fn check_or_write_assignment(out_dir: &Path, assignment: &FoldAssignment) -> Result<()> {
    let path = out_dir.join(FOLDS_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let earlier: FoldAssignment =
            serde_json::from_str(&text).map_err(|e| Error::json(&path, e))?;
        if &earlier != assignment {
            return Err(Error::run_dir(
                out_dir,
                format!(
                    "holds a cross-validation with other folds ({} folds, seed {}, {} recordings); \
                     choose another --out or the same --folds, --seed and data",
                    earlier.count,
                    earlier.seed,
                    earlier.recordings.len()
                ),
            ));
        }
        return Ok(());
    }
    write_json(&path, assignment)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Error::json(path, e))?;
    text.push('\n');
    lungsound_infer::fsutil::write_atomic(path, text.as_bytes())
}

fn markdown(report: &CvReport, config: &ExperimentConfig) -> String {
    let mut md = format!(
        "# Cross-validation: task {} on {}\n\n{} patient-wise folds (seed {}); each fold's \
         patients are scored by the model trained on the other folds. BioCAS Score; a unit \
         without a prediction counts as wrong.\n\n",
        report.task,
        config.data_dir.display(),
        report.folds,
        report.seed
    );
    let mut header = "| task | mean ± sd |".to_string();
    let mut rule = "|---|---|".to_string();
    for r in &report.results {
        let _ = write!(header, " fold {} |", r.fold);
        rule.push_str("---|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    for s in &report.summary {
        let _ = write!(md, "| {} | {:.3} ± {:.3} |", s.task, s.mean, s.sd);
        for v in &s.per_fold {
            let _ = write!(md, " {v:.3} |");
        }
        md.push('\n');
    }
    md.push_str("\n| fold | recordings | patients |\n|---|---|---|\n");
    for r in &report.results {
        let _ = writeln!(md, "| {} | {} | {} |", r.fold, r.n_recordings, r.n_patients);
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_placeholder_is_replaced_in_pretrained_paths() {
        assert_eq!(
            fold_pretrained_path(Path::new("runs/cv-events/fold-{fold}/model.safetensors"), 3),
            PathBuf::from("runs/cv-events/fold-3/model.safetensors")
        );
        assert_eq!(
            fold_pretrained_path(Path::new("weights/vgg16.safetensors"), 3),
            PathBuf::from("weights/vgg16.safetensors")
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let not_utf8 = Path::new(std::ffi::OsStr::from_bytes(b"weights/\xff.safetensors"));
            assert_eq!(fold_pretrained_path(not_utf8, 3), not_utf8);
        }
    }

    #[test]
    fn mean_and_sample_sd() {
        let (m, s) = mean_sd(&[0.8, 0.9, 1.0]);
        assert!((m - 0.9).abs() < 1e-12);
        assert!((s - 0.1).abs() < 1e-12);
        assert_eq!(mean_sd(&[0.5]), (0.5, 0.0));
        assert_eq!(mean_sd(&[]), (0.0, 0.0));
    }

    #[test]
    fn fine_tasks_are_also_scored_on_their_coarser_tasks() {
        assert_eq!(
            scored_tasks(Task::EventMulti),
            vec![Task::EventMulti, Task::EventBinary]
        );
        assert_eq!(
            scored_tasks(Task::RecordMulti),
            vec![Task::RecordMulti, Task::RecordTernary]
        );
        assert_eq!(scored_tasks(Task::EventBinary), vec![Task::EventBinary]);
    }
}

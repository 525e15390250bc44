//! [`evaluate_run`]: a saved run on a dataset folder → `metrics.json`,
//! `predictions.csv` and the report.
//!
//! A unit's probabilities and prediction come from [`crate::scoring`]. Everything here is
//! deterministic for a given device and thread count, so evaluating the same
//! run on the same data twice writes byte-identical `metrics.json` and
//! `predictions.csv`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lungsound_datasets::{DatasetKind, Issue, Level, Recording, Split, Task};
use lungsound_eval::{BiocasScore, IcbhiScore, Metrics};
use lungsound_report::Unscored;
use serde::{Deserialize, Serialize};

use crate::accounting::{UnitAccount, account_units};
use crate::config::ExperimentConfig;
use crate::data::{FeatureSet, build_feature_set, require_clips};
use crate::ensemble::RunNetworks;
use crate::error::{Error, Result};
use crate::options::{EvalSplit, EvaluateOptions};
use crate::report::{ScoredTask, write_evaluation_report};
use crate::scoring::{class_names, unit_probabilities};
use crate::split::{load_data, run_split};

/// File names written by [`evaluate_run`].
pub const METRICS_FILE: &str = "metrics.json";
/// See [`METRICS_FILE`].
pub const PREDICTIONS_FILE: &str = "predictions.csv";

/// What [`evaluate_run`] measured and wrote.
#[derive(Debug, Clone)]
pub struct EvaluationReport {
    /// All metrics (also in `metrics.json`). The BioCAS and ICBHI scores count every unit
    /// the annotations define, a skipped one as a wrong prediction; accuracy, per-class
    /// metrics, the confusion matrix and ROC are over the scored units.
    pub metrics: Metrics,
    /// Units expected, scored and skipped, with the reasons.
    pub account: UnitAccount,
    /// The challenge scores over the scored units only (equal to the headline when
    /// nothing was skipped).
    pub scored_only: ScoredOnly,
    /// The task scored (the run's own or the coarser one asked for).
    pub task: Task,
    /// Problems with individual recordings or clips (skipped).
    pub issues: Vec<Issue>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// The challenge scores over the scored units only, beside the headline ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoredOnly {
    /// BioCAS scores over the scored units.
    pub biocas: BiocasScore,
    /// ICBHI scores over the scored units.
    pub icbhi: IcbhiScore,
}

/// `metrics.json`: the unit accounting at the top, then [`Metrics`].
#[derive(Serialize)]
struct MetricsFile<'a> {
    units_expected: usize,
    units_scored: usize,
    units_skipped: usize,
    skipped: &'a [crate::accounting::SkipReason],
    #[serde(flatten)]
    metrics: &'a Metrics,
    /// Present only when units were skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    scored_only: Option<&'a ScoredOnly>,
}

/// Evaluates the run in `run_dir` on the dataset in `data_dir` (same
/// dataset kind as the run's) and writes into `out_dir`: `metrics.json`
/// (`units_expected`, `units_scored`, `units_skipped`, `skipped` with reasons, then the
/// [`Metrics`]; the challenge scores count a skipped unit as wrong, and `scored_only` gives
/// them over the scored units when any were skipped), `predictions.csv` (one row per scored
/// unit: `record`, `event_index`, `start_s`, `end_s` (event tasks), `true_label`,
/// `predicted_label`, then one probability column per class named by the class) and the
/// plots and `report.md` of `lungsound-report`.
pub fn evaluate_run(
    run_dir: &Path,
    data_dir: &Path,
    out_dir: &Path,
    options: &EvaluateOptions,
) -> Result<EvaluationReport> {
    let config = ExperimentConfig::load(run_dir)?;
    let task = options.task.unwrap_or(config.task);
    let class_map = config.task.class_map_to(task).ok_or_else(|| {
        Error::InvalidConfig(format!(
            "a task {} model cannot be scored on task {task}; it can be scored on its own task or a coarser one (1-2 -> 1-1, 2-2 -> 2-1, cycles4 -> 1-1)",
            config.task
        ))
    })?;
    let dataset = load_data(data_dir, config.dataset)?;
    let mut issues = dataset.issues.clone();
    let recordings: Vec<&Recording> = match options.split {
        EvalSplit::All => dataset
            .recordings
            .iter()
            .filter(|r| r.has_audio())
            .collect(),
        EvalSplit::Train => run_split(&dataset, &config)?.train,
        EvalSplit::Val => run_split(&dataset, &config)?.val,
        EvalSplit::Test if dataset.kind == DatasetKind::Icbhi => dataset
            .recordings
            .iter()
            .filter(|r| r.has_audio() && r.official_split == Some(Split::Test))
            .collect(),
        EvalSplit::Test => {
            return Err(Error::InvalidConfig(format!(
                "--split test needs ICBHI's official split; {} has none (evaluate the test folder with --split all)",
                data_dir.display()
            )));
        }
    };
    let (set, set_issues) =
        build_feature_set(&recordings, &config.features, task, &options.cache, None)?;
    issues.extend(set_issues);
    require_clips(&set, "evaluation")?;

    let networks = RunNetworks::load(run_dir, &config, options.device)?;
    let clip_probs =
        networks.clip_probabilities(&set, &config.features, options.batch_size, |features| {
            Ok(build_feature_set(&recordings, features, task, &options.cache, None)?.0)
        })?;
    let probs = unit_probabilities(&set, &clip_probs);
    let probs = match &options.gate {
        Some(gate_dir) => {
            crate::gate::apply_gate(gate_dir, &config, &recordings, &set, &probs, options)?
        }
        None => probs,
    };
    let probs = fold_probabilities(&probs, &class_map, task.n_classes());
    let labels: Vec<usize> = set.units.iter().map(|u| u.label).collect();
    let names = class_names(task);
    let mut metrics = lungsound_eval::evaluate(&labels, &probs, &names, task.normal_class())?;
    let account = account_units(&recordings, task, &set.units, &issues);
    let scored_only = ScoredOnly {
        biocas: metrics.biocas,
        icbhi: metrics.icbhi,
    };
    let normal = task.normal_class();
    metrics.biocas =
        BiocasScore::with_unscored(&metrics.confusion, normal, &account.skipped_per_class)?;
    metrics.icbhi =
        IcbhiScore::with_unscored(&metrics.confusion, normal, &account.skipped_per_class)?;

    crate::fsutil::create_dir_all(out_dir)?;
    let metrics_path = out_dir.join(METRICS_FILE);
    let file = MetricsFile {
        units_expected: account.units_expected,
        units_scored: account.units_scored,
        units_skipped: account.units_skipped,
        skipped: &account.skipped,
        metrics: &metrics,
        scored_only: (account.units_skipped > 0).then_some(&scored_only),
    };
    let mut json =
        serde_json::to_string_pretty(&file).map_err(|e| Error::json(&metrics_path, e))?;
    json.push('\n');
    crate::fsutil::write_atomic(&metrics_path, json.as_bytes())?;
    let predictions_path = out_dir.join(PREDICTIONS_FILE);
    crate::fsutil::write_atomic(
        &predictions_path,
        predictions_csv(&set, &probs, task).as_bytes(),
    )?;
    let mut files = vec![metrics_path, predictions_path];
    files.extend(write_evaluation_report(
        out_dir,
        run_dir,
        data_dir,
        options,
        &config,
        ScoredTask {
            task,
            metrics: &metrics,
            unscored: Some(unscored_for_report(&account, &scored_only)),
        },
    )?);
    Ok(EvaluationReport {
        metrics,
        account,
        scored_only,
        task,
        issues,
        files,
    })
}

/// The report's view of `account`.
fn unscored_for_report(account: &UnitAccount, scored_only: &ScoredOnly) -> Unscored {
    Unscored {
        expected: account.units_expected,
        skipped: account.units_skipped,
        reasons: account
            .skipped
            .iter()
            .map(|r| (r.reason.clone(), r.count, r.examples.clone()))
            .collect(),
        score_scored_only: scored_only.biocas.score,
    }
}

/// Sums each row's fine-class probabilities into the coarse classes of
/// `class_map` (fine class → coarse class; see [`Task::class_map_to`]).
fn fold_probabilities(probs: &[Vec<f32>], class_map: &[usize], n_coarse: usize) -> Vec<Vec<f32>> {
    probs
        .iter()
        .map(|row| {
            let mut folded = vec![0f64; n_coarse];
            for (&p, &c) in row.iter().zip(class_map) {
                folded[c] += f64::from(p);
            }
            folded.into_iter().map(|v| v as f32).collect()
        })
        .collect()
}

/// The CSV text of `predictions.csv`: `record`, (`event_index`, `start_s`, `end_s` for
/// event tasks,) `true_label`, `predicted_label`, one probability column per class.
fn predictions_csv(set: &FeatureSet, probs: &[Vec<f32>], task: Task) -> String {
    let event_level = task.level() == Level::Event;
    let names = task.class_names();
    let mut out = String::from("record,");
    if event_level {
        out.push_str("event_index,start_s,end_s,");
    }
    out.push_str("true_label,predicted_label");
    for name in names {
        out.push(',');
        out.push_str(&csv_field(name));
    }
    out.push('\n');
    for (unit, p) in set.units.iter().zip(probs) {
        out.push_str(&csv_field(&unit.record));
        out.push(',');
        if event_level {
            let _ = write!(
                out,
                "{},{:.3},{:.3},",
                unit.event_index.map_or(String::new(), |i| i.to_string()),
                unit.start_s,
                unit.end_s
            );
        }
        out.push_str(&csv_field(names[unit.label]));
        out.push(',');
        out.push_str(&csv_field(names[lungsound_eval::argmax(p)]));
        for v in p {
            let _ = write!(out, ",{v}");
        }
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Clip, Unit, clips::ClipSpan};

    #[test]
    fn units_average_their_clips_and_csv_has_the_contract_header() {
        let span = ClipSpan {
            start_s: 0.0,
            end_s: 1.0,
            event_index: None,
        };
        let unit = |record: &str, event_index, label| Unit {
            record: record.into(),
            event_index,
            label,
            start_s: 0.0,
            end_s: 1.0,
        };
        let set = FeatureSet::for_tests(
            vec![
                Clip {
                    unit: 0,
                    label: 1,
                    span,
                    augmented: None,
                },
                Clip {
                    unit: 0,
                    label: 1,
                    span,
                    augmented: None,
                },
                Clip {
                    unit: 1,
                    label: 0,
                    span,
                    augmented: None,
                },
            ],
            vec![unit("a", Some(3), 1), unit("b,c", Some(0), 0)],
        );
        let probs = unit_probabilities(&set, &[vec![0.2, 0.8], vec![0.4, 0.6], vec![1.0, 0.0]]);
        assert!((probs[0][0] - 0.3).abs() < 1e-7 && (probs[0][1] - 0.7).abs() < 1e-7);
        let csv = predictions_csv(&set, &probs, Task::EventBinary);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("record,event_index,start_s,end_s,true_label,predicted_label,Normal,Adventitious")
        );
        assert!(
            lines
                .next()
                .is_some_and(|l| l.starts_with("a,3,0.000,1.000,Adventitious,Adventitious,0.3")),
        );
        assert_eq!(
            lines.next(),
            Some("\"b,c\",0,0.000,1.000,Normal,Normal,1,0")
        );
        let csv = predictions_csv(&set, &probs, Task::RecordTernary);
        assert!(
            csv.starts_with("record,true_label,predicted_label,Normal,Poor Quality,Adventitious\n")
        );
    }
}

//! `write_evaluation_report`: plots and Markdown for `lungsound evaluate`.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use lungsound_eval::Metrics;
use serde::{Deserialize, Serialize};

use crate::analysis::REPORT_MD;
use crate::markdown::{escape, image, opt_score, score, table};
use crate::plot::{confusion_matrix_plot, roc_plot};
use crate::{Error, write_file};

/// Stem of the confusion-matrix plot.
pub const CONFUSION_MATRIX_STEM: &str = "confusion_matrix";
/// Stem of the ROC plot.
pub const ROC_STEM: &str = "roc";
/// File name the caller writes the metrics to; the report links it.
pub const METRICS_JSON: &str = "metrics.json";

/// What was evaluated, for the report's header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalContext {
    /// Model name or run directory (e.g. `runs/small_cnn-1-2`).
    pub model: String,
    /// Task id (`1-1`, `1-2`, `2-1`, `2-2`, `cycles4`).
    pub task: String,
    /// Dataset name (`SPRSound`, `ICBHI 2017`, …).
    pub dataset: String,
    /// Folder the evaluation data was read from.
    pub data_dir: PathBuf,
    /// Which part of the data (`official test`, `validation`, `all`, …).
    pub split: String,
    /// Number of samples evaluated.
    pub n_samples: usize,
    /// The command line that produced the evaluation.
    pub command: String,
    /// Further facts to list, as (name, value) (checkpoint, date, commit, …).
    pub extra: Vec<(String, String)>,
    /// Units the annotations define that got no prediction; `None` or empty when every
    /// unit was scored.
    #[serde(default)]
    pub unscored: Option<Unscored>,
}

/// What an evaluation could not score, for the report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Unscored {
    /// Units the annotations define.
    pub expected: usize,
    /// Units without a prediction (counted as errors in the scores).
    pub skipped: usize,
    /// (reason, count, first examples), most frequent first.
    pub reasons: Vec<(String, usize, Vec<String>)>,
    /// The BioCAS Score over the scored units only.
    pub score_scored_only: f64,
}

/// Writes into `out_dir` (created if needed) `confusion_matrix.png`/`.svg`
/// (counts and row-normalised), `roc.png`/`.svg` (per-class one-vs-rest
/// curves plus micro and macro averages) and `report.md`, which tabulates
/// the BioCAS (SE, SP, AS, HS, Score) and ICBHI (Se, Sp, Score) scores,
/// accuracy, macro F1, AUCs and per-class metrics, and embeds both plots.
/// `metrics.json` is the caller's to write; the report links to it.
/// Returns every file written.
pub fn write_evaluation_report(
    metrics: &Metrics,
    context: &EvalContext,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, Error> {
    crate::create_dir(out_dir)?;
    let what = format!(
        "{} — task {} — {}",
        context.model, context.task, context.dataset
    );
    let cm = confusion_matrix_plot(
        &metrics.confusion,
        &format!("Confusion matrix: {what}"),
        &out_dir.join(CONFUSION_MATRIX_STEM),
    )?;
    let averages: Vec<_> = metrics
        .roc_micro
        .iter()
        .chain(metrics.roc_macro.iter())
        .cloned()
        .collect();
    let roc = roc_plot(
        &format!("ROC: {what}"),
        &metrics.roc,
        &averages,
        &out_dir.join(ROC_STEM),
    )?;
    let md = markdown(metrics, context);
    let md_path = out_dir.join(REPORT_MD);
    write_file(&md_path, md.as_bytes())?;
    Ok(vec![cm.png, cm.svg, roc.png, roc.svg, md_path])
}

fn markdown(m: &Metrics, c: &EvalContext) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Evaluation: {} on {} (task {})\n",
        escape(&c.model),
        escape(&c.dataset),
        escape(&c.task)
    );
    let mut rows = vec![
        vec!["model".to_string(), c.model.clone()],
        vec!["task".into(), c.task.clone()],
        vec!["dataset".into(), c.dataset.clone()],
        vec!["data folder".into(), c.data_dir.display().to_string()],
    ];
    if !c.split.is_empty() {
        rows.push(vec!["split".into(), c.split.clone()]);
    }
    rows.push(vec!["samples".into(), c.n_samples.to_string()]);
    let unscored = c.unscored.as_ref().filter(|u| u.skipped > 0);
    if let Some(u) = unscored {
        rows.push(vec![
            "not scored".into(),
            format!(
                "{} of {} units (counted as errors in the scores below)",
                u.skipped, u.expected
            ),
        ]);
    }
    rows.push(vec![
        "classes".into(),
        m.class_names.join(", ")
            + &format!(
                " (Normal = {})",
                m.class_names.get(m.normal_class).map_or("?", |s| s)
            ),
    ]);
    rows.extend(c.extra.iter().map(|(k, v)| vec![k.clone(), v.clone()]));
    md.push_str(&table(&["", ""], &rows));
    if !c.command.is_empty() {
        let _ = writeln!(md, "\nCommand:\n\n```text\n{}\n```", c.command);
    }
    let _ = writeln!(md, "\nAll numbers: [{METRICS_JSON}]({METRICS_JSON}).\n");

    if let Some(u) = unscored {
        let _ = writeln!(
            md,
            "## Units not scored\n\n**{} of {} units got no prediction.** The challenge counts a \
             missing prediction as wrong, and so do the scores below; over the {} scored units \
             alone the BioCAS Score would be {} (not comparable with other results).\n",
            u.skipped,
            u.expected,
            u.expected - u.skipped,
            score(u.score_scored_only)
        );
        let rows: Vec<Vec<String>> = u
            .reasons
            .iter()
            .map(|(reason, count, examples)| {
                vec![reason.clone(), count.to_string(), examples.join("; ")]
            })
            .collect();
        md.push_str(&table(&["reason", "units", "first examples"], &rows));
        md.push('\n');
    }
    md.push_str("## Scores\n\n");
    md.push_str("SPRSound challenge (BioCAS): a non-Normal sample counts towards SE only when its exact class is predicted.\n\n");
    let b = &m.biocas;
    md.push_str(&table(
        &["", "SE", "SP", "AS", "HS", "Score"],
        &[vec![
            "BioCAS".into(),
            score(b.sensitivity),
            score(b.specificity),
            score(b.average_score),
            score(b.harmonic_score),
            score(b.score),
        ]],
    ));
    md.push('\n');
    let i = &m.icbhi;
    md.push_str(&table(
        &["", "Se", "Sp", "Score"],
        &[vec![
            "ICBHI".into(),
            score(i.sensitivity),
            score(i.specificity),
            score(i.score),
        ]],
    ));
    md.push('\n');
    md.push_str(&table(
        &["", "value"],
        &[
            vec!["accuracy".into(), score(m.accuracy)],
            vec!["balanced accuracy".into(), score(m.balanced_accuracy)],
            vec!["macro F1".into(), score(m.macro_f1)],
            vec!["AUC (macro, one-vs-rest)".into(), opt_score(m.auc_macro)],
            vec!["AUC (micro)".into(), opt_score(m.auc_micro)],
        ],
    ));

    md.push_str("\n## Per class\n\n");
    let rows: Vec<Vec<String>> = m
        .per_class
        .iter()
        .enumerate()
        .map(|(k, pc)| {
            vec![
                pc.name.clone(),
                score(pc.precision),
                score(pc.recall),
                score(pc.f1),
                pc.support.to_string(),
                opt_score(m.roc.get(k).and_then(|r| r.auc)),
            ]
        })
        .collect();
    md.push_str(&table(
        &["class", "precision", "recall", "F1", "support", "AUC"],
        &rows,
    ));
    md.push_str(
        "\nAUC \"–\": the class is absent from the evaluated data (or is the only class).\n",
    );

    md.push_str("\n## Confusion matrix\n\nRows: true class; columns: predicted class.\n\n");
    let headers: Vec<String> = std::iter::once("true \\ predicted".to_string())
        .chain(m.confusion.class_names.iter().cloned())
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = m
        .confusion
        .class_names
        .iter()
        .zip(&m.confusion.counts)
        .map(|(name, row)| {
            std::iter::once(name.clone())
                .chain(row.iter().map(u64::to_string))
                .collect()
        })
        .collect();
    md.push_str(&table(&headers, &rows));
    md.push('\n');
    md.push_str(&image(
        "Confusion matrix",
        &format!("{CONFUSION_MATRIX_STEM}.png"),
    ));
    md.push_str("\n## ROC\n\n");
    md.push_str(&image("ROC curves", &format!("{ROC_STEM}.png")));
    md
}

//! `lungsound analyze DATASET_DIR --out DIR`: a JSON summary, a Markdown
//! report and PNG/SVG plots of what a dataset contains. Every issue found
//! (unreadable files and lines, events that do not fit their audio) is
//! printed and saved in `summary.json` (`issues`) and listed in `report.md`.

use std::path::PathBuf;

use anyhow::Context;

use crate::outcome::Outcome;
use crate::progress;

/// Arguments of `lungsound analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Dataset folder: ICBHI (audio or annotation-only), SPRSound, or a folder
    /// of recordings.
    dataset_dir: PathBuf,
    /// Output folder for summary.json, report.md and the plots.
    #[arg(long)]
    out: PathBuf,
    /// Skip reading audio headers (no recording durations or sample rates, and
    /// events are not checked against the length of their audio).
    #[arg(long)]
    no_audio: bool,
}

/// Runs `lungsound analyze`.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<Outcome> {
    let dataset = lungsound_datasets::load_dataset(&args.dataset_dir)
        .with_context(|| format!("cannot read dataset {}", args.dataset_dir.display()))?;
    // The loader's issues, unreadable audio headers and (with audio) the
    // events that do not fit their audio: all in summary.json and report.md too.
    let summary = lungsound_datasets::summarize(&dataset, !args.no_audio);
    let problems = progress::print_issues(&summary.issues);
    let written = lungsound_report::write_analysis_report(&summary, &args.out)
        .with_context(|| format!("cannot write the report to {}", args.out.display()))?;
    println!(
        "{} dataset: {} recordings ({} with audio), {} patients -> {} ({} files; start with report.md)",
        summary.kind.display_name(),
        summary.n_recordings,
        summary.n_with_audio,
        summary.n_patients,
        args.out.display(),
        written.len()
    );
    progress::print_problem_summary(problems, "analysing");
    Ok(Outcome::with_problems(problems))
}

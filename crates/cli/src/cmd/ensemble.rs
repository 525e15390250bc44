//! `lungsound ensemble RUN_DIR... --out DIR`: makes one model of several runs of the same
//! task and clips (e.g. the fold runs of `lungsound cv`, or a log-mel and a PCEN run), whose
//! probabilities are the mean of theirs; `predict`, `evaluate` and `serve` take the folder as
//! they take a run.

use std::path::PathBuf;

use anyhow::Context;
use lungsound_infer::ensemble::write_ensemble;

use super::train::runtime;
use crate::outcome::Outcome;

/// Arguments of `lungsound ensemble`.
#[derive(Debug, clap::Args)]
pub struct EnsembleArgs {
    /// The member runs: same dataset, task, classes and clips (sample rate, band-pass, clip
    /// length, padding, window hop); their spectrograms may differ (each computes its own).
    #[arg(required = true, value_name = "RUN_DIR")]
    members: Vec<PathBuf>,
    /// The ensemble folder to create: config.json, ensemble.json, members/, model_card.md.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs `lungsound ensemble`.
pub fn run(args: EnsembleArgs) -> anyhow::Result<Outcome> {
    let config = write_ensemble(&args.out, &args.members, &runtime::command_line())
        .with_context(|| format!("cannot make the ensemble {}", args.out.display()))?;
    println!(
        "{}: ensemble of {} run(s), task {} on {} (mean of their probabilities)",
        args.out.display(),
        args.members.len(),
        config.task,
        config.dataset.display_name()
    );
    Ok(Outcome::clean())
}

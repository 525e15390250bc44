//! `lungsound cv --recipe R --folds 5 --out DIR`: patient-wise K-fold cross-validation of a
//! recipe — one run per fold, out-of-fold predictions, per-fold and mean ± sd Scores on the
//! recipe's task and the coarser tasks it implies. Resumable: rerun the same command after
//! a kill.

use std::path::PathBuf;

use anyhow::Context;
use lungsound_train::cv::{CV_REPORT_FILE, CvOptions, run_cv};
use lungsound_train::{Recipe, TrainOptions};

use super::train::experiment::ExperimentFlags;
use super::train::runtime::{self, DeviceArg};
use crate::outcome::Outcome;

/// Arguments of `lungsound cv`.
#[derive(Debug, clap::Args)]
pub struct CvArgs {
    /// The experiment to cross-validate (a recipe TOML, as for `train --recipe`).
    #[arg(long, value_name = "FILE")]
    recipe: PathBuf,
    /// Number of patient-wise folds (at least 2).
    #[arg(long, default_value_t = 5, value_name = "K")]
    folds: usize,
    /// Output folder: folds.json, fold-K/ runs, oof_predictions.csv, cv.json, cv.md.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Seed of the fold assignment [default: the recipe's split seed].
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Training folder [default: the recipe's data_dir].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Run only this fold (0 to K-1; repeat the flag for several), e.g. one process per core
    /// on the same --out; the summary is written by the run that finds every fold done.
    #[arg(long = "fold", value_name = "K")]
    only_folds: Vec<usize>,
    /// Epochs per fold [default: the recipe's].
    #[arg(long, value_name = "N")]
    epochs: Option<usize>,
    /// Initial weights of every fold [default: the recipe's training.pretrained]; `{fold}`
    /// in the path becomes the fold's index, so that fold K starts from a model trained on
    /// fold K's training patients (e.g. 'runs/cv-events/fold-{fold}/model.safetensors').
    #[arg(long, value_name = "FILE")]
    pretrained: Option<PathBuf>,
    /// Clips per forward pass when evaluating, 1–4096.
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = crate::limits::batch_size)]
    batch_size: usize,
    /// Feature cache folder [default: DIR/.cache/features].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the feature cache.
    #[arg(long)]
    no_cache: bool,
    /// CPU threads for libtorch and feature computation [default: all]; folds run one
    /// after another, so one process never uses more than the cores it is given.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// cpu or cuda [default: cuda if available].
    #[arg(long)]
    device: Option<DeviceArg>,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `lungsound cv`.
pub fn run(args: CvArgs) -> anyhow::Result<Outcome> {
    runtime::set_threads(args.threads)?;
    let device = runtime::device(args.device)?;
    let recipe = Recipe::load(&args.recipe)?;
    let overrides = ExperimentFlags {
        data: args.data.clone(),
        epochs: args.epochs,
        pretrained: args.pretrained.clone(),
        ..ExperimentFlags::default()
    };
    let config = overrides.recipe_experiment(&recipe)?;
    let mut train = TrainOptions::new(device);
    train.progress = !args.quiet;
    train.cache = runtime::feature_cache(
        args.cache_dir.as_deref(),
        args.no_cache,
        args.out.join(".cache/features"),
    );
    let options = CvOptions {
        folds: args.folds,
        seed: args.seed.unwrap_or(config.split.seed),
        train,
        batch_size: args.batch_size.max(1),
        only_folds: args.only_folds.clone(),
    };
    eprintln!(
        "cross-validating {} ({} folds, seed {}) -> {}",
        args.recipe.display(),
        options.folds,
        options.seed,
        args.out.display()
    );
    let cache = options.train.cache.clone();
    let report = run_cv(&config, &args.out, &options)
        .with_context(|| format!("cross-validation of {}", args.recipe.display()))?;
    if !report.pending.is_empty() {
        for result in &report.results {
            if let Some(s) = result.scores.first() {
                println!(
                    "fold {}: task {} BioCAS Score {:.3}",
                    result.fold, s.task, s.score
                );
            }
        }
        let pending: Vec<String> = report.pending.iter().map(ToString::to_string).collect();
        println!(
            "folds {} not run yet (--fold); rerun without --fold once they are done to write {}",
            pending.join(", "),
            args.out.join(CV_REPORT_FILE).display()
        );
        super::cache::report(&cache);
        return Ok(Outcome::clean());
    }
    for summary in &report.summary {
        let folds: Vec<String> = summary.per_fold.iter().map(|v| format!("{v:.3}")).collect();
        println!(
            "task {}: BioCAS Score {:.3} ± {:.3} (folds {})",
            summary.task,
            summary.mean,
            summary.sd,
            folds.join(", ")
        );
    }
    println!("wrote {}", args.out.join(CV_REPORT_FILE).display());
    super::cache::report(&cache);
    Ok(Outcome::clean())
}

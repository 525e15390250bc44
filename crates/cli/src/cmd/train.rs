//! `lungsound train --dataset sprsound|icbhi --data DIR --task T --out RUN_DIR`:
//! trains a model and writes a run directory (config.json, history.csv,
//! model.safetensors, checkpoint.safetensors, model_card.md).
//!
//! Settings come from, in increasing priority: the defaults of
//! `lungsound_infer::ExperimentConfig::new` (small-cnn on log-mel), the
//! `--config` file (JSON or TOML, keys as in `config.json`), then the flags.
//! `--resume RUN_DIR` continues a run from its checkpoint with the run's own
//! config (only `--epochs` may change it).
//!
//! `--recipe FILE.toml` takes the whole experiment from a recipe (see
//! `lungsound_train::recipe` and `recipes/README.md`) instead of the defaults
//! and `--config`; flags still override it. A recipe run trains, then
//! evaluates into `RUN_DIR/eval/` like `lungsound evaluate`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use lungsound_infer::{EvalSplit, default_cache_dir};
use lungsound_train::{Recipe, TrainOptions};

pub(crate) mod experiment;
pub(crate) mod runtime;

use crate::outcome::Outcome;
use experiment::ExperimentFlags;
use runtime::DeviceArg;

/// Arguments of `lungsound train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The experiment: dataset, model, features, optimisation, augmentation.
    #[command(flatten)]
    pub(crate) experiment: ExperimentFlags,
    /// Run directory to create.
    // display_order: in `--help`, the run's own options follow --dataset … --arch (which come
    // from the flattened experiment flags) and precede the global --strict / -v.
    #[arg(long, value_name = "RUN_DIR", display_order = 4)]
    out: Option<PathBuf>,
    /// Settings file (JSON or TOML, keys as in config.json); flags override it.
    #[arg(long, value_name = "FILE", display_order = 5)]
    config: Option<PathBuf>,
    /// Run a recipe (TOML: the whole experiment plus [evaluate]): train, then
    /// evaluate into RUN_DIR/eval/. Flags override its values.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "config",
        display_order = 6
    )]
    recipe: Option<PathBuf>,
    /// Continue the run in RUN_DIR from its last checkpoint.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["dataset", "data", "task", "out", "config", "recipe"], display_order = 7)]
    resume: Option<PathBuf>,
    /// Feature cache folder [default: RUN_DIR/../.cache/features].
    #[arg(long, value_name = "DIR", help_heading = "Features")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the feature cache.
    #[arg(long, help_heading = "Features")]
    no_cache: bool,

    /// Recipe runs: evaluate on this folder instead of the recipe's [evaluate] data.
    #[arg(long, value_name = "DIR", requires = "recipe", help_heading = "Recipe")]
    eval_data: Option<PathBuf>,
    /// Recipe runs: which recordings to evaluate (all, train, val, test).
    #[arg(
        long,
        value_name = "SPLIT",
        requires = "recipe",
        help_heading = "Recipe"
    )]
    eval_split: Option<EvalSplit>,

    /// CPU threads for libtorch and feature computation [default: all].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// cpu or cuda [default: cuda if available].
    #[arg(long)]
    device: Option<DeviceArg>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

/// Runs `lungsound train`.
pub fn run(args: TrainArgs) -> anyhow::Result<Outcome> {
    runtime::set_threads(args.threads)?;
    let device = runtime::device(args.device)?;
    let recipe = match &args.recipe {
        Some(path) => Some(Recipe::load(path)?),
        None => None,
    };
    let run_dir = match (
        &args.resume,
        &args.out,
        recipe.as_ref().and_then(|r| r.out.as_ref()),
    ) {
        (Some(dir), _, _) | (None, Some(dir), _) | (None, None, Some(dir)) => dir.clone(),
        (None, None, None) => {
            bail!("--out RUN_DIR is required (or --resume RUN_DIR, or an `out` key in the recipe)")
        }
    };
    let cache = runtime::feature_cache(
        args.cache_dir.as_deref(),
        args.no_cache,
        default_cache_dir(&run_dir),
    );
    let mut options = TrainOptions::new(device);
    options.cache = cache;
    options.progress = !args.quiet;
    options.on_epoch = Some(Arc::new(|r, best| {
        eprintln!(
            "epoch {:>3}  train_loss {:.4}  val_loss {:.4}  val_acc {:.3}  val_score {:.4} (SE {:.3}, SP {:.3})  lr {:.2e}  {:.0} s{}",
            r.epoch,
            r.train_loss,
            r.val_loss,
            r.val_accuracy,
            r.val_score,
            r.val_se,
            r.val_sp,
            r.lr,
            r.seconds,
            if best { "  *" } else { "" }
        );
    }));

    if let Some(mut recipe) = recipe {
        recipe.config = args.experiment.recipe_experiment(&recipe)?;
        if let Some(data) = &args.eval_data {
            recipe.evaluate.data = Some(data.clone());
        }
        if args.eval_split.is_some() {
            recipe.evaluate.split = args.eval_split;
        }
        return run_recipe(&recipe, &run_dir, &options);
    }
    let report = if args.resume.is_some() {
        if args.experiment.changes_experiment() {
            bail!(
                "--resume continues a run with its own config.json; only --epochs, --threads, --device and the cache flags may be given"
            );
        }
        eprintln!(
            "resuming {} on {}",
            run_dir.display(),
            runtime::device_name(device)
        );
        lungsound_train::resume(&run_dir, args.experiment.epochs, &options)
            .with_context(|| format!("cannot resume {}", run_dir.display()))?
    } else {
        let config = args.experiment.experiment(args.config.as_deref())?;
        eprintln!(
            "training {} on {} task {} ({}) on {} -> {}",
            config.model.arch,
            config.dataset.display_name(),
            config.task,
            runtime::count(config.training.epochs, "epoch"),
            runtime::device_name(device),
            run_dir.display()
        );
        lungsound_train::train(config, &run_dir, &options)?
    };
    print_train_report(&report, &run_dir);
    super::cache::report(&options.cache);
    Ok(Outcome::with_problems(runtime::count_problems(
        &report.issues,
    )))
}

/// Trains and evaluates a recipe.
fn run_recipe(
    recipe: &Recipe,
    run_dir: &std::path::Path,
    options: &TrainOptions,
) -> anyhow::Result<Outcome> {
    let c = &recipe.config;
    eprintln!(
        "recipe {}: training {} on {} task {} ({}) on {} -> {}, then evaluating on {} ({})",
        recipe.path.display(),
        c.model.arch,
        c.dataset.display_name(),
        c.task,
        runtime::count(c.training.epochs, "epoch"),
        runtime::device_name(options.device),
        run_dir.display(),
        recipe.eval_data().display(),
        recipe.eval_split().describe()
    );
    let report = lungsound_train::run_recipe(recipe, run_dir, options)
        .with_context(|| format!("recipe {}", recipe.path.display()))?;
    print_train_report(&report.train, run_dir);
    super::cache::report(&options.cache);
    // Loading the dataset again for the evaluation repeats its issues; print new ones only.
    let new_issues: Vec<_> = report
        .evaluation
        .issues
        .iter()
        .filter(|i| !report.train.issues.contains(i))
        .collect();
    for issue in &new_issues {
        eprintln!("{issue}");
    }
    let m = &report.evaluation.metrics;
    println!(
        "{}: {} units of {} ({:?}): accuracy {:.4}, BioCAS Score {:.4}, ICBHI Score {:.4} (SE {:.4}, SP {:.4})",
        report.eval_dir.display(),
        m.n_samples,
        recipe.eval_data().display(),
        recipe.eval_split(),
        m.accuracy,
        m.biocas.score,
        m.icbhi.score,
        m.icbhi.sensitivity,
        m.icbhi.specificity
    );
    let new_issues: Vec<_> = new_issues.into_iter().cloned().collect();
    Ok(Outcome::with_problems(
        runtime::count_problems(&report.train.issues) + runtime::count_problems(&new_issues),
    ))
}

fn print_train_report(report: &lungsound_train::TrainReport, run_dir: &std::path::Path) {
    for issue in &report.issues {
        eprintln!("{issue}");
    }
    if report.n_augmented_clips > 0 {
        eprintln!(
            "{} training clips, {} of them augmented",
            report.n_train_clips, report.n_augmented_clips
        );
    }
    match report.best() {
        Some(b) => println!(
            "{}: best epoch {} of {}: validation Score {:.4} (SE {:.4}, SP {:.4}, accuracy {:.4}){}",
            run_dir.display(),
            b.epoch,
            report.history.len(),
            b.val_score,
            b.val_se,
            b.val_sp,
            b.val_accuracy,
            if report.stopped_early {
                ", stopped early"
            } else {
                ""
            }
        ),
        None => println!("{}: no epoch finished", run_dir.display()),
    }
}

//! `lungsound evaluate --model RUN_DIR --data DIR --out EVAL_DIR`: scores a
//! trained run on a dataset folder of the same kind and writes
//! `metrics.json`, `predictions.csv`, `confusion_matrix.png`, `roc.png` and
//! `report.md`. Evaluating the same run on the same data again, on the same
//! device and thread count, rewrites identical `metrics.json` and
//! `predictions.csv`.

use std::path::PathBuf;

use anyhow::Context;
use lungsound_infer::{EvalSplit, EvaluateOptions, GateChoice};

use super::train::runtime::{self, DeviceArg};
use crate::outcome::Outcome;

/// Arguments of `lungsound evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Run directory of the trained model (config.json + model.safetensors).
    #[arg(long, value_name = "RUN_DIR")]
    model: PathBuf,
    /// Dataset folder to evaluate on (same dataset kind as the model's).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Output folder.
    #[arg(long, value_name = "EVAL_DIR")]
    out: PathBuf,
    /// Which recordings of DIR: all, the run's patient-wise train or val
    /// split (DIR must be the training folder), or ICBHI's official test split.
    #[arg(long, default_value = "all", value_name = "SPLIT")]
    split: EvalSplit,
    /// Score on a coarser task than the model's, by summing its class
    /// probabilities: a 1-2 model on 1-1, a 2-2 model on 2-1, a cycles4
    /// model on 1-1 [default: the model's own task].
    #[arg(long, value_name = "TASK")]
    task: Option<lungsound_datasets::Task>,
    /// Two-stage scoring: a Normal-vs-abnormal run (e.g. a 1-1 model for a
    /// 1-2 model) gives each unit's probability of Normal; the model splits
    /// the rest over its abnormal classes [default: the run's own gate, named
    /// in its gate.json, when scoring on the model's own task].
    #[arg(long, value_name = "RUN_DIR")]
    gate: Option<PathBuf>,
    /// Score the model alone, even when its gate.json names a gate.
    #[arg(long, conflicts_with = "gate")]
    no_gate: bool,
    /// Clips per forward pass, 1–4096.
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = crate::limits::batch_size)]
    batch_size: usize,
    /// Feature cache folder [default: EVAL_DIR/../.cache/features].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the feature cache.
    #[arg(long)]
    no_cache: bool,
    /// CPU threads for libtorch and feature computation [default: all].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// cpu or cuda [default: cuda if available].
    #[arg(long)]
    device: Option<DeviceArg>,
}

/// Runs `lungsound evaluate`.
pub fn run(args: EvaluateArgs) -> anyhow::Result<Outcome> {
    runtime::set_threads(args.threads)?;
    let mut options = EvaluateOptions::new(runtime::device(args.device)?);
    options.split = args.split;
    options.task = args.task;
    // A run's own gate (gate.json) applies when scoring on its own task; --task scores the
    // model's summed probabilities, which a gate would replace by its own on a binary task.
    let choice = GateChoice::from_flags(args.gate, args.no_gate);
    options.gate = match &choice {
        GateChoice::RunDefault if args.task.is_some() => None,
        choice => choice.for_run(&args.model)?,
    };
    if let (GateChoice::RunDefault, Some(gate)) = (&choice, &options.gate) {
        eprintln!(
            "gated by {}, named in {}'s gate.json (--no-gate scores the model alone)",
            gate.display(),
            args.model.display()
        );
    }
    options.batch_size = args.batch_size.max(1);
    options.command = runtime::command_line();
    options.cache = runtime::feature_cache(
        args.cache_dir.as_deref(),
        args.no_cache,
        lungsound_infer::default_cache_dir(&args.out),
    );
    let report = lungsound_infer::evaluate_run(&args.model, &args.data, &args.out, &options)
        .with_context(|| {
            format!(
                "cannot evaluate {} on {}",
                args.model.display(),
                args.data.display()
            )
        })?;
    for issue in &report.issues {
        eprintln!("{issue}");
    }
    let m = &report.metrics;
    let account = &report.account;
    println!(
        "{} of {} units scored: accuracy {:.4}, BioCAS SE {:.4} SP {:.4} Score {:.4}, ICBHI Score {:.4}{}",
        account.units_scored,
        account.units_expected,
        m.accuracy,
        m.biocas.sensitivity,
        m.biocas.specificity,
        m.biocas.score,
        m.icbhi.score,
        m.auc_macro
            .map_or(String::new(), |a| format!(", macro AUC {a:.4}"))
    );
    if let Some(line) = account.closing_line(report.task) {
        println!(
            "{line} (over the scored units only: BioCAS Score {:.4}, not comparable)",
            report.scored_only.biocas.score
        );
        for reason in &account.skipped {
            println!("  {} × {}", reason.count, reason.reason);
        }
    }
    println!("wrote {}", args.out.display());
    super::cache::report(&options.cache);
    let problems = runtime::count_problems(&report.issues).max(account.units_skipped.min(1));
    crate::progress::print_problem_summary(problems, "evaluating");
    Ok(Outcome::with_problems(problems))
}

//! `lungsound-torch`: every `lungsound` command, the ones that run a network included.
//!
//! Users run `lungsound` (`main.rs`), which does the light commands itself and hands
//! `train`, `evaluate`, `predict`, `serve`, `cv` and `cache` to this binary, so that
//! `info`, `features` and `analyze` start without loading libtorch. This binary only
//! parses arguments and wires the library crates together: every subcommand lives in
//! `cmd/<verb>.rs` with its own clap `Args` and a `run` function. Errors are printed here,
//! once, with their cause chain, and turned into the exit code (0 ok, 1 problems found
//! under `--strict`, 2 error).

mod cmd;
mod limits;
mod outcome;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Respiratory (lung) sound classification: datasets, spectrograms, models,
/// training, evaluation and prediction.
#[derive(Debug, Parser)]
#[command(name = "lungsound", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: outcome::GlobalArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show duration, sample rate, channels and bit depth of audio files.
    Info(cmd::info::InfoArgs),
    /// Cut a dataset into one WAV per respiratory cycle / event plus manifest.csv.
    Segment(cmd::segment::SegmentArgs),
    /// Compute spectrograms (mel, STFT, log-STFT) as .npy and PNG.
    Features(cmd::features::FeaturesArgs),
    /// Augment the training split of a segmented folder (pitch, time, gain, noise).
    Augment(cmd::augment::AugmentArgs),
    /// Summarise a dataset: class balance, durations, patients, devices, with plots.
    Analyze(cmd::analyze::AnalyzeArgs),
    /// Train a model on a dataset task.
    Train(Box<cmd::train::TrainArgs>),
    /// Show the size of feature caches, or clear them.
    Cache(cmd::cache::CacheArgs),
    /// Cross-validate a recipe on patient-wise folds (per-fold and mean ± sd Scores).
    Cv(cmd::cv::CvArgs),
    /// Make one model of several runs (e.g. cross-validation folds): the mean of their probabilities.
    Ensemble(cmd::ensemble::EnsembleArgs),
    /// Evaluate a trained model on a dataset folder.
    Evaluate(cmd::evaluate::EvaluateArgs),
    /// Classify recordings with a trained model (the shipped default by default).
    Predict(cmd::predict::PredictArgs),
    /// Serve the models over HTTP: a JSON API and a web page (Ctrl-C to stop).
    Serve(cmd::serve::ServeArgs),
}

fn main() -> ExitCode {
    outcome::quiet_on_closed_stdout();
    let cli = Cli::parse();
    outcome::init_logging(cli.global.verbose);
    let result = match cli.command {
        Command::Info(args) => cmd::info::run(args),
        Command::Segment(args) => cmd::segment::run(args),
        Command::Features(args) => cmd::features::run(args),
        Command::Augment(args) => cmd::augment::run(args),
        Command::Analyze(args) => cmd::analyze::run(args),
        Command::Train(args) => cmd::train::run(*args),
        Command::Cache(args) => cmd::cache::run(args),
        Command::Cv(args) => cmd::cv::run(args),
        Command::Ensemble(args) => cmd::ensemble::run(args),
        Command::Evaluate(args) => cmd::evaluate::run(args),
        Command::Predict(args) => cmd::predict::run(args),
        Command::Serve(args) => cmd::serve::run(args),
    };
    outcome::finish(result, cli.global.strict)
}

//! `lungsound`: respiratory sound classification from the command line.
//!
//! The commands that only read audio and annotations (`info`, `segment`, `features`,
//! `augment`, `analyze`) run here, in a binary that does not link libtorch, so they start
//! in milliseconds. The commands that run a network (`train`, `evaluate`, `predict`,
//! `serve`, `cv`, `ensemble`, `cache`) are handed, with the command line as given, to `lungsound-torch`
//! beside this executable (`torch_main.rs`), which runs every command. One command for the
//! user; libtorch is loaded only when a network is.

// Shared with lungsound-torch, which also uses the network commands' limits.
#[allow(dead_code)]
mod limits;
mod outcome;
mod progress;

/// The light commands: the same modules `lungsound-torch` compiles.
mod cmd {
    pub mod analyze;
    pub mod augment;
    pub mod features;
    pub mod info;
    pub mod segment;
}

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The binary that runs the network commands, beside this one.
const TORCH_BINARY: &str = "lungsound-torch";

/// Respiratory (lung) sound classification: datasets, spectrograms, models,
/// training, evaluation and prediction.
#[derive(Debug, Parser)]
#[command(
    name = "lungsound",
    version,
    about,
    max_term_width = 100,
    disable_help_subcommand = true
)]
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
    #[command(disable_help_flag = true)]
    Train(Forwarded),
    /// Show the size of feature caches, or clear them.
    #[command(disable_help_flag = true)]
    Cache(Forwarded),
    /// Cross-validate a recipe on patient-wise folds (per-fold and mean ± sd Scores).
    #[command(disable_help_flag = true)]
    Cv(Forwarded),
    /// Make one model of several runs (e.g. cross-validation folds): the mean of their probabilities.
    #[command(disable_help_flag = true)]
    Ensemble(Forwarded),
    /// Evaluate a trained model on a dataset folder.
    #[command(disable_help_flag = true)]
    Evaluate(Forwarded),
    /// Classify recordings with a trained model (the shipped default by default).
    #[command(disable_help_flag = true)]
    Predict(Forwarded),
    /// Serve the models over HTTP: a JSON API and a web page (Ctrl-C to stop).
    #[command(disable_help_flag = true)]
    Serve(Forwarded),
    /// Print this message or the help of the given subcommand(s).
    #[command(disable_help_flag = true)]
    Help(Forwarded),
}

/// The arguments of a network command, parsed (and `--help` answered) by `lungsound-torch`.
#[derive(Debug, clap::Args)]
struct Forwarded {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<OsString>,
}

fn main() -> ExitCode {
    outcome::quiet_on_closed_stdout();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => light(cli.global.verbose, || cmd::info::run(args)),
        Command::Segment(args) => light(cli.global.verbose, || cmd::segment::run(args)),
        Command::Features(args) => light(cli.global.verbose, || cmd::features::run(args)),
        Command::Augment(args) => light(cli.global.verbose, || cmd::augment::run(args)),
        Command::Analyze(args) => light(cli.global.verbose, || cmd::analyze::run(args)),
        Command::Train(_)
        | Command::Cache(_)
        | Command::Cv(_)
        | Command::Ensemble(_)
        | Command::Evaluate(_)
        | Command::Predict(_)
        | Command::Serve(_)
        // `lungsound-torch` knows every command's arguments, the network ones included.
        | Command::Help(_) => hand_over(),
    };
    outcome::finish(result, cli.global.strict)
}

fn light(
    verbose: u8,
    run: impl FnOnce() -> anyhow::Result<outcome::Outcome>,
) -> anyhow::Result<outcome::Outcome> {
    outcome::init_logging(verbose);
    run()
}

/// Runs `lungsound-torch` with this command line; returns only if it cannot be started.
fn hand_over() -> anyhow::Result<outcome::Outcome> {
    let torch = torch_binary()?;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut command = std::process::Command::new(&torch);
    command.args(&args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Usage lines and messages then say `lungsound`, the name the user typed.
        let err = command.arg0("lungsound").exec();
        anyhow::bail!("cannot start {}: {err}", torch.display());
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", torch.display()))?;
        std::process::exit(status.code().unwrap_or(2));
    }
}

/// `lungsound-torch` beside this executable.
fn torch_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let name = format!("{TORCH_BINARY}{}", std::env::consts::EXE_SUFFIX);
    let torch = me.with_file_name(name);
    if torch.is_file() {
        Ok(torch)
    } else {
        anyhow::bail!(
            "{} is missing: the network commands live there (build both with `cargo build -p \
             lungsound`, install both with `cargo install --path crates/cli`)",
            torch.display()
        )
    }
}

//! `lungsound predict FILE... [--model DIR] [--gate RUN_DIR | --no-gate] [--events FILE] [--json]`:
//! classifies recordings (WAV/FLAC, any sample rate) with trained models.
//!
//! `--model` is a run directory or a folder of run directories; each model
//! gives its record-level label and either an event timeline (sliding
//! windows) or, with `--events`, one prediction per annotated event. The
//! default is the `models/` folder shipped with lungsound (found beside the
//! executable, above it, or in the source tree; see [`default_models`]).
//! A run that names a gate in its `gate.json` (the shipped 1-2 model) predicts in two
//! stages; `--gate` gates every model it fits instead, `--no-gate` none.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::models::{self, GateArgs, default_models, load_models, predict_with};
use super::train::runtime::{self, DeviceArg};
use crate::outcome::Outcome;

/// Arguments of `lungsound predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Recordings to classify (.wav or .flac, any sample rate).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// A run directory, or a folder of run directories [default: the shipped
    /// models/ folder, or $LUNGSOUND_MODELS].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    #[command(flatten)]
    gate: GateArgs,
    /// Event boundaries: SPRSound .json (event_annotation) or ICBHI .txt;
    /// give one per FILE, in the same order.
    #[arg(long, value_name = "FILE")]
    events: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// CPU threads for libtorch [default: all].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// cpu or cuda [default: cuda if available].
    #[arg(long)]
    device: Option<DeviceArg>,
}

/// All predictions for one file.
type FilePrediction = models::FilePrediction<PathBuf>;

/// Runs `lungsound predict`.
pub fn run(args: PredictArgs) -> anyhow::Result<Outcome> {
    runtime::set_threads(args.threads)?;
    let device = runtime::device(args.device)?;
    if !args.events.is_empty() && args.events.len() != args.files.len() {
        bail!(
            "--events was given {} time(s) for {} file(s); give one events file per FILE, in order",
            args.events.len(),
            args.files.len()
        );
    }
    let model_dir = match &args.model {
        Some(dir) => dir.clone(),
        None => default_models()?,
    };
    let models = load_models(&model_dir, &args.gate.choice(), device)?;

    let mut problems = 0;
    let mut outputs = Vec::new();
    for (i, file) in args.files.iter().enumerate() {
        let result = (|| -> anyhow::Result<FilePrediction> {
            let (audio, _) = lungsound_audio::load(file)?;
            let events = match args.events.get(i) {
                Some(path) => Some(read_events(path)?),
                None => None,
            };
            let spans: Option<Vec<(f64, f64)>> = events
                .as_ref()
                .map(|ev| ev.iter().map(|e| (e.1, e.2)).collect());
            let mut result =
                predict_with(&models, &audio, spans.as_deref()).map_err(|(model, e)| {
                    anyhow::Error::new(e).context(format!("model {}", model.dir.display()))
                })?;
            for reason in &result.skipped {
                eprintln!("warning: {}: {reason}", file.display());
            }
            if let Some(ev) = &events {
                // Report the annotation's own event indices.
                result.use_event_indices(&ev.iter().map(|e| e.0).collect::<Vec<_>>());
            }
            Ok(FilePrediction::new(file.clone(), &audio, result))
        })();
        match result {
            Ok(p) => {
                if !args.json {
                    print_table(&p);
                }
                outputs.push(p);
            }
            Err(e) => {
                let message = crate::outcome::error_chain(&e);
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                if name.is_some_and(|n| message.contains(&n)) {
                    eprintln!("error: {message}");
                } else {
                    eprintln!("error: {}: {message}", file.display());
                }
                problems += 1;
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outputs)?);
    }
    if outputs.is_empty() {
        bail!("no file could be classified");
    }
    Ok(Outcome::with_problems(problems))
}

/// `(stored index, start_s, end_s)` of the events in an annotation file.
fn read_events(path: &Path) -> anyhow::Result<Vec<(usize, f64, f64)>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (events, issues) = lungsound_datasets::annotation_event_spans(&bytes, path);
    for issue in &issues {
        eprintln!("{issue}");
    }
    if events.is_empty() {
        bail!("{}: no events found", path.display());
    }
    Ok(events)
}

fn print_table(p: &FilePrediction) {
    println!(
        "{}  ({:.2} s, {} Hz)",
        p.file.display(),
        p.duration_s,
        p.sample_rate
    );
    for m in &p.predictions {
        let r = &m.prediction;
        let probs = r
            .classes
            .iter()
            .zip(&r.probabilities)
            .map(|(c, v)| format!("{c} {v:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        let gated = m
            .gated_by
            .as_ref()
            .map_or(String::new(), |g| format!(" gated by {g}"));
        println!(
            "  {}{gated} (task {}): {}  [{probs}]",
            m.model, r.task, r.label
        );
        for e in &r.events {
            let best = e.probabilities.iter().copied().fold(0f32, f32::max);
            println!(
                "    event {:>3}  {:>7.2}–{:<7.2} s  {:<16} {best:.2}",
                e.index, e.start_s, e.end_s, e.label
            );
        }
        for s in &r.segments {
            println!(
                "    {:>7.2}–{:<7.2} s  {:<16} {:.2}",
                s.start_s, s.end_s, s.label, s.confidence
            );
        }
        for w in &r.warnings {
            println!("    warning: {w}");
        }
    }
}

//! `lungsound segment DATASET_DIR --out DIR`: one WAV per cycle/event plus
//! `manifest.csv`, for ICBHI and SPRSound alike (auto-detected).

use std::path::PathBuf;

use anyhow::Context;
use lungsound_datasets::{PadMode, SegmentConfig};

use crate::outcome::Outcome;
use crate::progress;

/// Arguments of `lungsound segment`.
#[derive(Debug, clap::Args)]
pub struct SegmentArgs {
    /// Dataset folder (ICBHI or SPRSound, detected from its files).
    dataset_dir: PathBuf,
    /// Output folder for the clips and manifest.csv.
    #[arg(long)]
    out: PathBuf,
    /// Resample clips to this rate, 1000–384000 Hz (default: each recording's own rate).
    #[arg(long, value_name = "HZ", value_parser = crate::limits::sample_rate)]
    sample_rate: Option<u32>,
    /// Fixed clip length in seconds, 0.01–600: longer events are cropped, shorter ones
    /// padded as `--pad` says (default: each event's own length).
    #[arg(long, value_name = "SECONDS", value_parser = crate::limits::clip_seconds)]
    length: Option<f64>,
    /// How to fill clips shorter than `--length`.
    #[arg(long, default_value = "zero", value_parser = ["zero", "repeat", "none"])]
    pad: String,
}

/// Runs `lungsound segment`.
pub fn run(args: SegmentArgs) -> anyhow::Result<Outcome> {
    let dataset = lungsound_datasets::load_dataset(&args.dataset_dir)
        .with_context(|| format!("cannot read dataset {}", args.dataset_dir.display()))?;
    let mut problems = progress::print_issues(&dataset.issues);
    let pad: PadMode = args.pad.parse().map_err(anyhow::Error::msg)?;
    let config = SegmentConfig {
        sample_rate: args.sample_rate,
        length_s: args.length,
        pad,
    };
    let bar = progress::bar(dataset.recordings.len() as u64, "segment");
    let report = lungsound_datasets::segment_dataset(&dataset, &config, &args.out, &|done, _| {
        bar.set_position(done as u64)
    })
    .with_context(|| format!("cannot segment into {}", args.out.display()))?;
    bar.finish_and_clear();
    problems += progress::print_issues(&report.errors);
    println!(
        "{} clips from {} {} recordings written to {} (manifest: {})",
        report.n_clips,
        report.n_recordings,
        dataset.kind.display_name(),
        report.out_dir.display(),
        report.manifest_path.display()
    );
    for (label, count) in &report.clips_per_label {
        let label = if label.is_empty() {
            "(unlabelled)"
        } else {
            label
        };
        println!("  {label:<16} {count}");
    }
    if report.skipped_no_audio > 0 {
        println!(
            "{} recording(s) have annotations but no audio file here; they were listed, not cut",
            report.skipped_no_audio
        );
    }
    progress::print_problem_summary(problems, "segmenting");
    Ok(Outcome::with_problems(problems))
}

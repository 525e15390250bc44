//! `lungsound info FILE...`: what an audio file holds — the duration `load` would decode,
//! read from the headers where they can be trusted.

use std::path::{Path, PathBuf};

use crate::outcome::Outcome;

/// Arguments of `lungsound info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// WAV or FLAC files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `lungsound info`.
pub fn run(args: InfoArgs) -> anyhow::Result<Outcome> {
    let mut problems = 0;
    // The table's first column fits the longest path, so long paths do not shift the rest.
    let width = args
        .files
        .iter()
        .map(|f| f.display().to_string().chars().count())
        .max()
        .unwrap_or(0)
        .max("file".len());
    if !args.json {
        println!(
            "{:<width$} {:>10} {:>8} {:>4} {:>10} {:>6}",
            "file", "duration_s", "rate_hz", "ch", "bits", "codec"
        );
    }
    for file in &args.files {
        match crate::progress::isolate(file, || lungsound_audio::probe(file)) {
            Ok(Ok(info)) => print_info(file, &info, args.json, width),
            Ok(Err(err)) => {
                problems += 1;
                eprintln!("error: {err}");
            }
            Err(panic) => {
                problems += 1;
                eprintln!("error: {panic}");
            }
        }
    }
    crate::progress::print_problem_summary(problems, "reading audio headers");
    Ok(Outcome::with_problems(problems))
}

fn print_info(file: &Path, info: &lungsound_audio::AudioInfo, json: bool, width: usize) {
    if json {
        let line = serde_json::json!({
            "file": file,
            "duration_s": info.duration_s(),
            "sample_rate": info.sample_rate,
            "channels": info.channels,
            "bits_per_sample": info.bits_per_sample,
            "sample_format": info.sample_format.to_string(),
            "n_frames": info.n_frames,
            "codec": info.codec.to_string(),
            "notes": info.notes,
        });
        println!("{line}");
        return;
    }
    let bits = match info.bits_per_sample {
        Some(bits) => format!("{bits} {}", info.sample_format),
        None => "-".to_owned(),
    };
    println!(
        "{:<width$} {:>10.3} {:>8} {:>4} {:>10} {:>6}",
        file.display(),
        info.duration_s(),
        info.sample_rate,
        info.channels,
        bits,
        info.codec
    );
}

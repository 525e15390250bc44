//! `lungsound info FILE...`: what an audio file holds, read from its header.

use std::path::PathBuf;

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
    if !args.json {
        println!(
            "{:<48} {:>10} {:>8} {:>4} {:>9} {:>6}",
            "file", "duration_s", "rate_hz", "ch", "bits", "codec"
        );
    }
    for file in &args.files {
        match lungsound_audio::probe(file) {
            Ok(info) => {
                let bits = match info.bits_per_sample {
                    Some(bits) => format!("{bits} {:?}", info.sample_format).to_lowercase(),
                    None => "-".to_owned(),
                };
                if args.json {
                    let line = serde_json::json!({
                        "file": file,
                        "duration_s": info.duration_s(),
                        "sample_rate": info.sample_rate,
                        "channels": info.channels,
                        "bits_per_sample": info.bits_per_sample,
                        "sample_format": format!("{:?}", info.sample_format).to_lowercase(),
                        "n_frames": info.n_frames,
                        "codec": format!("{:?}", info.codec).to_lowercase(),
                    });
                    println!("{line}");
                } else {
                    println!(
                        "{:<48} {:>10.3} {:>8} {:>4} {:>9} {:>6}",
                        file.display(),
                        info.duration_s(),
                        info.sample_rate,
                        info.channels,
                        bits,
                        format!("{:?}", info.codec).to_lowercase()
                    );
                }
            }
            Err(err) => {
                problems += 1;
                eprintln!("error: {err}");
            }
        }
    }
    crate::progress::print_problem_summary(problems, "reading audio headers");
    Ok(Outcome::with_problems(problems))
}

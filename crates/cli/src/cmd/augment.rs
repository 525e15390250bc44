//! `lungsound augment SEGMENTS --out DIR`: offline wave-level augmentation of
//! the **training split** of a folder written by `lungsound segment`.
//!
//! The flags become an [`AugmentConfig`] and the work is one call to
//! [`augment::augment_folder`] (what it writes, and how each copy is seeded,
//! is documented there); this command prints its report.

use std::path::PathBuf;

use anyhow::{Context, bail};
use lungsound_features::augment::{
    self, AugmentConfig, AugmentFolderOptions, Augmentation, Gain, Noise, NoiseColor, PitchShift,
    ShiftMode, Step, TimeShift, TimeStretch,
};

use crate::outcome::Outcome;
use crate::progress;

/// Arguments of `lungsound augment`.
#[derive(Debug, clap::Args)]
pub struct AugmentArgs {
    /// Folder written by `lungsound segment`, or its manifest.csv.
    input: PathBuf,
    /// Output folder (must differ from the input folder): original and
    /// augmented clips, manifest.csv, augment_config.json.
    #[arg(long)]
    out: PathBuf,
    /// Augmented copies written per training clip, 0–100.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = crate::limits::copies)]
    copies: usize,
    /// Augment only clips with these labels (comma-separated, as in the
    /// manifest's `label` column, case-insensitive), e.g. "Wheeze,Fine Crackle"
    /// [default: every class].
    #[arg(long, value_name = "LABELS")]
    classes: Option<String>,
    /// Pitch shift in semitones, drawn from ±SEMITONES (or MIN:MAX).
    #[arg(long, value_name = "SEMITONES", allow_hyphen_values = true)]
    pitch_shift: Option<String>,
    /// Time shift in seconds, drawn from ±SECONDS (or MIN:MAX).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    time_shift: Option<String>,
    /// What a time shift does with the samples pushed out: roll them around
    /// to the other end, or drop them and fill with zeros.
    #[arg(long, default_value = "roll", value_name = "roll|zero")]
    time_shift_mode: ShiftMode,
    /// Gain in dB, drawn from ±DB (or MIN:MAX).
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    gain_db: Option<String>,
    /// Time-stretch rate range (> 1 faster and shorter), e.g. 0.8:1.25; a
    /// single value is a fixed rate. Changes the clip's duration.
    #[arg(long, value_name = "MIN:MAX")]
    time_stretch: Option<String>,
    /// Additive Gaussian noise at an SNR (dB, against the clip's power) drawn
    /// from MIN:MAX, e.g. 10:30; a single value is a fixed SNR.
    #[arg(long, value_name = "MIN:MAX", allow_hyphen_values = true)]
    noise_snr_db: Option<String>,
    /// Noise spectrum.
    #[arg(long, default_value = "white", value_name = "white|pink")]
    noise_color: NoiseColor,
    /// Probability of applying each transform to a copy.
    #[arg(long, default_value_t = 1.0, value_name = "P")]
    probability: f64,
    /// Seed of every random choice (recorded in augment_config.json).
    #[arg(long, default_value_t = 2022, value_name = "N")]
    seed: u64,
}

/// Runs `lungsound augment`.
pub fn run(args: AugmentArgs) -> anyhow::Result<Outcome> {
    let options = AugmentFolderOptions {
        config: build_config(&args)?,
        out_dir: args.out.clone(),
        seed: args.seed,
        command: std::env::args().collect(),
    };
    let bar = progress::bar(0, "augment");
    let result = augment::augment_folder(&args.input, &options, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let report = match result {
        Err(lungsound_features::Error::OutputIsInput { dir }) => bail!(
            "--out must differ from the input folder {} (its manifest.csv would be overwritten)",
            dir.display()
        ),
        other => other?,
    };
    let mut problems = progress::print_issues(&report.skipped_rows);
    for class in &report.classes_not_found {
        eprintln!("warning: no training clip is labelled {class:?} (--classes)");
    }
    for error in &report.clip_errors {
        eprintln!("error: {error}");
    }
    problems += report.clip_errors.len();

    let config = &options.config;
    println!(
        "{} augmented clips from {} of {} training clips ({} cop{} each{}) -> {}",
        report.n_augmented,
        report.n_sources,
        report.n_train,
        config.copies_per_clip,
        if config.copies_per_clip == 1 {
            "y"
        } else {
            "ies"
        },
        match &config.classes {
            Some(c) => format!(", classes {}", c.join(", ")),
            None => String::new(),
        },
        args.out.display()
    );
    println!(
        "only the training split is augmented: {} val/test/unsplit clip(s) were copied unchanged",
        report.n_rows - report.n_train
    );
    println!(
        "manifest: {} ({} rows), recipe and seed: {}",
        report.out_manifest.display(),
        report.n_out_rows,
        report.config_path.display()
    );
    progress::print_problem_summary(problems, "augmenting");
    Ok(Outcome::with_problems(problems))
}

/// The recipe from the flags, in a fixed order: time stretch, pitch shift,
/// time shift, gain, noise (last, so its SNR refers to the final signal).
fn build_config(args: &AugmentArgs) -> anyhow::Result<AugmentConfig> {
    let mut transforms = Vec::new();
    if let Some(v) = &args.time_stretch {
        let rate = parse_range(v, "--time-stretch", false)?;
        transforms.push(Augmentation::TimeStretch(TimeStretch {
            rate,
            ..TimeStretch::default()
        }));
    }
    if let Some(v) = &args.pitch_shift {
        let semitones = parse_range(v, "--pitch-shift", true)?;
        transforms.push(Augmentation::PitchShift(PitchShift {
            semitones,
            ..PitchShift::default()
        }));
    }
    if let Some(v) = &args.time_shift {
        let shift_s = parse_range(v, "--time-shift", true)?;
        transforms.push(Augmentation::TimeShift(TimeShift {
            shift_s,
            mode: args.time_shift_mode,
        }));
    }
    if let Some(v) = &args.gain_db {
        transforms.push(Augmentation::Gain(Gain {
            gain_db: parse_range(v, "--gain-db", true)?,
        }));
    }
    if let Some(v) = &args.noise_snr_db {
        let snr_db = parse_range(v, "--noise-snr-db", false)?;
        transforms.push(Augmentation::Noise(Noise {
            snr_db,
            color: args.noise_color,
        }));
    }
    if transforms.is_empty() {
        bail!(
            "nothing to do: give at least one of --pitch-shift, --time-shift, --gain-db, \
             --time-stretch, --noise-snr-db"
        );
    }
    let classes = args.classes.as_ref().map(|list| {
        list.split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
    });
    let config = AugmentConfig {
        transforms: transforms
            .into_iter()
            .map(|t| Step::new(t).with_probability(args.probability))
            .collect(),
        copies_per_clip: args.copies,
        classes,
    };
    config.validate()?;
    Ok(config)
}

/// `MIN:MAX`, or a single value: `±|value|` when `symmetric`, else `[value, value]`.
fn parse_range(text: &str, flag: &str, symmetric: bool) -> anyhow::Result<[f64; 2]> {
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .with_context(|| format!("{flag} expects a number or MIN:MAX, got {text:?}"))
    };
    match text.split_once(':') {
        Some((lo, hi)) => Ok([number(lo)?, number(hi)?]),
        None if symmetric => {
            let v = number(text)?.abs();
            Ok([-v, v])
        }
        None => {
            let v = number(text)?;
            Ok([v, v])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("2", "--x", true).ok(), Some([-2.0, 2.0]));
        assert_eq!(parse_range("-2", "--x", true).ok(), Some([-2.0, 2.0]));
        assert_eq!(parse_range("-1:3", "--x", true).ok(), Some([-1.0, 3.0]));
        assert_eq!(
            parse_range("0.8:1.25", "--x", false).ok(),
            Some([0.8, 1.25])
        );
        assert_eq!(parse_range("20", "--x", false).ok(), Some([20.0, 20.0]));
        assert!(parse_range("abc", "--x", false).is_err());
    }
}

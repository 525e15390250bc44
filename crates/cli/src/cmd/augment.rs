//! `lungsound augment SEGMENTS --out DIR`: offline wave-level augmentation of
//! the **training split** of a folder written by `lungsound segment`.
//!
//! Reads `manifest.csv` (`clip,recording,patient,start_s,end_s,label,split,...`),
//! and for every row whose `split` is `train` (and whose `label` is one of
//! `--classes`, if given) writes `--copies` augmented WAVs
//! `{clip stem}_aug{NN}.wav`. Validation and test rows are never augmented.
//! The output folder is self-contained: the original clips are hard-linked
//! into it (copied where linking is impossible), and its `manifest.csv`
//! holds every original row followed by its augmented rows, with two extra
//! columns: `augmentation` (what was applied, e.g.
//! `pitch_shift(+1.25 st); noise(white at 14.8 dB SNR)`) and `source_clip`
//! (the original clip; both empty on original rows). A copy on which every
//! transform's `--probability` coin failed is an exact duplicate, described
//! as `none`. `augment_config.json` records the recipe, the seed and how each
//! copy's RNG is seeded.
//!
//! Each copy's RNG is `ChaCha8Rng::seed_from_u64(derive_seed(seed, clip, copy))`
//! (`lungsound_features::augment::derive_seed`), so a clip's copies do not
//! depend on the other rows or on thread scheduling.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use lungsound_features::augment::{
    self, AugmentConfig, Augmentation, Gain, Noise, NoiseColor, PitchShift, ShiftMode, Step,
    TimeShift, TimeStretch,
};
use rayon::prelude::*;

use crate::outcome::Outcome;
use crate::progress;

/// Manifest file name, input and output (as `lungsound segment` writes it).
const MANIFEST: &str = "manifest.csv";
/// Recipe and seed written beside the output manifest.
const CONFIG_FILE: &str = "augment_config.json";
/// The only split that is augmented.
const TRAIN: &str = "train";

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
    let config = build_config(&args)?;
    let manifest_path = if args.input.is_dir() {
        args.input.join(MANIFEST)
    } else {
        args.input.clone()
    };
    let base = manifest_path
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let manifest = Manifest::read(&manifest_path)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    if same_dir(&base, &args.out) {
        bail!(
            "--out must differ from the input folder {} (its manifest.csv would be overwritten)",
            base.display()
        );
    }
    let mut problems = manifest.bad_lines.len();
    for message in &manifest.bad_lines {
        eprintln!("error: {message}");
    }

    let (clip, label, split) = (
        manifest.column("clip")?,
        manifest.column("label")?,
        manifest.column("split")?,
    );
    let is_train = |row: &[String]| row[split].trim().eq_ignore_ascii_case(TRAIN);
    let chosen = |row: &[String]| is_train(row) && config.applies_to(&row[label]);
    let n_train = manifest.rows.iter().filter(|r| is_train(r)).count();
    let n_chosen = manifest.rows.iter().filter(|r| chosen(r)).count();
    if let Some(classes) = &config.classes {
        for class in classes {
            let found = manifest
                .rows
                .iter()
                .any(|r| is_train(r) && r[label].trim().eq_ignore_ascii_case(class.trim()));
            if !found {
                eprintln!("warning: no training clip is labelled {class:?} (--classes)");
            }
        }
    }

    let bar = progress::bar(manifest.rows.len() as u64, "augment");
    let written = AtomicUsize::new(0);
    let results: Vec<RowResult> = manifest
        .rows
        .par_iter()
        .map(|row| {
            let result = process_row(row, clip, chosen(row), &config, &args, &base);
            written.fetch_add(result.augmented.len(), Ordering::Relaxed);
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();

    let mut out_rows = Vec::new();
    for (row, result) in manifest.rows.iter().zip(&results) {
        for error in &result.errors {
            eprintln!("error: {error}");
        }
        problems += result.errors.len();
        if result.original_ok {
            out_rows.push(extended(row, "", ""));
        }
        for (name, description) in &result.augmented {
            let mut aug = extended(row, description, &row[clip]);
            aug[clip].clone_from(name);
            out_rows.push(aug);
        }
    }
    let mut header = manifest.header.clone();
    header.extend(["augmentation".to_owned(), "source_clip".to_owned()]);
    let out_manifest = args.out.join(MANIFEST);
    write_csv(&out_manifest, &header, &out_rows)?;

    let n_written = written.load(Ordering::Relaxed);
    let n_sources = results.iter().filter(|r| !r.augmented.is_empty()).count();
    let record = serde_json::json!({
        "lungsound_version": env!("CARGO_PKG_VERSION"),
        "command": std::env::args().collect::<Vec<_>>(),
        "input_manifest": manifest_path,
        "out_dir": args.out,
        "seed": args.seed,
        "rng": "per augmented copy: ChaCha8Rng::seed_from_u64(lungsound_features::augment::derive_seed(seed, clip, copy)), \
                clip = the manifest's clip value, copy = 1..=copies_per_clip; \
                then AugmentConfig::apply_recorded (per step: probability coin, then parameters)",
        "splits_augmented": [TRAIN],
        "config": config,
        "counts": {
            "rows": manifest.rows.len(),
            "train_rows": n_train,
            "train_rows_selected": n_chosen,
            "augmented_sources": n_sources,
            "augmented_clips": n_written,
            "problems": problems,
        },
    });
    let config_path = args.out.join(CONFIG_FILE);
    std::fs::write(&config_path, serde_json::to_string_pretty(&record)? + "\n")
        .with_context(|| format!("cannot write {}", config_path.display()))?;

    println!(
        "{n_written} augmented clips from {n_sources} of {n_train} training clips ({} cop{} each{}) -> {}",
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
    let n_other = manifest.rows.len() - n_train;
    println!(
        "only the training split is augmented: {n_other} val/test/unsplit clip(s) were copied unchanged"
    );
    println!(
        "manifest: {} ({} rows), recipe and seed: {}",
        out_manifest.display(),
        out_rows.len(),
        config_path.display()
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

/// What happened to one manifest row.
struct RowResult {
    /// The original clip is in the output folder.
    original_ok: bool,
    /// `(clip name relative to the output folder, augmentation description)`.
    augmented: Vec<(String, String)>,
    /// Problems, each naming the file.
    errors: Vec<String>,
}

/// Places the original clip in `args.out` and, if `augment`, writes its copies.
fn process_row(
    row: &[String],
    clip: usize,
    augment: bool,
    config: &AugmentConfig,
    args: &AugmentArgs,
    base: &Path,
) -> RowResult {
    let name = row[clip].as_str();
    let source = base.join(name);
    // Keep the clip's relative path inside the output folder; anything that
    // could escape it (absolute, `..`) is flattened to its file name.
    let relative = {
        let p = Path::new(name);
        if p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            PathBuf::from(p.file_name().unwrap_or_default())
        } else {
            p.to_path_buf()
        }
    };
    let mut result = RowResult {
        original_ok: false,
        augmented: Vec::new(),
        errors: Vec::new(),
    };
    if !source.is_file() {
        let what = if augment { "; not augmented" } else { "" };
        let error = format!(
            "{}: clip listed in the manifest is missing{what}",
            source.display()
        );
        result.errors.push(error);
        return result;
    }
    match place_original(&source, &args.out.join(&relative)) {
        Ok(()) => result.original_ok = true,
        Err(err) => result.errors.push(format!("{err:#}")),
    }
    if !augment {
        return result;
    }
    let audio = match lungsound_audio::load(&source) {
        Ok((audio, _)) => audio,
        Err(err) => {
            result.errors.push(format!("{err:#} (not augmented)"));
            return result;
        }
    };
    let stem = relative
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    for copy in 1..=config.copies_per_clip {
        let aug_relative = relative.with_file_name(format!("{stem}_aug{copy:02}.wav"));
        let seed = augment::derive_seed(args.seed, name, copy as u64);
        let (samples, applied) = config.apply_seeded(&audio.samples, audio.sample_rate, seed);
        let target = args.out.join(&aug_relative);
        match lungsound_audio::write_wav(&target, &samples, audio.sample_rate) {
            Ok(()) => result.augmented.push((
                aug_relative.to_string_lossy().into_owned(),
                augment::describe(&applied),
            )),
            Err(err) => result.errors.push(format!("{err:#}")),
        }
    }
    result
}

/// Hard-links `source` to `target` (replacing an older file there), copying
/// when linking is impossible (another file system).
fn place_original(source: &Path, target: &Path) -> anyhow::Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    if target.exists() {
        std::fs::remove_file(target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    if std::fs::hard_link(source, target).is_err() {
        std::fs::copy(source, target)
            .with_context(|| format!("cannot copy {} to {}", source.display(), target.display()))?;
    }
    Ok(())
}

/// `row` plus the two augmentation columns.
fn extended(row: &[String], augmentation: &str, source_clip: &str) -> Vec<String> {
    let mut out = row.to_vec();
    out.extend([augmentation.to_owned(), source_clip.to_owned()]);
    out
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A parsed `manifest.csv`: header, rows of the header's width, and the
/// lines that were not (reported, skipped).
struct Manifest {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    bad_lines: Vec<String>,
}

impl Manifest {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read {} (give a folder written by `lungsound segment` or its manifest.csv)",
                path.display()
            )
        })?;
        let records =
            parse_csv(&text).with_context(|| format!("cannot parse {}", path.display()))?;
        let mut records = records.into_iter();
        let Some((_, header)) = records.next() else {
            bail!("{} is empty", path.display());
        };
        for extra in ["augmentation", "source_clip"] {
            if header.iter().any(|h| h == extra) {
                bail!(
                    "{} already has an `{extra}` column: augment the original `lungsound segment` folder instead",
                    path.display()
                );
            }
        }
        let mut manifest = Manifest {
            path: path.to_path_buf(),
            header,
            rows: Vec::new(),
            bad_lines: Vec::new(),
        };
        for (line, row) in records {
            if row.len() == manifest.header.len() {
                manifest.rows.push(row);
            } else {
                manifest.bad_lines.push(format!(
                    "{}:{line}: expected {} fields, got {}; row skipped",
                    path.display(),
                    manifest.header.len(),
                    row.len()
                ));
            }
        }
        Ok(manifest)
    }

    fn column(&self, name: &str) -> anyhow::Result<usize> {
        self.header.iter().position(|h| h.trim() == name).with_context(|| {
            format!(
                "{} has no `{name}` column (columns: {}); is it a `lungsound segment` manifest?",
                self.path.display(),
                self.header.join(",")
            )
        })
    }
}

/// RFC 4180 CSV: records with the line each starts on; quoted fields may
/// hold commas, quotes (doubled) and newlines; blank lines are skipped.
fn parse_csv(text: &str) -> anyhow::Result<Vec<(usize, Vec<String>)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut records, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut line, mut start_line, mut in_quotes, mut quoted) = (1, 1, false, false);
    let mut chars = text.chars().peekable();
    let mut end_record = |row: &mut Vec<String>, field: &mut String, quoted: bool, start: usize| {
        if row.is_empty() && field.is_empty() && !quoted {
            return; // blank line
        }
        row.push(std::mem::take(field));
        records.push((start, std::mem::take(row)));
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => in_quotes = false,
                _ => {
                    line += usize::from(c == '\n');
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => (in_quotes, quoted) = (true, true),
            ',' => {
                row.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_record(&mut row, &mut field, quoted, start_line);
                quoted = false;
                line += 1;
                start_line = line;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        bail!("line {start_line}: quoted field is not closed");
    }
    end_record(&mut row, &mut field, quoted, start_line);
    Ok(records)
}

/// Writes a CSV file, quoting fields that need it.
fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let quote = |f: &String| {
        if f.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f.clone()
        }
    };
    let mut text = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        text.push_str(&row.iter().map(quote).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_with_quotes() {
        let text = "clip,label\r\na.wav,\"Wheeze+Crackle\"\n\n\"b,c.wav\",\"say \"\"hi\"\"\nthere\"\nlast,x";
        let records = parse_csv(text).unwrap_or_default();
        let rows: Vec<Vec<&str>> = records
            .iter()
            .map(|(_, r)| r.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            rows,
            vec![
                vec!["clip", "label"],
                vec!["a.wav", "Wheeze+Crackle"],
                vec!["b,c.wav", "say \"hi\"\nthere"],
                vec!["last", "x"],
            ]
        );
        let lines: Vec<usize> = records.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![1, 2, 4, 6]);
        assert!(parse_csv("a,\"b\n").is_err());
    }

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

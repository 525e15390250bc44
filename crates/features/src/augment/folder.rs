//! Offline augmentation of a segmented folder: [`augment_folder`].
//!
//! Reads the folder's `manifest.csv` (as `lungsound segment` writes it, see
//! [`lungsound_datasets::read_manifest`]) and, for every row whose `split`
//! is `train` (and whose `label` is one of the config's `classes`, if
//! given), writes `copies_per_clip` augmented WAVs `{clip stem}_aug{NN}.wav`.
//! Validation and test rows are never augmented. The output folder is
//! self-contained: the original clips are hard-linked into it (copied where
//! linking is impossible), and its `manifest.csv` holds every original row
//! followed by its augmented rows, with the two
//! [`AUGMENT_COLUMNS`](lungsound_datasets::AUGMENT_COLUMNS): `augmentation`
//! (what was applied, e.g. `pitch_shift(+1.25 st); noise(white at 14.8 dB
//! SNR)`) and `source_clip` (the original clip; both empty on original
//! rows). A copy on which every transform's probability coin failed is an
//! exact duplicate, described as `none`. `augment_config.json` records the
//! recipe, the seed and how each copy's RNG is seeded.
//!
//! Each copy's RNG is `ChaCha8Rng::seed_from_u64(derive_seed(seed, clip,
//! copy))` ([`derive_seed`]), so a clip's copies do not depend on the other
//! rows or on thread scheduling.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use lungsound_datasets::{
    AUGMENT_COLUMNS, Issue, MANIFEST_FILE, ManifestRow, ManifestWriter, parse_manifest,
};
use rayon::prelude::*;

use super::{AugmentConfig, derive_seed, describe};
use crate::error::Error;

/// File written beside the output manifest: recipe, seed and counts.
pub const AUGMENT_CONFIG_FILE: &str = "augment_config.json";
/// The only split that is augmented.
const TRAIN: &str = "train";

/// What [`augment_folder`] should do.
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentFolderOptions {
    /// The recipe: steps, copies per training clip, classes to augment.
    /// Validated before anything is read.
    pub config: AugmentConfig,
    /// Output folder (created if needed); must differ from the input folder.
    pub out_dir: PathBuf,
    /// Seed of every random choice (see [`derive_seed`]).
    pub seed: u64,
    /// The command line recorded in `augment_config.json` (empty when the
    /// call does not come from one).
    pub command: Vec<String>,
}

/// What [`augment_folder`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AugmentReport {
    /// The manifest that was read.
    pub input_manifest: PathBuf,
    /// The output folder.
    pub out_dir: PathBuf,
    /// The manifest written into it.
    pub out_manifest: PathBuf,
    /// The recipe record written beside it ([`AUGMENT_CONFIG_FILE`]).
    pub config_path: PathBuf,
    /// Usable rows of the input manifest.
    pub n_rows: usize,
    /// Of those, rows of the training split.
    pub n_train: usize,
    /// Of those, rows whose label the config selects.
    pub n_selected: usize,
    /// Clips of which at least one augmented copy was written.
    pub n_sources: usize,
    /// Augmented clips written.
    pub n_augmented: usize,
    /// Rows of the output manifest.
    pub n_out_rows: usize,
    /// Classes of the config that no training row is labelled with.
    pub classes_not_found: Vec<String>,
    /// Rows of the input manifest that were skipped (an error issue each,
    /// naming the line).
    pub skipped_rows: Vec<Issue>,
    /// Problems with single clips, in manifest order, each naming the file
    /// and saying what became of the clip (missing, not augmented, not
    /// copied).
    pub clip_errors: Vec<String>,
}

impl AugmentReport {
    /// Skipped rows plus clip problems.
    pub fn n_problems(&self) -> usize {
        self.skipped_rows.len() + self.clip_errors.len()
    }
}

/// Augments the training split of the segmented folder `input` (or of the
/// manifest file `input`) into `options.out_dir`; see the module
/// documentation for what is written.
///
/// `progress(done, total)` is called with `(0, total)` once the manifest is
/// read, then once per row from the worker threads. Problems with single
/// rows or clips are collected in the report and the batch goes on; an
/// invalid config, an unreadable or unusable manifest (empty, a column
/// missing, already augmented), an output folder that is the input folder,
/// or an output that cannot be written are errors.
pub fn augment_folder(
    input: &Path,
    options: &AugmentFolderOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<AugmentReport, Error> {
    let config = &options.config;
    config.validate()?;
    let out_dir = &options.out_dir;
    let manifest_path = if input.is_dir() {
        input.join(MANIFEST_FILE)
    } else {
        input.to_path_buf()
    };
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    let text = fs::read_to_string(&manifest_path).map_err(|source| Error::ManifestRead {
        path: manifest_path.clone(),
        source,
    })?;
    let manifest = parse_manifest(&text, &manifest_path)?;
    if manifest.layout.augmented {
        let column = AUGMENT_COLUMNS
            .into_iter()
            .find(|c| manifest.header.iter().any(|h| h.trim() == *c))
            .unwrap_or(AUGMENT_COLUMNS[0]);
        return Err(Error::AlreadyAugmented {
            path: manifest_path,
            column,
        });
    }
    fs::create_dir_all(out_dir).map_err(|source| Error::Io {
        action: "create",
        path: out_dir.clone(),
        source,
    })?;
    if same_dir(base, out_dir) {
        return Err(Error::OutputIsInput {
            dir: base.to_path_buf(),
        });
    }

    let is_train = |row: &ManifestRow| row.split.trim().eq_ignore_ascii_case(TRAIN);
    let chosen = |row: &ManifestRow| is_train(row) && config.applies_to(&row.label);
    let mut report = AugmentReport {
        input_manifest: manifest_path.clone(),
        out_dir: out_dir.clone(),
        out_manifest: out_dir.join(MANIFEST_FILE),
        config_path: out_dir.join(AUGMENT_CONFIG_FILE),
        n_rows: manifest.rows.len(),
        n_train: manifest.rows.iter().filter(|r| is_train(r)).count(),
        n_selected: manifest.rows.iter().filter(|r| chosen(r)).count(),
        skipped_rows: manifest.issues.clone(),
        ..AugmentReport::default()
    };
    for class in config.classes.iter().flatten() {
        let found = manifest
            .rows
            .iter()
            .any(|r| is_train(r) && r.label.trim().eq_ignore_ascii_case(class.trim()));
        if !found {
            report.classes_not_found.push(class.clone());
        }
    }

    let total = manifest.rows.len();
    progress(0, total);
    let done = AtomicUsize::new(0);
    let results: Vec<RowResult> = manifest
        .rows
        .par_iter()
        .map(|row| {
            let result = process_row(row, chosen(row), options, base);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            result
        })
        .collect();

    let mut out_rows = Vec::new();
    for (row, result) in manifest.rows.iter().zip(results) {
        report.n_augmented += result.augmented.len();
        report.n_sources += usize::from(!result.augmented.is_empty());
        report.clip_errors.extend(result.errors);
        if result.original_ok {
            out_rows.push(row.clone());
        }
        for (name, description) in result.augmented {
            out_rows.push(ManifestRow {
                clip: name,
                augmentation: description,
                source_clip: row.clip.clone(),
                ..row.clone()
            });
        }
    }
    report.n_out_rows = out_rows.len();
    let mut layout = manifest.layout.clone();
    layout.augmented = true;
    let mut writer = ManifestWriter::from_writer(Vec::new(), &report.out_manifest, layout)?;
    for row in &out_rows {
        writer.write_row(row)?;
    }
    write_file(&report.out_manifest, &writer.finish()?)?;
    write_record(&report, options)?;
    Ok(report)
}

/// Writes `augment_config.json`: recipe, seed, RNG scheme and counts.
fn write_record(report: &AugmentReport, options: &AugmentFolderOptions) -> Result<(), Error> {
    let record = serde_json::json!({
        "lungsound_version": env!("CARGO_PKG_VERSION"),
        "command": options.command,
        "input_manifest": report.input_manifest,
        "out_dir": options.out_dir,
        "seed": options.seed,
        "rng": "per augmented copy: ChaCha8Rng::seed_from_u64(lungsound_features::augment::derive_seed(seed, clip, copy)), \
                clip = the manifest's clip value, copy = 1..=copies_per_clip; \
                then AugmentConfig::apply_recorded (per step: probability coin, then parameters)",
        "splits_augmented": [TRAIN],
        "config": options.config,
        "counts": {
            "rows": report.n_rows,
            "train_rows": report.n_train,
            "train_rows_selected": report.n_selected,
            "augmented_sources": report.n_sources,
            "augmented_clips": report.n_augmented,
            "problems": report.n_problems(),
        },
    });
    let path = &report.config_path;
    let text = serde_json::to_string_pretty(&record).map_err(|e| Error::Io {
        action: "write",
        path: path.clone(),
        source: e.into(),
    })?;
    write_file(path, (text + "\n").as_bytes())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fs::write(path, bytes).map_err(|source| Error::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
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

/// Places the original clip in the output folder and, if `augment`, writes
/// its copies.
fn process_row(
    row: &ManifestRow,
    augment: bool,
    options: &AugmentFolderOptions,
    base: &Path,
) -> RowResult {
    let name = row.clip.as_str();
    let source = base.join(name);
    // Keep the clip's relative path inside the output folder; anything that
    // could escape it (absolute, `..`) is flattened to its file name.
    let relative = {
        let p = Path::new(name);
        if p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
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
    match place_original(&source, &options.out_dir.join(&relative)) {
        Ok(()) => result.original_ok = true,
        Err(err) => result.errors.push(err),
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
    let config = &options.config;
    let stem = relative
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    for copy in 1..=config.copies_per_clip {
        let aug_relative = relative.with_file_name(format!("{stem}_aug{copy:02}.wav"));
        let seed = derive_seed(options.seed, name, copy as u64);
        let (samples, applied) = config.apply_seeded(&audio.samples, audio.sample_rate, seed);
        let target = options.out_dir.join(&aug_relative);
        match lungsound_audio::write_wav(&target, &samples, audio.sample_rate) {
            Ok(()) => result.augmented.push((
                aug_relative.to_string_lossy().into_owned(),
                describe(&applied),
            )),
            Err(err) => result.errors.push(format!("{err:#}")),
        }
    }
    result
}

/// Hard-links `source` to `target` (replacing an older file there), copying
/// when linking is impossible (another file system). The error names the
/// file.
fn place_original(source: &Path, target: &Path) -> Result<(), String> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    if target.exists() {
        fs::remove_file(target).map_err(|e| format!("cannot replace {}: {e}", target.display()))?;
    }
    if fs::hard_link(source, target).is_err() {
        fs::copy(source, target).map_err(|e| {
            format!(
                "cannot copy {} to {}: {e}",
                source.display(),
                target.display()
            )
        })?;
    }
    Ok(())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use lungsound_datasets::{ManifestLayout, read_manifest, write_manifest};

    use super::*;
    use crate::augment::{Augmentation, Gain, Step};

    const SR: u32 = 4000;

    fn row(clip: &str, label: &str, split: &str) -> ManifestRow {
        ManifestRow {
            clip: clip.into(),
            recording: "r".into(),
            patient: "p".into(),
            start_s: 0.5,
            end_s: 1.0,
            label: label.into(),
            split: split.into(),
            ..ManifestRow::default()
        }
    }

    /// A segmented folder: two training clips (one in a subfolder, with a
    /// comma in its name), a test clip, and a training row whose clip is
    /// missing.
    fn segmented(dir: &Path) -> Vec<ManifestRow> {
        let tone: Vec<f32> = (0..SR / 2).map(|i| (i as f32 * 0.2).sin() * 0.3).collect();
        fs::create_dir_all(dir.join("sub")).unwrap();
        let rows = vec![
            row("a_000.wav", "Wheeze", "train"),
            row("b_000.wav", "Normal", "test"),
            row("sub/c,1.wav", "Normal", " Train "),
            row("gone.wav", "Normal", "train"),
        ];
        for r in &rows[..3] {
            lungsound_audio::write_wav(&dir.join(&r.clip), &tone, SR).unwrap();
        }
        write_manifest(&dir.join(MANIFEST_FILE), &ManifestLayout::default(), &rows).unwrap();
        rows
    }

    fn options(out_dir: PathBuf, classes: Option<Vec<String>>) -> AugmentFolderOptions {
        AugmentFolderOptions {
            config: AugmentConfig {
                transforms: vec![Step::new(Augmentation::Gain(Gain {
                    gain_db: [-6.0, 6.0],
                }))],
                copies_per_clip: 2,
                classes,
            },
            out_dir,
            seed: 7,
            command: vec!["test".into()],
        }
    }

    #[test]
    fn augments_the_training_split_only_and_writes_a_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("cycles");
        let rows = segmented(&input);
        let opts = options(tmp.path().join("aug"), None);
        let calls = AtomicUsize::new(0);
        let report = augment_folder(&input, &opts, &|_, total| {
            assert_eq!(total, 4);
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(calls.into_inner(), 5);
        assert_eq!(
            (report.n_rows, report.n_train, report.n_selected),
            (4, 3, 3)
        );
        assert_eq!((report.n_sources, report.n_augmented), (2, 4));
        assert_eq!(report.clip_errors.len(), 1);
        assert!(
            report.clip_errors[0]
                .ends_with("gone.wav: clip listed in the manifest is missing; not augmented"),
            "{:?}",
            report.clip_errors
        );

        let out = read_manifest(&report.out_manifest).unwrap();
        assert!(out.layout.augmented);
        let clips: Vec<&str> = out.rows.iter().map(|r| r.clip.as_str()).collect();
        assert_eq!(
            clips,
            [
                "a_000.wav",
                "a_000_aug01.wav",
                "a_000_aug02.wav",
                "b_000.wav",
                "sub/c,1.wav",
                "sub/c,1_aug01.wav",
                "sub/c,1_aug02.wav",
            ]
        );
        assert_eq!(report.n_out_rows, 7);
        assert_eq!(out.rows[0], rows[0]);
        assert_eq!(out.rows[1].source_clip, "a_000.wav");
        assert!(out.rows[1].augmentation.starts_with("gain("));
        assert_eq!(out.rows[1].label, "Wheeze");
        for clip in &clips {
            assert!(opts.out_dir.join(clip).is_file(), "{clip}");
        }
        let original = fs::read(input.join("b_000.wav")).unwrap();
        assert_eq!(fs::read(opts.out_dir.join("b_000.wav")).unwrap(), original);

        let record: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&report.config_path).unwrap()).unwrap();
        assert_eq!(record["seed"], 7);
        assert_eq!(record["counts"]["augmented_clips"], 4);
        assert_eq!(record["counts"]["problems"], 1);

        // Same seed, same copies: byte for byte.
        let again =
            augment_folder(&input, &options(tmp.path().join("again"), None), &|_, _| {}).unwrap();
        for clip in ["a_000_aug01.wav", "sub/c,1_aug02.wav"] {
            let first = fs::read(opts.out_dir.join(clip)).unwrap();
            assert_eq!(fs::read(again.out_dir.join(clip)).unwrap(), first);
        }
    }

    #[test]
    fn classes_select_clips_and_unknown_ones_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("cycles");
        segmented(&input);
        let classes = Some(vec!["wheeze".into(), "Crackle".into()]);
        let opts = options(tmp.path().join("aug"), classes);
        let report = augment_folder(&input.join(MANIFEST_FILE), &opts, &|_, _| {}).unwrap();
        assert_eq!((report.n_selected, report.n_augmented), (1, 2));
        assert_eq!(report.classes_not_found, ["Crackle"]);
    }

    #[test]
    fn unusable_inputs_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("cycles");
        segmented(&input);
        let none = |_, _| {};

        let mut bad = options(tmp.path().join("x"), None);
        bad.config.copies_per_clip = 0;
        let err = augment_folder(Path::new("/nonexistent"), &bad, &none).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter(_)), "{err}");

        let err = augment_folder(&input, &options(input.clone(), None), &none).unwrap_err();
        assert!(matches!(err, Error::OutputIsInput { .. }), "{err}");

        let aug = tmp.path().join("aug");
        augment_folder(&input, &options(aug.clone(), None), &none).unwrap();
        let err = augment_folder(&aug, &options(tmp.path().join("y"), None), &none).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} already has an `augmentation` column: augment the original \
                 `lungsound segment` folder instead",
                aug.join(MANIFEST_FILE).display()
            )
        );

        let missing = tmp.path().join("nothing-here");
        let err = augment_folder(&missing, &options(tmp.path().join("z"), None), &none)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("cannot read {} (give a folder", missing.display())),
            "{err}"
        );
        assert!(!tmp.path().join("z").exists());
    }
}

//! Respiratory-sound datasets for lungsound: the second stage of the
//! pipeline (`audio → datasets → features/train/report`).
//!
//! - Readers: ICBHI 2017 ([`load_icbhi`]), SPRSound ([`load_sprsound`]) and
//!   plain folders of the user's WAV/FLAC files ([`load_folder`]);
//!   [`detect`] picks one and [`load_dataset`] loads with it. Loading reads
//!   annotations only (in parallel); audio is never decoded, and headers are
//!   probed only by [`summarize`] when durations are asked for.
//! - The model: [`Dataset`] → [`Recording`] → [`Event`], labels as enums
//!   ([`CycleLabel`], [`SprEventType`], [`RecordLabel`], [`EventLabel`]),
//!   and every per-file/line/event problem as an [`Issue`] beside the good
//!   data — nothing is dropped silently.
//! - [`Task`]: BioCAS 2022 tasks `1-1`, `1-2`, `2-1`, `2-2` and ICBHI
//!   `cycles4`, mapping labels to class indices (Normal is class 0).
//! - Splits: [`patient_split`] (stratified, patient-wise, seeded),
//!   [`official_split`] (ICBHI), [`random_split`] (warns about leakage).
//! - Segmentation: [`segment_recording`], [`fit_length`], and
//!   [`segment_dataset`] which writes clips plus `manifest.csv`; that
//!   manifest is read and written by [`read_manifest`] / [`ManifestWriter`]
//!   ([`ManifestRow`], one per clip).
//! - Annotations that do not fit the audio: one rule ([`fit_spans`],
//!   [`fit_events`]) used by `segment`, `analyze`, training/evaluation and
//!   prediction alike: events past the end are skipped, events overlapping
//!   it clipped, impossible times refused, each with an [`Issue`].
//! - Statistics: [`summarize`] → [`DatasetSummary`] (serialisable).
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod annotation_file;
mod error;
mod fit;
mod folder;
mod folds;
mod icbhi;
mod label;
mod manifest;
mod recording;
mod scan;
mod segment;
mod split;
mod sprsound;
mod stats;
mod task;

use std::path::Path;

pub use annotation_file::annotation_event_spans;
pub use error::Error;
pub use fit::{
    FAR_PAST_FRACTION, FitAction, FittedSpans, MAX_EVENT_TIME_S, SpanFit, fit_events, fit_spans,
    impossible_span, impossible_time,
};
pub use folder::load_folder;
pub use folds::patient_folds;
pub use icbhi::{
    DEMOGRAPHIC_FILE, DIAGNOSIS_CSV, DIAGNOSIS_FILE, IcbhiName, SPLIT_FILE, load_icbhi,
    parse_cycles,
};
pub use label::{CycleLabel, EventLabel, RecordLabel, SprEventType};
pub use manifest::{
    AUGMENT_COLUMNS, MANIFEST_COLUMNS, MANIFEST_FILE, Manifest, ManifestLayout, ManifestRow,
    ManifestWriter, parse_manifest, read_manifest, write_manifest,
};
pub use recording::{Dataset, DatasetKind, Event, Issue, Recording, Severity, Sex, Split};
pub use segment::{
    Clip, END_TOLERANCE_S, PadMode, SegmentConfig, SegmentReport, Segmented, fit_length,
    segment_dataset, segment_dataset_with_splits, segment_recording,
};
pub use split::{
    DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, OfficialSplit, SplitIndices, official_split,
    patient_split, random_split, split_column,
};
pub use sprsound::{SprAnnotation, SprName, load_sprsound, parse_annotation};
pub use stats::{
    AudioSummary, Count, DatasetSummary, LabelDurations, PatientSummary, SplitBalance, Stats,
    histogram, summarize,
};
pub use task::{Level, Task};

/// How deep [`detect`] looks below the folder (matches the folder reader).
const DETECT_DEPTH: usize = 32;
/// The ICBHI reader looks this deep (see `icbhi.rs`).
const ICBHI_DEPTH: usize = 2;
/// The SPRSound reader looks this deep (see `sprsound.rs`).
const SPR_DEPTH: usize = 4;

/// Which reader `dir` needs: SPRSound if it holds SPRSound-named `.json` annotations,
/// ICBHI if it holds ICBHI-named `.txt` ones, else a plain folder if it holds any
/// `.wav`/`.flac`. A folder with annotations of both datasets is refused, naming what it
/// found.
pub fn detect(dir: &Path) -> Result<DatasetKind, Error> {
    let (files, _) = scan::list_files(dir, DETECT_DEPTH)?;
    let depth = |f: &Path| {
        f.strip_prefix(dir)
            .map(|p| p.components().count().saturating_sub(1))
            .unwrap_or(usize::MAX)
    };
    let (mut spr, mut icbhi, mut audio) = (0usize, 0usize, 0usize);
    for f in &files {
        let ext = scan::extension_lower(f);
        let stem = scan::stem(f);
        if ext == "json" && depth(f) <= SPR_DEPTH && SprName::parse(&stem).is_some() {
            spr += 1;
        } else if ext == "txt" && depth(f) <= ICBHI_DEPTH && IcbhiName::parse(&stem).is_some() {
            icbhi += 1;
        } else if lungsound_audio::is_audio_path(f) {
            audio += 1;
        }
    }
    if spr > 0 && icbhi > 0 {
        // A parent of both datasets (`shared/data`, say): reading it as either would cut the
        // other's recordings into unlabelled clips.
        Err(Error::NotADataset {
            path: dir.to_path_buf(),
            reason: format!(
                "it holds both SPRSound records ({spr} annotation .json) and ICBHI recordings \
                 ({icbhi} annotation .txt); point at one dataset's folder"
            ),
        })
    } else if spr > 0 {
        Ok(DatasetKind::SprSound)
    } else if icbhi > 0 {
        Ok(DatasetKind::Icbhi)
    } else if audio > 0 {
        Ok(DatasetKind::Folder)
    } else {
        Err(Error::NotADataset {
            path: dir.to_path_buf(),
            reason: "no ICBHI .txt, SPRSound .json or .wav/.flac files found".into(),
        })
    }
}

/// Detects the dataset kind of `dir` and loads it. Per-file problems become
/// [`Dataset::issues`]; only a missing or unusable folder is an error.
pub fn load_dataset(dir: &Path) -> Result<Dataset, Error> {
    load_dataset_as(dir, detect(dir)?)
}

/// Loads `dir` with the given reader.
pub fn load_dataset_as(dir: &Path, kind: DatasetKind) -> Result<Dataset, Error> {
    let ds = match kind {
        DatasetKind::Icbhi => load_icbhi(dir)?,
        DatasetKind::SprSound => load_sprsound(dir)?,
        DatasetKind::Folder => load_folder(dir)?,
    };
    tracing::debug!(
        kind = %ds.kind,
        recordings = ds.recordings.len(),
        events = ds.n_events(),
        issues = ds.issues.len(),
        "loaded {}",
        dir.display()
    );
    Ok(ds)
}

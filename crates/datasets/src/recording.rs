//! The dataset model shared by all readers: [`Dataset`], [`Recording`],
//! [`Event`] and the per-item [`Issue`]s.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::label::EventLabel;
use crate::label::RecordLabel;

/// Which reader a dataset folder needs. [`detect`](crate::detect) picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// ICBHI 2017 Respiratory Sound Database (`.wav` + `.txt` cycles).
    Icbhi,
    /// SPRSound / BioCAS challenge releases (`.wav`/`.flac` + `.json`).
    #[serde(rename = "sprsound")]
    SprSound,
    /// A plain folder of the user's own WAV/FLAC recordings, no labels.
    Folder,
}

impl DatasetKind {
    /// Lowercase name: `icbhi`, `sprsound`, `folder`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetKind::Icbhi => "icbhi",
            DatasetKind::SprSound => "sprsound",
            DatasetKind::Folder => "folder",
        }
    }

    /// The name users know the dataset by, for messages and reports: `ICBHI 2017`,
    /// `SPRSound`, `plain folder`.
    pub fn display_name(self) -> &'static str {
        match self {
            DatasetKind::Icbhi => "ICBHI 2017",
            DatasetKind::SprSound => "SPRSound",
            DatasetKind::Folder => "plain folder",
        }
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "icbhi" => Ok(DatasetKind::Icbhi),
            "sprsound" | "spr" => Ok(DatasetKind::SprSound),
            "folder" => Ok(DatasetKind::Folder),
            _ => Err(Error::UnknownName {
                what: "dataset kind",
                value: s.to_string(),
                expected: "icbhi, sprsound, folder".to_string(),
            }),
        }
    }
}

/// ICBHI 2017 official patient-wise split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// `train` in `ICBHI_challenge_train_test.txt`.
    Train,
    /// `test` in `ICBHI_challenge_train_test.txt`.
    Test,
}

impl Split {
    /// `train` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Patient sex where the dataset records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Sex {
    /// ICBHI `M`, SPRSound gender `0`.
    Male,
    /// ICBHI `F`, SPRSound gender `1`.
    Female,
}

impl Sex {
    /// `Male` or `Female`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "Male",
            Sex::Female => "Female",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One annotated event: an ICBHI respiratory cycle or an SPRSound event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the annotation as stored (0-based line of data for ICBHI,
    /// array index for SPRSound), kept even when the file is unsorted or
    /// earlier entries were rejected, so clip names stay stable.
    pub index: usize,
    /// Start, in seconds from the start of the recording.
    pub start_s: f64,
    /// End, in seconds (always `> start_s`).
    pub end_s: f64,
    /// The event's label.
    pub label: EventLabel,
}

impl Event {
    /// `end_s - start_s`.
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}

/// One recording (an audio file and/or its annotation) with its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// File stem, e.g. `101_1b1_Al_sc_Meditron` (unique within a dataset).
    pub id: String,
    /// The reader that produced it.
    pub kind: DatasetKind,
    /// Patient identifier (ICBHI/SPRSound: first name field; folder: file stem).
    pub patient: String,
    /// Audio file; `None` for annotation-only recordings (ICBHI `all_annotations`).
    pub audio_path: Option<PathBuf>,
    /// Annotation file (`.txt` / `.json`); `None` for unlabelled audio.
    pub annotation_path: Option<PathBuf>,
    /// Chest location (ICBHI `Tc`, `Al`, …; SPRSound `p1`..`p4`).
    pub location: Option<String>,
    /// Recording device (ICBHI `AKGC417L`, `LittC2SE`, `Litt3200`, `Meditron`).
    pub device: Option<String>,
    /// ICBHI acquisition mode: `sc` (single channel) or `mc` (multichannel).
    pub mode: Option<String>,
    /// Patient age in years, where known.
    pub age_years: Option<f64>,
    /// Patient sex, where known.
    pub sex: Option<Sex>,
    /// Patient diagnosis (ICBHI), where known.
    pub diagnosis: Option<String>,
    /// Record-level label (SPRSound).
    pub record_label: Option<RecordLabel>,
    /// Annotated events in file order (see [`Recording::events_sorted`]).
    pub events: Vec<Event>,
    /// ICBHI official split, where the split file lists the recording.
    pub official_split: Option<Split>,
}

impl Recording {
    /// A recording with only the identifying fields set.
    pub fn new(id: impl Into<String>, kind: DatasetKind, patient: impl Into<String>) -> Self {
        Recording {
            id: id.into(),
            kind,
            patient: patient.into(),
            audio_path: None,
            annotation_path: None,
            location: None,
            device: None,
            mode: None,
            age_years: None,
            sex: None,
            diagnosis: None,
            record_label: None,
            events: Vec::new(),
            official_split: None,
        }
    }

    /// The events ordered by start time (then stored position); `events`
    /// itself keeps the file's order.
    pub fn events_sorted(&self) -> Vec<&Event> {
        let mut v: Vec<&Event> = self.events.iter().collect();
        v.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.index.cmp(&b.index)));
        v
    }

    /// Whether the recording has an audio file.
    pub fn has_audio(&self) -> bool {
        self.audio_path.is_some()
    }
}

/// How serious an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, nothing lost (a known quirk handled, a summary).
    Info,
    /// Something is missing or odd but the data was kept.
    Warning,
    /// Data was rejected (a line, event or file skipped).
    Error,
}

impl Severity {
    /// `info`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with one file, line or event, collected instead of aborting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// The file (or directory) concerned.
    pub path: PathBuf,
    /// 1-based line number for text annotations.
    pub line: Option<usize>,
    /// What is wrong, quoting the bad input.
    pub message: String,
    /// How serious it is.
    pub severity: Severity,
}

impl Issue {
    /// An issue with no line number.
    pub fn new(severity: Severity, path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Issue {
            path: path.into(),
            line: None,
            message: message.into(),
            severity,
        }
    }

    /// An issue on a 1-based line of a text file.
    pub fn at_line(
        severity: Severity,
        path: impl Into<PathBuf>,
        line: usize,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            line: Some(line),
            ..Issue::new(severity, path, message)
        }
    }

    /// Shorthand for an [`Severity::Error`] issue.
    pub fn error(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Issue::new(Severity::Error, path, message)
    }

    /// Shorthand for a [`Severity::Warning`] issue.
    pub fn warning(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Issue::new(Severity::Warning, path, message)
    }

    /// Shorthand for an [`Severity::Info`] issue.
    pub fn info(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Issue::new(Severity::Info, path, message)
    }
}

/// `path:line: severity: message` (ripgrep/compiler style).
impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}: {}", self.severity, self.message)
    }
}

/// A loaded dataset: the good recordings plus every problem met on the way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// The reader used.
    pub kind: DatasetKind,
    /// The folder that was loaded.
    pub root: PathBuf,
    /// Recordings sorted by id.
    pub recordings: Vec<Recording>,
    /// Per-file / per-line / per-event problems, in file order.
    pub issues: Vec<Issue>,
}

impl Dataset {
    /// Total number of events over all recordings.
    pub fn n_events(&self) -> usize {
        self.recordings.iter().map(|r| r.events.len()).sum()
    }

    /// Distinct patients, sorted.
    pub fn patients(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.recordings.iter().map(|r| r.patient.as_str()).collect();
        p.sort_unstable();
        p.dedup();
        p
    }

    /// The recording with this id.
    pub fn get(&self, id: &str) -> Option<&Recording> {
        self.recordings
            .binary_search_by(|r| r.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.recordings.get(i))
            .or_else(|| self.recordings.iter().find(|r| r.id == id))
    }

    /// Issues of at least the given severity.
    pub fn issues_at_least(&self, severity: Severity) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(move |i| i.severity >= severity)
    }
}

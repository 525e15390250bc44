//! The crate's error type.
//!
//! Only problems that stop a whole operation are an [`Error`]. Problems with
//! one file, line or event inside a dataset are collected as
//! [`Issue`](crate::Issue)s beside the good items instead.

use std::path::PathBuf;

/// Everything that can stop a `lungsound-datasets` operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The dataset directory does not exist or is not a directory.
    #[error("dataset directory not found: {}", path.display())]
    DirNotFound {
        /// The directory that was asked for.
        path: PathBuf,
    },
    /// The directory holds nothing this crate can read.
    #[error("not a dataset: {}: {reason}", path.display())]
    NotADataset {
        /// The directory that was inspected.
        path: PathBuf,
        /// What was looked for and not found.
        reason: String,
    },
    /// Reading or writing a file or directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Reading or writing a CSV file (the segment manifest) failed.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// The underlying CSV error.
        source: csv::Error,
    },
    /// A `manifest.csv` cannot be used as a whole: empty, or a standard
    /// column missing (rows with problems are issues instead).
    #[error("{} {problem}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong, e.g. "is empty".
        problem: String,
    },
    /// A `manifest.csv` is not valid CSV (a quoted field left open).
    #[error("cannot parse {}: line {line}: {message}", path.display())]
    ManifestSyntax {
        /// The manifest file.
        path: PathBuf,
        /// The line the broken record starts on.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Decoding, resampling or writing audio failed (the audio error names the file).
    #[error(transparent)]
    Audio(#[from] lungsound_audio::Error),
    /// A value given by the caller is out of range (the message states the rule and the value).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A name that should be one of a fixed set (task, pad mode, label) is not.
    #[error("unknown {what} {value:?}; expected one of: {expected}")]
    UnknownName {
        /// What kind of name was parsed (`"task"`, `"pad mode"`, …).
        what: &'static str,
        /// The text given.
        value: String,
        /// The accepted spellings, comma separated.
        expected: String,
    },
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

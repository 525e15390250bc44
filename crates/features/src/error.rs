//! The crate's error type.
//!
//! Configuration problems surface when a [`crate::FeatureExtractor`] is built
//! (each message states the rule and the value given); file problems carry
//! the path.

use std::path::PathBuf;

/// Everything that can go wrong in `lungsound-features`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of its valid range, e.g. `n_mels must be > 0, got 0`.
    #[error("invalid feature parameter: {0}")]
    InvalidParameter(String),
    /// A name could not be parsed, e.g. an unknown feature kind or colormap.
    #[error("{0}")]
    Parse(String),
    /// Writing a `.npy` file failed.
    #[error("cannot write {path}: {source}")]
    WriteNpy {
        /// The file being written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ndarray_npy::WriteNpyError,
    },
    /// Reading a `.npy` file failed (missing, not float32, not 2-D, ...).
    #[error("cannot read {path}: {source}")]
    ReadNpy {
        /// The file being read.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ndarray_npy::ReadNpyError,
    },
    /// Encoding or writing a PNG failed.
    #[error("cannot write {path}: {source}")]
    Png {
        /// The file being written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: image::ImageError,
    },
    /// The manifest given to [`augment_folder`](crate::augment::augment_folder)
    /// cannot be read.
    #[error(
        "cannot read {} (give a folder written by `lungsound segment` or its manifest.csv)",
        path.display()
    )]
    ManifestRead {
        /// The manifest file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The manifest cannot be used (empty, a column missing); the message
    /// names the file.
    #[error(transparent)]
    Manifest(#[from] lungsound_datasets::Error),
    /// The manifest is already the output of an augmentation.
    #[error(
        "{} already has an `{column}` column: augment the original `lungsound segment` folder instead",
        path.display()
    )]
    AlreadyAugmented {
        /// The manifest file.
        path: PathBuf,
        /// The augmentation column found.
        column: &'static str,
    },
    /// The output folder of an augmentation is its input folder.
    #[error(
        "the output folder must differ from the input folder {} (its manifest.csv would be overwritten)",
        dir.display()
    )]
    OutputIsInput {
        /// The input (and output) folder.
        dir: PathBuf,
    },
    /// Creating or writing an output file or folder, or listing an input
    /// folder, failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// `"create"`, `"write"` or `"list"`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A recording cannot be read or decoded (the message names the file).
    #[error(transparent)]
    Audio(#[from] lungsound_audio::Error),
    /// The feature parameters are invalid at a recording's sample rate
    /// ([`export::compute_file`](crate::export::compute_file)).
    #[error("invalid feature parameters for {}", path.display())]
    InvalidForFile {
        /// The recording.
        path: PathBuf,
        /// The parameter problem.
        #[source]
        source: Box<Error>,
    },
    /// The feature parameters are invalid at the sample rate of a recording
    /// of a folder ([`export::compute_folder`](crate::export::compute_folder)).
    #[error("invalid feature parameters at {sample_rate} Hz")]
    InvalidAtRate {
        /// The recording.
        path: PathBuf,
        /// Its sample rate, in Hz.
        sample_rate: u32,
        /// The parameter problem.
        #[source]
        source: Box<Error>,
    },
    /// A folder given to [`export::compute_folder`](crate::export::compute_folder)
    /// holds no recording.
    #[error("no .wav or .flac files in {}", dir.display())]
    NoAudioFiles {
        /// The folder.
        dir: PathBuf,
    },
    /// A [`FigureWriter`](crate::export::FigureWriter) failed (its message
    /// names the file).
    #[error(transparent)]
    Figure(Box<dyn std::error::Error + Send + Sync>),
    /// The work on one recording of a batch panicked (a bug); the batch went on.
    #[error(
        "{}: internal error while reading this file ({message}); skipped — please report it",
        path.display()
    )]
    Panicked {
        /// The recording.
        path: PathBuf,
        /// The panic's message.
        message: String,
    },
}

/// `Err(Error::InvalidParameter(..))` from a format string.
macro_rules! invalid {
    ($($arg:tt)*) => {
        Err($crate::error::Error::InvalidParameter(format!($($arg)*)))
    };
}
pub(crate) use invalid;

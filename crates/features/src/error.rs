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
    /// Creating or writing an output file or folder failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// `"create"` or `"write"`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// `Err(Error::InvalidParameter(..))` from a format string.
macro_rules! invalid {
    ($($arg:tt)*) => {
        Err($crate::error::Error::InvalidParameter(format!($($arg)*)))
    };
}
pub(crate) use invalid;

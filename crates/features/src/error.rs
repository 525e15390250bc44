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
}

/// `Err(Error::InvalidParameter(..))` from a format string.
macro_rules! invalid {
    ($($arg:tt)*) => {
        Err($crate::error::Error::InvalidParameter(format!($($arg)*)))
    };
}
pub(crate) use invalid;

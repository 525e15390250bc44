//! The crate's error type.

use std::path::PathBuf;

/// Why a plot or report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A directory could not be created.
    #[error("cannot create directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// JSON serialisation failed.
    #[error("cannot serialise {path}: {source}")]
    Json {
        /// The file being written.
        path: PathBuf,
        /// The serde error.
        source: serde_json::Error,
    },
    /// Drawing or encoding a plot failed.
    #[error("cannot draw {path}: {message}")]
    Plot {
        /// The image file.
        path: PathBuf,
        /// What the plotting backend reported.
        message: String,
    },
    /// The embedded font could not be registered with the plotting library.
    #[error("cannot load the embedded DejaVu Sans font")]
    Font,
    /// The data given to a plot is inconsistent.
    #[error("invalid plot data for {plot}: {message}")]
    InvalidData {
        /// Which plot.
        plot: &'static str,
        /// The rule broken and the value found.
        message: String,
    },
}

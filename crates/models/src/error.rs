//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong when configuring, building or loading a model.
///
/// Messages are lowercase, state the rule that was broken and quote the value
/// given; anything read from disk names its file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A [`ModelConfig`](crate::ModelConfig) field is out of range.
    #[error("invalid model config: {0}")]
    Config(String),

    /// An architecture name that is not one of [`Arch::ALL`](crate::Arch::ALL).
    #[error("unknown architecture {given:?} (expected one of: {expected})")]
    UnknownArch {
        /// The name as given.
        given: String,
        /// The accepted names, comma separated.
        expected: String,
    },

    /// An input tensor shape the model cannot take.
    #[error("input of shape {shape:?} does not fit the model: {message}")]
    Input {
        /// The shape given.
        shape: Vec<i64>,
        /// What is wrong with it.
        message: String,
    },

    /// A weights file could not be read (missing, wrong format, corrupt).
    #[error("cannot read weights from {}: {source}", path.display())]
    Read {
        /// The weights file.
        path: PathBuf,
        /// The libtorch error.
        source: tch::TchError,
    },

    /// A file could not be read from disk.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// A weights file is not in a readable format, or cannot be used with
    /// this model.
    #[error("{}: {message}", path.display())]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What is wrong (names the tensor where there is one).
        message: String,
    },

    /// [`freeze_until`](crate::freeze_until) was given a prefix that names no
    /// parameter.
    #[error("no parameter belongs to layer {prefix:?} (layers in order: {available})")]
    UnknownLayer {
        /// The prefix as given.
        prefix: String,
        /// The top-level layers of the var store in registration order.
        available: String,
    },

    /// libtorch refused an operation while building the model.
    #[error("libtorch error: {0}")]
    Torch(#[from] tch::TchError),
}

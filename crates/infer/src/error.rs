//! The crate's error type.
//!
//! Only problems that stop a whole operation are an [`Error`]. A recording
//! that cannot be decoded while features are computed is a per-item problem
//! ([`lungsound_datasets::Issue`]) reported beside the good samples.

use std::path::PathBuf;

/// Everything that can stop a `lungsound-train` operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file or directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A JSON file (config, checkpoint state, events) could not be read or written.
    #[error("{}: {source}", path.display())]
    Json {
        /// The JSON file.
        path: PathBuf,
        /// The underlying parser error (it carries line and column).
        source: serde_json::Error,
    },
    /// A TOML config file could not be parsed.
    #[error("{}: {source}", path.display())]
    Toml {
        /// The TOML file.
        path: PathBuf,
        /// The underlying parser error (it carries line and column).
        source: Box<toml::de::Error>,
    },
    /// Writing a CSV file failed.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// The underlying CSV error.
        source: csv::Error,
    },
    /// A libtorch operation failed (the context says which).
    #[error("{context}: {source}")]
    Torch {
        /// What was being done (and on which file, if any).
        context: String,
        /// The libtorch error.
        source: tch::TchError,
    },
    /// A configuration value is out of range or inconsistent; the message
    /// states the rule and the value.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A run directory lacks a file or holds one that does not fit its config.
    #[error("run directory {}: {message}", path.display())]
    RunDir {
        /// The run directory (or the file in it).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data holds no usable sample for the task (or for one side of the split).
    #[error("no data: {0}")]
    NoData(String),
    /// A run of a model folder could not be loaded.
    #[error("cannot load the model in {}", dir.display())]
    ModelLoad {
        /// The run directory.
        dir: PathBuf,
        /// Why.
        source: Box<Error>,
    },
    /// A folder given as models is not readable or holds no run.
    #[error("{message}")]
    ModelFolder {
        /// What is wrong, naming the folder.
        message: String,
        /// The I/O error, when reading failed.
        source: Option<std::io::Error>,
    },
    /// A gate run cannot be loaded or fits none of the models; the message starts with the
    /// gate's path (the CLI says `--gate PATH …`).
    #[error("gate {message}")]
    Gate {
        /// What is wrong, starting with the gate's path.
        message: String,
        /// The underlying error, when loading the gate failed.
        source: Option<Box<Error>>,
    },
    /// Loading the dataset failed.
    #[error(transparent)]
    Dataset(#[from] lungsound_datasets::Error),
    /// Decoding or resampling audio failed (the audio error names the file).
    #[error(transparent)]
    Audio(#[from] lungsound_audio::Error),
    /// The feature configuration is invalid.
    #[error(transparent)]
    Features(#[from] lungsound_features::Error),
    /// Computing metrics failed.
    #[error(transparent)]
    Eval(#[from] lungsound_eval::Error),
    /// Building the model failed.
    #[error(transparent)]
    Model(#[from] lungsound_models::Error),
    /// Writing the evaluation report or its plots failed.
    #[error(transparent)]
    Report(#[from] lungsound_report::Error),
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a JSON error with the file it happened on.
    pub fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
        Error::Json {
            path: path.into(),
            source,
        }
    }

    /// Wraps a libtorch error with what was being done.
    pub fn torch(context: impl Into<String>, source: tch::TchError) -> Self {
        Error::Torch {
            context: context.into(),
            source,
        }
    }

    /// A problem with a run directory or a file in it.
    pub fn run_dir(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::RunDir {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Library errors → Python exceptions.

use pyo3::PyErr;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};

/// A decoding error: `FileNotFoundError` for a missing file, `OSError` otherwise
/// (librosa raises soundfile's errors, which are `RuntimeError`s; `OSError` is what
/// notebook users catch for files). The message names the file.
pub fn audio(e: lungsound_audio::Error) -> PyErr {
    if let lungsound_audio::Error::Read { source, .. } = &e
        && source.kind() == std::io::ErrorKind::NotFound
    {
        return PyFileNotFoundError::new_err(e.to_string());
    }
    PyOSError::new_err(e.to_string())
}

/// A bad feature parameter: `ValueError` with the rule that was broken.
pub fn features(e: lungsound_features::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A dataset folder that cannot be read at all: `OSError` naming it.
pub fn datasets(e: lungsound_datasets::Error) -> PyErr {
    PyOSError::new_err(e.to_string())
}

/// A scoring error (lengths differ, label out of range): `ValueError`.
pub fn eval(e: lungsound_eval::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

//! Library errors → Python exceptions.

use pyo3::PyErr;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};

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

/// A model that cannot be loaded or run: `FileNotFoundError` for a missing run directory or
/// folder, `ValueError` for a recording the models cannot classify (too short, bad events) or
/// a gate that fits none, `RuntimeError` otherwise. The message names the run or file.
pub fn infer(e: lungsound_infer::Error) -> PyErr {
    infer_with_prefix("", &e)
}

/// [`infer`] for an error of the model named `model` while predicting (the message starts
/// with the model's name).
pub fn infer_for_model(model: &str, e: lungsound_infer::Error) -> PyErr {
    infer_with_prefix(&format!("{model}: "), &e)
}

fn infer_with_prefix(prefix: &str, e: &lungsound_infer::Error) -> PyErr {
    use lungsound_infer::Error;
    let message = format!("{prefix}{}", error_chain(e));
    match e {
        Error::ModelFolder {
            source: Some(io), ..
        } if io.kind() == std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        Error::ModelFolder { .. }
        | Error::Gate { .. }
        | Error::NoData(_)
        | Error::InvalidConfig(_) => PyValueError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// The error and its causes, each once, joined by ": ".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

//! `load`: decode WAV/FLAC like `lungsound_audio::load`, librosa-shaped.

use std::path::PathBuf;

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyNotImplementedError, PyValueError};
use pyo3::prelude::*;

use crate::errors;

/// Samples `[start, end)` of `offset` / `duration` seconds, as librosa rounds them.
fn span(
    n: usize,
    sample_rate: u32,
    offset: f64,
    duration: Option<f64>,
) -> PyResult<(usize, usize)> {
    if !(offset >= 0.0 && offset.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "offset must be >= 0 s, got {offset}"
        )));
    }
    let to_samples = |s: f64| (s * f64::from(sample_rate)).round() as usize;
    let start = to_samples(offset).min(n);
    let end = match duration {
        None => n,
        Some(d) if d >= 0.0 && d.is_finite() => start.saturating_add(to_samples(d)).min(n),
        Some(d) => {
            return Err(PyValueError::new_err(format!(
                "duration must be >= 0 s, got {d}"
            )));
        }
    };
    Ok((start, end))
}

/// load(path, *, sr=None, mono=True, offset=0.0, duration=None)
/// --
///
/// Decode a WAV or FLAC file to float32 samples in [-1, 1]; returns ``(y, sr)``.
#[pyfunction]
#[pyo3(signature = (path, *, sr=None, mono=true, offset=0.0, duration=None))]
fn load<'py>(
    py: Python<'py>,
    path: PathBuf,
    sr: Option<u32>,
    mono: bool,
    offset: f64,
    duration: Option<f64>,
) -> PyResult<(Bound<'py, PyArray1<f32>>, u32)> {
    let decoded = py.detach(|| -> PyResult<(Vec<f32>, u32)> {
        let (audio, info) = lungsound_audio::load(&path).map_err(errors::audio)?;
        if !mono && info.channels > 1 {
            return Err(PyNotImplementedError::new_err(format!(
                "{}: mono=False on a {}-channel file: lungsound decodes to mono only \
                 (the channel mean, as mono=True gives)",
                path.display(),
                info.channels
            )));
        }
        let (start, end) = span(audio.samples.len(), audio.sample_rate, offset, duration)?;
        let mut samples = audio.samples;
        samples.truncate(end);
        samples.drain(..start);
        match sr {
            Some(to) if to != audio.sample_rate => {
                let resampled = lungsound_audio::resample(&samples, audio.sample_rate, to)
                    .map_err(errors::audio)?;
                Ok((resampled, to))
            }
            _ => Ok((samples, audio.sample_rate)),
        }
    })?;
    Ok((decoded.0.into_pyarray(py), decoded.1))
}

/// Adds `load` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load, m)?)
}

//! The native half of the `lungsound` Python package (`lungsound._lungsound`).
//!
//! A thin layer over the library crates, like the CLI: argument conversion and
//! error mapping only, no DSP, dataset or scoring logic of its own.
//!
//! - [`audio`]: `load` (what `lungsound info`/`features` decode).
//! - [`features`]: `stft`, `melspectrogram`, `power_to_db`, `amplitude_to_db` with
//!   librosa 0.11's argument names and defaults, and `melspectrogram_batch` (rayon, GIL
//!   released).
//! - [`datasets`]: `load_dataset` (recordings and issues as plain dicts), task label maps.
//! - [`scores`]: `score` (BioCAS SE/SP/AS/HS/Score and the ICBHI score).
//! - [`predict`]: `_Predictor`, trained runs predicting as `lungsound predict --json`
//!   (libtorch: the one of the installed `torch` package, loaded by `import torch`).
//!
//! The pure-Python package in `python/lungsound/` re-exports these with docstrings and
//! type stubs; build it with `scripts/python.sh` (maturin).
//!
//! `unsafe_code` stays forbidden: PyO3's macros expand without `unsafe` in this crate.

mod audio;
mod datasets;
mod errors;
mod features;
mod predict;
mod scores;

use pyo3::prelude::*;

/// The compiled half of the `lungsound` package; import `lungsound` instead.
#[pymodule]
fn _lungsound(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    audio::register(m)?;
    features::register(m)?;
    datasets::register(m)?;
    scores::register(m)?;
    predict::register(m)?;
    Ok(())
}

//! librosa-shaped spectrograms over `lungsound_features`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lungsound_features::{
    DbRef, FeatureConfig, FeatureExtractor, FeatureKind, MelNorm, PcenParams, amplitude_to_db,
    pcen, power_to_db,
};
use ndarray::{Array2, ArrayD};
use numpy::{AllowTypeChange, IntoPyArray, PyArray2, PyArrayDyn, PyArrayLike1, PyArrayLikeDyn};
use pyo3::exceptions::{PyNotImplementedError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::errors;

/// The only window, padding and power lungsound computes; anything else is refused
/// rather than silently ignored.
fn check_supported(window: &str, pad_mode: &str, power: f64) -> PyResult<()> {
    if window != "hann" {
        return Err(PyNotImplementedError::new_err(format!(
            "window={window:?}: lungsound computes the periodic Hann window only (window='hann')"
        )));
    }
    if pad_mode != "constant" {
        return Err(PyNotImplementedError::new_err(format!(
            "pad_mode={pad_mode:?}: lungsound pads with zeros only (pad_mode='constant', \
             librosa 0.11's default)"
        )));
    }
    if power != 2.0 {
        return Err(PyNotImplementedError::new_err(format!(
            "power={power}: lungsound's mel spectrogram is a power spectrogram (power=2.0)"
        )));
    }
    Ok(())
}

fn mel_norm(norm: Option<&str>) -> PyResult<MelNorm> {
    match norm {
        None => Ok(MelNorm::None),
        Some(s) => s.parse().map_err(errors::features),
    }
}

/// Mel parameters in librosa's names.
#[allow(clippy::too_many_arguments)]
fn mel_config(
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    center: bool,
    n_mels: usize,
    fmin: f32,
    fmax: Option<f32>,
    htk: bool,
    norm: Option<&str>,
) -> PyResult<FeatureConfig> {
    Ok(FeatureConfig {
        kind: FeatureKind::Mel,
        n_fft,
        hop_length,
        win_length,
        n_mels,
        fmin,
        fmax,
        htk,
        norm: mel_norm(norm)?,
        db: false,
        center,
        ..FeatureConfig::default()
    })
}

/// The samples of `y`, copied only when it is a strided view.
fn contiguous<'a>(y: &'a PyArrayLike1<'_, f32, AllowTypeChange>) -> Cow<'a, [f32]> {
    match y.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(y.as_array().to_vec()),
    }
}

/// stft(y, *, n_fft=2048, hop_length=None, win_length=None, window='hann', center=True, pad_mode='constant')
/// --
///
/// Magnitude STFT ``np.abs(librosa.stft(y, ...))`` as float32 ``[1 + n_fft // 2, n_frames]``.
#[pyfunction]
#[pyo3(signature = (y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=true, pad_mode="constant"))]
#[allow(clippy::too_many_arguments)]
fn stft<'py>(
    py: Python<'py>,
    y: PyArrayLike1<'py, f32, AllowTypeChange>,
    n_fft: usize,
    hop_length: Option<usize>,
    win_length: Option<usize>,
    window: &str,
    center: bool,
    pad_mode: &str,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    check_supported(window, pad_mode, 2.0)?;
    let hop_length = hop_length.unwrap_or(win_length.unwrap_or(n_fft) / 4);
    let samples = contiguous(&y);
    let out = py.detach(|| {
        lungsound_features::stft_magnitude(&samples, n_fft, hop_length, win_length, center)
    });
    Ok(out.map_err(errors::features)?.into_pyarray(py))
}

/// melspectrogram(*, y, sr=22050, n_fft=2048, hop_length=512, win_length=None, window='hann', center=True, pad_mode='constant', power=2.0, n_mels=128, fmin=0.0, fmax=None, htk=False, norm='slaney')
/// --
///
/// Mel power spectrogram ``librosa.feature.melspectrogram(y=y, sr=sr, ...)`` as float32 ``[n_mels, n_frames]``.
#[pyfunction]
#[pyo3(signature = (*, y, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann", center=true, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None, htk=false, norm=Some("slaney")))]
#[allow(clippy::too_many_arguments)]
fn melspectrogram<'py>(
    py: Python<'py>,
    y: PyArrayLike1<'py, f32, AllowTypeChange>,
    sr: u32,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: &str,
    center: bool,
    pad_mode: &str,
    power: f64,
    n_mels: usize,
    fmin: f32,
    fmax: Option<f32>,
    htk: bool,
    norm: Option<&str>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    check_supported(window, pad_mode, power)?;
    let config = mel_config(
        n_fft, hop_length, win_length, center, n_mels, fmin, fmax, htk, norm,
    )?;
    let samples = contiguous(&y);
    let out = py.detach(|| lungsound_features::melspectrogram(&samples, sr, &config));
    Ok(out.map_err(errors::features)?.into_pyarray(py))
}

/// The dB reference: a number (its absolute value), or a callable applied to the
/// magnitudes (librosa's `ref=np.max`).
fn db_ref(reference: &Bound<'_, PyAny>, magnitude: &ArrayD<f32>) -> PyResult<DbRef> {
    if reference.is_callable() {
        let py = reference.py();
        let value = reference.call1((magnitude.clone().into_pyarray(py),))?;
        Ok(DbRef::Value(value.extract::<f32>()?))
    } else {
        Ok(DbRef::Value(reference.extract::<f32>()?))
    }
}

/// power_to_db(S, *, ref=1.0, amin=1e-10, top_db=80.0)
/// --
///
/// ``librosa.power_to_db``: ``10 * log10(S / ref)``, floored at ``amin`` and at ``max - top_db``.
#[pyfunction]
#[pyo3(name = "power_to_db", signature = (S, *, r#ref=None, amin=1e-10, top_db=Some(80.0)))]
#[allow(non_snake_case)]
fn power_to_db_py<'py>(
    py: Python<'py>,
    S: PyArrayLikeDyn<'py, f32, AllowTypeChange>,
    r#ref: Option<Bound<'py, PyAny>>,
    amin: f32,
    top_db: Option<f32>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let s = S.as_array().to_owned();
    let reference = match &r#ref {
        Some(r) => db_ref(r, &s)?,
        None => DbRef::Value(1.0),
    };
    let out = py.detach(|| power_to_db(&s, reference, amin, top_db));
    Ok(out.map_err(errors::features)?.into_pyarray(py))
}

/// amplitude_to_db(S, *, ref=1.0, amin=1e-5, top_db=80.0)
/// --
///
/// ``librosa.amplitude_to_db``: ``20 * log10(|S| / ref)``, floored at ``amin`` and at ``max - top_db``.
#[pyfunction]
#[pyo3(name = "amplitude_to_db", signature = (S, *, r#ref=None, amin=1e-5, top_db=Some(80.0)))]
#[allow(non_snake_case)]
fn amplitude_to_db_py<'py>(
    py: Python<'py>,
    S: PyArrayLikeDyn<'py, f32, AllowTypeChange>,
    r#ref: Option<Bound<'py, PyAny>>,
    amin: f32,
    top_db: Option<f32>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let s = S.as_array().mapv(f32::abs);
    let reference = match &r#ref {
        Some(r) => db_ref(r, &s)?,
        None => DbRef::Value(1.0),
    };
    let out = py.detach(|| amplitude_to_db(&s, reference, amin, top_db));
    Ok(out.map_err(errors::features)?.into_pyarray(py))
}

/// One extractor per sample rate, shared by the workers.
#[derive(Default)]
struct Extractors {
    by_rate: Mutex<HashMap<u32, Arc<FeatureExtractor>>>,
}

impl Extractors {
    fn get(&self, config: &FeatureConfig, rate: u32) -> Result<Arc<FeatureExtractor>, String> {
        let mut map = self
            .by_rate
            .lock()
            .map_err(|_| "a worker panicked while holding the extractor cache".to_string())?;
        if let Some(e) = map.get(&rate) {
            return Ok(Arc::clone(e));
        }
        let e = Arc::new(FeatureExtractor::new(config, rate).map_err(|e| e.to_string())?);
        map.insert(rate, Arc::clone(&e));
        Ok(e)
    }
}

/// pcen(S, *, sr=22050, hop_length=512, gain=0.98, bias=2.0, power=0.5, time_constant=0.4, eps=1e-6)
/// --
///
/// ``librosa.pcen`` of a non-negative ``[n_freq, n_frames]`` spectrogram (time along axis 1).
#[pyfunction]
#[pyo3(name = "pcen", signature = (
    S, *, sr=22050, hop_length=512, gain=0.98, bias=2.0, power=0.5, time_constant=0.4, eps=1e-6
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn pcen_py<'py>(
    py: Python<'py>,
    S: PyArrayLikeDyn<'py, f32, AllowTypeChange>,
    sr: u32,
    hop_length: usize,
    gain: f64,
    bias: f64,
    power: f64,
    time_constant: f64,
    eps: f64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = S.as_array();
    let shape = s.shape().to_vec();
    let s = s
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|_| {
            PyValueError::new_err(format!(
                "pcen takes a 2-D spectrogram [n_freq, n_frames], got shape {shape:?}"
            ))
        })?
        .to_owned();
    let params = PcenParams {
        gain,
        bias,
        power,
        time_constant,
        eps,
    };
    let out = py.detach(|| pcen(&s, sr, hop_length, &params));
    Ok(out.map_err(errors::features)?.into_pyarray(py))
}

fn one_file(
    path: &Path,
    sr: Option<u32>,
    config: &FeatureConfig,
    cache: &Extractors,
) -> Result<Array2<f32>, String> {
    let audio = match sr {
        Some(rate) => lungsound_audio::load_resampled(path, rate),
        None => lungsound_audio::load(path).map(|(a, _)| a),
    }
    .map_err(|e| e.to_string())?;
    Ok(cache
        .get(config, audio.sample_rate)?
        .compute(&audio.samples))
}

/// melspectrogram_batch(paths, *, sr=None, n_fft=2048, hop_length=512, win_length=None, center=True, n_mels=128, fmin=0.0, fmax=None, htk=False, norm='slaney', to_db=False, top_db=80.0, n_jobs=None, on_error='raise')
/// --
///
/// Mel spectrograms of many files, decoded and computed in parallel with the GIL released.
#[pyfunction]
#[pyo3(signature = (paths, *, sr=None, n_fft=2048, hop_length=512, win_length=None, center=true, n_mels=128, fmin=0.0, fmax=None, htk=false, norm=Some("slaney"), to_db=false, top_db=Some(80.0), n_jobs=None, on_error="raise"))]
#[allow(clippy::too_many_arguments)]
fn melspectrogram_batch<'py>(
    py: Python<'py>,
    paths: Vec<PathBuf>,
    sr: Option<u32>,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    center: bool,
    n_mels: usize,
    fmin: f32,
    fmax: Option<f32>,
    htk: bool,
    norm: Option<&str>,
    to_db: bool,
    top_db: Option<f32>,
    n_jobs: Option<usize>,
    on_error: &str,
) -> PyResult<Vec<Option<Bound<'py, PyArray2<f32>>>>> {
    let raise = match on_error {
        "raise" => true,
        "none" => false,
        other => {
            return Err(PyValueError::new_err(format!(
                "on_error must be 'raise' or 'none', got {other:?}"
            )));
        }
    };
    let mut config = mel_config(
        n_fft, hop_length, win_length, center, n_mels, fmin, fmax, htk, norm,
    )?;
    config.db = to_db;
    config.top_db = top_db;
    if let Some(rate) = sr {
        config.validate(rate).map_err(errors::features)?;
    }
    let pool = match n_jobs {
        Some(0) => {
            return Err(PyValueError::new_err(
                "n_jobs must be >= 1 (or None for all cores)",
            ));
        }
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        ),
        None => None,
    };
    let results: Vec<Result<Array2<f32>, String>> = py.detach(|| {
        let cache = Extractors::default();
        let run = || {
            paths
                .par_iter()
                .map(|p| one_file(p, sr, &config, &cache))
                .collect::<Vec<_>>()
        };
        match &pool {
            Some(pool) => pool.install(run),
            None => run(),
        }
    });
    if raise {
        let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        if let Some(first) = failed.first() {
            return Err(PyValueError::new_err(format!(
                "{} of {} files failed; first: {first} (on_error='none' returns None for them instead)",
                failed.len(),
                results.len()
            )));
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.ok().map(|a| a.into_pyarray(py)))
        .collect())
}

/// Adds the feature functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(stft, m)?)?;
    m.add_function(wrap_pyfunction!(melspectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(melspectrogram_batch, m)?)?;
    m.add_function(wrap_pyfunction!(power_to_db_py, m)?)?;
    m.add_function(wrap_pyfunction!(amplitude_to_db_py, m)?)?;
    m.add_function(wrap_pyfunction!(pcen_py, m)?)?;
    Ok(())
}

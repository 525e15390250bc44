//! `Predictor`: trained runs loaded once, predicting recordings as `lungsound predict --json`
//! does (one model, a folder of models, or models gated by a Normal-vs-abnormal run), through
//! `lungsound_infer::models`. The answer is that command's JSON for one file, as text; the
//! Python wrapper parses it into a dict.

use std::path::PathBuf;

use lungsound_audio::Audio;
use lungsound_infer::GateChoice;
use lungsound_infer::models::{FilePrediction, LoadedModel, load_models, predict_with};
use lungsound_infer::tch::{self, Device};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::errors;

/// Trained lungsound runs, loaded once (the native half of `lungsound.Predictor`).
#[pyclass(module = "lungsound._lungsound", name = "_Predictor", frozen)]
pub struct NativePredictor {
    models: Vec<LoadedModel>,
}

/// `"cpu"`, `"cuda"`, `"cuda:N"`, or `None` (CUDA when libtorch sees a GPU, else the CPU).
fn parse_device(device: Option<&str>) -> PyResult<Device> {
    let Some(name) = device else {
        return Ok(Device::cuda_if_available());
    };
    let name = name.trim().to_ascii_lowercase();
    let cuda = |index: usize| {
        if tch::Cuda::is_available() && (index as i64) < tch::Cuda::device_count() {
            Ok(Device::Cuda(index))
        } else {
            Err(PyValueError::new_err(format!(
                "device {name:?}: no such CUDA device is available (libtorch sees {})",
                tch::Cuda::device_count()
            )))
        }
    };
    match name.as_str() {
        "cpu" => Ok(Device::Cpu),
        "cuda" => cuda(0),
        other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => cuda(index),
            _ => Err(PyValueError::new_err(format!(
                "device {other:?}: expected \"cpu\", \"cuda\" or \"cuda:N\""
            ))),
        },
    }
}

#[pymethods]
impl NativePredictor {
    /// Loads the run (or folder of runs) in `run_dir`: gated by the run in `gate` if given,
    /// by no gate with `no_gate`, else by each run's own gate (its `gate.json`).
    #[new]
    #[pyo3(signature = (run_dir, device=None, gate=None, no_gate=false))]
    fn new(
        py: Python<'_>,
        run_dir: PathBuf,
        device: Option<&str>,
        gate: Option<PathBuf>,
        no_gate: bool,
    ) -> PyResult<Self> {
        let device = parse_device(device)?;
        let choice = GateChoice::from_flags(gate, no_gate);
        let models = py
            .detach(|| load_models(&run_dir, &choice, device))
            .map_err(errors::infer)?;
        Ok(Self { models })
    }

    /// The loaded runs: `(name, run_dir, task, classes, gated_by)` each.
    #[allow(clippy::type_complexity)]
    fn models(&self) -> Vec<(String, PathBuf, String, Vec<String>, Option<String>)> {
        self.models
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    m.dir.clone(),
                    m.predictor.task().to_string(),
                    m.predictor.class_names().to_vec(),
                    m.gate.as_ref().map(|g| g.name.clone()),
                )
            })
            .collect()
    }

    /// `lungsound predict --json`'s entry for the file at `path`, as JSON text.
    /// `event_indices` rename the events in the answer (their positions in an annotation file).
    #[pyo3(signature = (path, events=None, event_indices=None))]
    fn predict_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        events: Option<Vec<(f64, f64)>>,
        event_indices: Option<Vec<usize>>,
    ) -> PyResult<String> {
        let (audio, _) = py
            .detach(|| lungsound_audio::load(&path))
            .map_err(errors::audio)?;
        self.answer(
            py,
            path.display().to_string(),
            &audio,
            events,
            event_indices,
        )
    }

    /// The same for samples `y` at `sr` Hz (`file` is then `null`).
    #[pyo3(signature = (y, sr, events=None, event_indices=None))]
    fn predict_samples(
        &self,
        py: Python<'_>,
        y: PyReadonlyArray1<'_, f32>,
        sr: u32,
        events: Option<Vec<(f64, f64)>>,
        event_indices: Option<Vec<usize>>,
    ) -> PyResult<String> {
        if !lungsound_audio::SAMPLE_RATE_RANGE.contains(&sr) {
            return Err(PyValueError::new_err(format!(
                "sr={sr}: lungsound reads sample rates from {} to {} Hz",
                lungsound_audio::SAMPLE_RATE_RANGE.start(),
                lungsound_audio::SAMPLE_RATE_RANGE.end()
            )));
        }
        let samples = y.as_slice()?.to_vec();
        if samples.iter().any(|v| !v.is_finite()) {
            return Err(PyValueError::new_err("y holds NaN or infinite samples"));
        }
        let audio = Audio {
            samples,
            sample_rate: sr,
        };
        self.answer(py, (), &audio, events, event_indices)
    }
}

impl NativePredictor {
    /// Runs every model on `audio` and serialises the file's entry.
    fn answer<F: serde::Serialize + Send>(
        &self,
        py: Python<'_>,
        file: F,
        audio: &Audio,
        events: Option<Vec<(f64, f64)>>,
        event_indices: Option<Vec<usize>>,
    ) -> PyResult<String> {
        py.detach(|| {
            let mut result = predict_with(&self.models, audio, events.as_deref())
                .map_err(|(model, e)| errors::infer_for_model(&model.name, e))?;
            if let Some(indices) = &event_indices {
                result.use_event_indices(indices);
            }
            let entry = FilePrediction::new(file, audio, result);
            serde_json::to_string(&entry).map_err(|e| PyRuntimeError::new_err(e.to_string()))
        })
    }
}

/// The events of an SPRSound `.json` or ICBHI `.txt` annotation as `(index, start_s, end_s)`
/// by start time (`index`: position in the file), as `lungsound predict --events` reads
/// them, and the file's problems.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn annotation_event_spans(path: PathBuf) -> PyResult<(Vec<(usize, f64, f64)>, Vec<String>)> {
    let bytes = std::fs::read(&path).map_err(|e| {
        let message = format!("cannot read {}: {e}", path.display());
        if e.kind() == std::io::ErrorKind::NotFound {
            pyo3::exceptions::PyFileNotFoundError::new_err(message)
        } else {
            pyo3::exceptions::PyOSError::new_err(message)
        }
    })?;
    let (spans, issues) = lungsound_datasets::annotation_event_spans(&bytes, &path);
    Ok((spans, issues.iter().map(ToString::to_string).collect()))
}

/// `torch.set_num_threads` for lungsound's own libtorch calls: intra-op threads.
#[pyfunction]
fn set_num_threads(n: i32) -> PyResult<()> {
    if n < 1 {
        return Err(PyValueError::new_err("set_num_threads needs at least 1"));
    }
    tch::set_num_threads(n);
    Ok(())
}

/// Adds `_Predictor` and `set_num_threads` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativePredictor>()?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(annotation_event_spans, m)?)?;
    Ok(())
}

//! `score`: the BioCAS (SPRSound) and ICBHI challenge scores of label lists.

use lungsound_datasets::Task;
use lungsound_eval::{BiocasScore, ConfusionMatrix, IcbhiScore};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::datasets::{label_map, parse_task};
use crate::errors;

/// The class of one label: an index of the task's classes, one of its class names, or a
/// dataset label the task maps (`"Fine Crackle"` is `Adventitious` in 1-1); names match
/// exactly first, then case-insensitively. `None` for anything else (`None`, NaN, ...).
fn resolve(task: Task, label: &Bound<'_, PyAny>) -> Option<usize> {
    if label.is_none() {
        return None;
    }
    if let Ok(s) = label.cast::<PyString>() {
        let s = s.to_str().ok()?.trim();
        let names = task.class_names();
        let map = label_map(task);
        return names
            .iter()
            .position(|n| *n == s)
            .or_else(|| map.iter().find(|(n, _)| *n == s).map(|(_, c)| *c))
            .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(s)))
            .or_else(|| {
                map.iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(s))
                    .map(|(_, c)| *c)
            });
    }
    if label.is_instance_of::<pyo3::types::PyBool>() {
        return None;
    }
    match label.extract::<i64>() {
        Ok(i) => usize::try_from(i).ok().filter(|&i| i < task.n_classes()),
        Err(_) => None,
    }
}

/// score(task, y_true, y_pred)
/// --
///
/// Challenge scores of predictions: ``{SE, SP, AS, HS, Score, ICBHI, ...}``.
#[pyfunction]
fn score<'py>(
    py: Python<'py>,
    task: &str,
    y_true: Vec<Bound<'py, PyAny>>,
    y_pred: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let t = parse_task(task)?;
    if y_true.len() != y_pred.len() {
        return Err(PyValueError::new_err(format!(
            "y_true has {} labels but y_pred has {}",
            y_true.len(),
            y_pred.len()
        )));
    }
    let n_classes = t.n_classes();
    let (mut truth, mut pred) = (Vec::new(), Vec::new());
    let mut unscored = vec![0u64; n_classes];
    for (i, (yt, yp)) in y_true.iter().zip(&y_pred).enumerate() {
        let Some(c) = resolve(t, yt) else {
            return Err(PyValueError::new_err(format!(
                "y_true[{i}] = {} is not a class of task {} (classes {:?}, or their indices, \
                 or a dataset label the task uses)",
                yt.repr()
                    .map_or_else(|_| "?".to_string(), |r| r.to_string()),
                t.as_str(),
                t.class_names()
            )));
        };
        match resolve(t, yp) {
            Some(p) => {
                truth.push(c);
                pred.push(p);
            }
            // The challenge's rule: a missing or unknown prediction is wrong.
            None => unscored[c] += 1,
        }
    }
    let names: Vec<String> = t.class_names().iter().map(|s| s.to_string()).collect();
    let cm = ConfusionMatrix::from_predictions(&truth, &pred, &names).map_err(errors::eval)?;
    let normal = t.normal_class();
    let biocas = BiocasScore::with_unscored(&cm, normal, &unscored).map_err(errors::eval)?;
    let icbhi = IcbhiScore::with_unscored(&cm, normal, &unscored).map_err(errors::eval)?;
    let d = PyDict::new(py);
    d.set_item("task", t.as_str())?;
    d.set_item("SE", biocas.sensitivity)?;
    d.set_item("SP", biocas.specificity)?;
    d.set_item("AS", biocas.average_score)?;
    d.set_item("HS", biocas.harmonic_score)?;
    d.set_item("Score", biocas.score)?;
    d.set_item("ICBHI", icbhi.score)?;
    d.set_item("n", y_true.len())?;
    d.set_item("n_unscored", unscored.iter().sum::<u64>())?;
    d.set_item("classes", names)?;
    // Rows: true class; columns: predicted class; unscored samples are not in it.
    d.set_item("confusion", cm.counts)?;
    Ok(d)
}

/// Adds `score` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(score, m)?)
}

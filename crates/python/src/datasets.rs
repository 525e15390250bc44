//! `load_dataset` and the task label maps, as plain Python dicts and lists.

use std::path::{Path, PathBuf};

use lungsound_datasets::{CycleLabel, RecordLabel, SprEventType};
use lungsound_datasets::{Dataset, EventLabel, Issue, Recording, Task, load_dataset, split_column};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors;

fn path_str(p: &Option<PathBuf>) -> Option<String> {
    p.as_deref().map(|p| p.display().to_string())
}

fn recording<'py>(py: Python<'py>, r: &Recording, split: &str) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", &r.id)?;
    d.set_item("patient", &r.patient)?;
    d.set_item("kind", r.kind.as_str())?;
    d.set_item("audio_path", path_str(&r.audio_path))?;
    d.set_item("annotation_path", path_str(&r.annotation_path))?;
    d.set_item("record_label", r.record_label.map(RecordLabel::as_str))?;
    let events: Vec<(f64, f64, &str)> = r
        .events
        .iter()
        .map(|e| (e.start_s, e.end_s, e.label.as_str()))
        .collect();
    d.set_item("n_events", events.len())?;
    d.set_item("events", events)?;
    d.set_item("location", &r.location)?;
    d.set_item("device", &r.device)?;
    d.set_item("mode", &r.mode)?;
    d.set_item("age_years", r.age_years)?;
    d.set_item("sex", r.sex.map(|s| s.as_str()))?;
    d.set_item("diagnosis", &r.diagnosis)?;
    d.set_item("official_split", r.official_split.map(|s| s.as_str()))?;
    d.set_item("split", (!split.is_empty()).then_some(split))?;
    Ok(d)
}

fn issue<'py>(py: Python<'py>, i: &Issue) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("path", i.path.display().to_string())?;
    d.set_item("line", i.line)?;
    d.set_item("severity", i.severity.as_str())?;
    d.set_item("message", &i.message)?;
    Ok(d)
}

/// load_dataset(path, *, val_fraction=0.2, seed=2022)
/// --
///
/// Read a dataset folder (ICBHI 2017, SPRSound or plain audio, auto-detected) into a dict
/// ``{kind, root, recordings, issues}`` of plain lists and dicts.
#[pyfunction]
#[pyo3(name = "load_dataset", signature = (path, *, val_fraction=0.2, seed=2022))]
fn load_dataset_py<'py>(
    py: Python<'py>,
    path: PathBuf,
    val_fraction: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    if !(0.0..1.0).contains(&val_fraction) {
        return Err(PyValueError::new_err(format!(
            "val_fraction must be in [0, 1), got {val_fraction}"
        )));
    }
    let (ds, splits): (Dataset, Vec<&'static str>) = py
        .detach(|| {
            load_dataset(Path::new(&path)).map(|ds| {
                let splits = split_column(&ds, val_fraction, seed);
                (ds, splits)
            })
        })
        .map_err(errors::datasets)?;
    let recordings = PyList::empty(py);
    for (r, split) in ds.recordings.iter().zip(&splits) {
        recordings.append(recording(py, r, split)?)?;
    }
    let issues = PyList::empty(py);
    for i in &ds.issues {
        issues.append(issue(py, i)?)?;
    }
    let d = PyDict::new(py);
    d.set_item("kind", ds.kind.as_str())?;
    d.set_item("root", ds.root.display().to_string())?;
    d.set_item("recordings", recordings)?;
    d.set_item("issues", issues)?;
    Ok(d)
}

/// Parses a task name (`1-1`, `1-2`, `2-1`, `2-2`, `cycles4`).
pub fn parse_task(task: &str) -> PyResult<Task> {
    task.parse::<Task>().map_err(|_| {
        let names: Vec<&str> = Task::ALL.iter().map(|t| t.as_str()).collect();
        PyValueError::new_err(format!("unknown task {task:?} (expected one of {names:?})"))
    })
}

/// Every dataset label the task uses → its class index.
pub fn label_map(task: Task) -> Vec<(&'static str, usize)> {
    let mut out: Vec<(&'static str, usize)> = Vec::new();
    let mut push = |name: &'static str, class: Option<usize>| {
        if let Some(c) = class
            && !out.iter().any(|(n, _)| *n == name)
        {
            out.push((name, c));
        }
    };
    for t in SprEventType::ALL {
        push(t.as_str(), task.event_class(&EventLabel::Spr(t)));
    }
    for c in CycleLabel::ALL {
        push(c.as_str(), task.event_class(&EventLabel::Cycle(c)));
    }
    for l in RecordLabel::ALL {
        push(l.as_str(), task.record_class(&l));
    }
    out
}

/// task_info(task)
/// --
///
/// ``{name, level, classes, normal_class, label_map}`` of a BioCAS / ICBHI task.
#[pyfunction]
fn task_info<'py>(py: Python<'py>, task: &str) -> PyResult<Bound<'py, PyDict>> {
    let t = parse_task(task)?;
    let d = PyDict::new(py);
    d.set_item("name", t.as_str())?;
    d.set_item(
        "level",
        match t.level() {
            lungsound_datasets::Level::Event => "event",
            lungsound_datasets::Level::Record => "record",
        },
    )?;
    d.set_item("classes", t.class_names().to_vec())?;
    d.set_item("normal_class", t.normal_class())?;
    let map = PyDict::new(py);
    for (name, class) in label_map(t) {
        map.set_item(name, class)?;
    }
    d.set_item("label_map", map)?;
    Ok(d)
}

/// Adds the dataset functions and `TASKS` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load_dataset_py, m)?)?;
    m.add_function(wrap_pyfunction!(task_info, m)?)?;
    let tasks: Vec<&str> = Task::ALL.iter().map(|t| t.as_str()).collect();
    m.add("TASKS", tasks)?;
    Ok(())
}

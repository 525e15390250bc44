//! The models `lungsound predict`, `lungsound serve` and the Python `Predictor` run: a run
//! directory or a folder of run directories, each loaded once, optionally gated by a
//! Normal-vs-abnormal run (the two-stage prediction [`evaluate_run`](crate::evaluate_run)
//! scores with a gate), and what they say about one recording ([`predict_with`],
//! [`FilePrediction`]: one element of `lungsound predict --json`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lungsound_audio::Audio;
use serde::Serialize;
use tch::Device;

use crate::config::CONFIG_FILE;
use crate::error::{Error, Result};
use crate::gate_file::{GATE_FILE, GateChoice, run_gate};
use crate::inference::{Predictor, RecordingPrediction};

/// A loaded run.
#[derive(Debug)]
pub struct LoadedModel {
    /// The run directory's name.
    pub name: String,
    /// The run directory.
    pub dir: PathBuf,
    /// The run, loaded.
    pub predictor: Predictor,
    /// The gate applied to this model's predictions: its own (`gate.json`) or `--gate`'s.
    pub gate: Option<Arc<LoadedModel>>,
}

impl LoadedModel {
    /// Loads the run in `dir` onto `device`.
    ///
    /// # Errors
    /// [`Error::ModelLoad`] naming `dir`, with the reason.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let predictor = Predictor::load(dir, device).map_err(|e| Error::ModelLoad {
            dir: dir.to_path_buf(),
            source: Box::new(e),
        })?;
        Ok(Self {
            name: dir_name(dir),
            dir: dir.to_path_buf(),
            predictor,
            gate: None,
        })
    }

    /// This model's prediction, gated when it has a gate.
    pub fn predict(
        &self,
        audio: &Audio,
        events: Option<&[(f64, f64)]>,
    ) -> Result<RecordingPrediction> {
        match &self.gate {
            Some(gate) => self.predictor.predict_gated(audio, events, &gate.predictor),
            None => self.predictor.predict(audio, events),
        }
    }
}

impl LoadedModel {
    /// The shortest recording this model (and its gate) answers without events.
    pub fn min_duration_s(&self) -> f64 {
        let gate = self
            .gate
            .as_ref()
            .map_or(0.0, |g| g.predictor.min_duration_s());
        self.predictor.min_duration_s().max(gate)
    }

    /// Whether this model classifies events (the others judge the whole recording).
    pub fn is_event_model(&self) -> bool {
        self.predictor.task().level() == lungsound_datasets::Level::Event
    }
}

/// What every loaded model says about one recording.
#[derive(Debug)]
pub struct FileResult {
    /// One prediction per model that could answer, in model order.
    pub predictions: Vec<ModelPrediction>,
    /// Why the others did not ("sprsound-records-2-2: the recording lasts 2.50 s, …").
    pub skipped: Vec<String>,
}

impl FileResult {
    /// Renames the events of every prediction by `indices` (event `i` of the spans given to
    /// [`predict_with`] becomes `indices[i]`), e.g. their positions in the annotation file
    /// they were read from (`lungsound predict --events` lists them by time).
    pub fn use_event_indices(&mut self, indices: &[usize]) {
        for p in &mut self.predictions {
            for e in &mut p.prediction.events {
                e.index = indices.get(e.index).copied().unwrap_or(e.index);
            }
        }
    }
}

/// Runs every model on `audio`, as `predict` and `serve` both do: events go to the event
/// models only (a record model judges the whole recording); a model that needs a longer
/// recording than this one is skipped with a reason when others can answer.
///
/// # Errors
/// The model that failed, with its error.
pub fn predict_with<'a>(
    models: impl IntoIterator<Item = &'a LoadedModel>,
    audio: &Audio,
    events: Option<&[(f64, f64)]>,
) -> std::result::Result<FileResult, (&'a LoadedModel, Error)> {
    let models: Vec<&LoadedModel> = models.into_iter().collect();
    let mut result = FileResult {
        predictions: Vec::with_capacity(models.len()),
        skipped: Vec::new(),
    };
    for &model in &models {
        let spans = events.filter(|_| model.is_event_model());
        let min_s = model.min_duration_s();
        if spans.is_none() && audio.duration_s() < min_s && models.len() > 1 {
            result.skipped.push(format!(
                "{}: the recording lasts {:.2} s, shorter than the {min_s} s this model needs",
                model.name,
                audio.duration_s()
            ));
            continue;
        }
        let prediction = model.predict(audio, spans).map_err(|e| (model, e))?;
        result.predictions.push(ModelPrediction {
            model: model.name.clone(),
            gated_by: model.gate.as_ref().map(|g| g.name.clone()),
            prediction,
        });
    }
    Ok(result)
}

/// All predictions for one file: an element of `predict --json`, and the service's answer
/// (`file` is the path there, the upload's name here).
#[derive(Debug, Serialize)]
pub struct FilePrediction<F> {
    /// The recording: its path, or the upload's name.
    pub file: F,
    /// Its sample rate as decoded (Hz).
    pub sample_rate: u32,
    /// Its duration in seconds, rounded to milliseconds, as the models' own spans are reported.
    pub duration_s: f64,
    /// One prediction per model that could answer, in model order.
    pub predictions: Vec<ModelPrediction>,
    /// Models that could not answer for this recording, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_models: Vec<String>,
}

impl<F> FilePrediction<F> {
    /// The file's entry from what [`predict_with`] returned for its `audio`.
    pub fn new(file: F, audio: &Audio, result: FileResult) -> Self {
        Self {
            file,
            sample_rate: audio.sample_rate,
            duration_s: (audio.duration_s() * 1000.0).round() / 1000.0,
            predictions: result.predictions,
            skipped_models: result.skipped,
        }
    }
}

/// One model's prediction for one recording, as `predict --json` and the
/// service write it.
#[derive(Debug, Serialize)]
pub struct ModelPrediction {
    /// The run directory's name.
    pub model: String,
    /// The gate's run directory name, for a gated prediction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gated_by: Option<String>,
    /// What the model says.
    #[serde(flatten)]
    pub prediction: RecordingPrediction,
}

/// Loads the runs of `model_dir` (see [`run_dirs`]) onto `device`, gated as `gate` says:
///
/// - [`GateChoice::RunDefault`]: each run that names a gate in its `gate.json` is gated by it
///   (a gate two runs name is loaded once); the gate must fit the run.
/// - [`GateChoice::Run`]: every run the gate can gate ([`Predictor::check_gate`]) is gated by
///   it; the others, and the gate itself when it is one of the runs, predict on their own. It
///   must fit at least one.
/// - [`GateChoice::Off`]: no run is gated.
///
/// # Errors
/// A run that cannot be loaded ([`Error::ModelLoad`]), a folder without runs
/// ([`Error::ModelFolder`]), a malformed `gate.json` ([`Error::RunDir`]), or a gate that is no
/// run or does not fit ([`Error::Gate`]).
pub fn load_models(
    model_dir: &Path,
    gate: &GateChoice,
    device: Device,
) -> Result<Vec<LoadedModel>> {
    let mut models = run_dirs(model_dir)?
        .iter()
        .map(|dir| LoadedModel::load(dir, device))
        .collect::<Result<Vec<_>>>()?;
    match gate {
        GateChoice::Off => {}
        GateChoice::Run(gate_dir) => gate_all(&mut models, model_dir, gate_dir, device)?,
        GateChoice::RunDefault => gate_each_by_its_own(&mut models, device)?,
    }
    Ok(models)
}

/// Loads the run in `gate_dir` as a gate.
fn load_gate(gate_dir: &Path, device: Device) -> Result<Arc<LoadedModel>> {
    if !gate_dir.join(CONFIG_FILE).is_file() {
        return Err(Error::Gate {
            message: format!(
                "{}: not a run directory (no {CONFIG_FILE})",
                gate_dir.display()
            ),
            source: None,
        });
    }
    let gate = LoadedModel::load(gate_dir, device).map_err(|e| Error::Gate {
        message: gate_dir.display().to_string(),
        source: Some(Box::new(e)),
    })?;
    Ok(Arc::new(gate))
}

/// Whether two paths name the same directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// [`GateChoice::Run`]: `gate_dir` gates every model it fits, and must fit one.
fn gate_all(
    models: &mut [LoadedModel],
    model_dir: &Path,
    gate_dir: &Path,
    device: Device,
) -> Result<()> {
    let gate = load_gate(gate_dir, device)?;
    let mut reasons = Vec::new();
    for model in models.iter_mut() {
        if same_dir(&model.dir, gate_dir) {
            continue;
        }
        match model.predictor.check_gate(&gate.predictor) {
            Ok(()) => model.gate = Some(Arc::clone(&gate)),
            Err(e) => reasons.push(e.to_string()),
        }
    }
    if models.iter().any(|m| m.gate.is_some()) {
        for reason in &reasons {
            tracing::info!("not gated: {reason}");
        }
        return Ok(());
    }
    Err(Error::Gate {
        message: format!(
            "{} fits none of the models in {}: {}",
            gate_dir.display(),
            model_dir.display(),
            if reasons.is_empty() {
                "it is the only model there".to_string()
            } else {
                join_once(&reasons)
            }
        ),
        source: None,
    })
}

/// [`GateChoice::RunDefault`]: each model that names a gate in its `gate.json` is gated by it.
fn gate_each_by_its_own(models: &mut [LoadedModel], device: Device) -> Result<()> {
    let mut loaded: Vec<Arc<LoadedModel>> = Vec::new();
    for model in models.iter_mut() {
        let Some(gate_dir) = run_gate(&model.dir)? else {
            continue;
        };
        let named_by = |what: &dyn std::fmt::Display| {
            format!("{what} (named by {})", model.dir.join(GATE_FILE).display())
        };
        let gate = match loaded.iter().find(|g| same_dir(&g.dir, &gate_dir)) {
            Some(gate) => Arc::clone(gate),
            None => {
                let gate = load_gate(&gate_dir, device).map_err(|e| match e {
                    Error::Gate { message, source } => Error::Gate {
                        message: named_by(&message),
                        source,
                    },
                    other => other,
                })?;
                loaded.push(Arc::clone(&gate));
                gate
            }
        };
        model
            .predictor
            .check_gate(&gate.predictor)
            .map_err(|e| Error::Gate {
                message: named_by(&gate_dir.display()),
                source: Some(Box::new(e)),
            })?;
        model.gate = Some(gate);
    }
    Ok(())
}

/// The name shown for a run directory: its last component.
fn dir_name(dir: &Path) -> String {
    dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The run directories in `dir`: itself if it holds a config.json, else its
/// sub-folders that do (sorted).
///
/// # Errors
/// [`Error::ModelFolder`]: `dir` cannot be read, or holds no run.
pub fn run_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.join(CONFIG_FILE).is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::ModelFolder {
        message: format!("cannot read model folder {}", dir.display()),
        source: Some(e),
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(CONFIG_FILE).is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(Error::ModelFolder {
            message: format!(
                "{} is neither a run directory (no {CONFIG_FILE}) nor a folder of run directories",
                dir.display()
            ),
            source: None,
        });
    }
    Ok(dirs)
}

/// The reasons joined by "; ", each said once: an explanation the reasons share after their
/// last ": " (the same rule, repeated per model) is written once at the end, and the
/// library's "invalid configuration: " prefix is dropped.
fn join_once(reasons: &[String]) -> String {
    let reasons: Vec<&str> = reasons
        .iter()
        .map(|r| r.strip_prefix("invalid configuration: ").unwrap_or(r))
        .collect();
    let tail = |r: &str| r.rsplit_once(": ").map(|(_, t)| t.to_string());
    let shared = tail(reasons[0]).filter(|t| reasons.iter().all(|r| tail(r).as_deref() == Some(t)));
    match shared {
        Some(t) if reasons.len() > 1 => {
            let heads: Vec<&str> = reasons
                .iter()
                .map(|r| r.rsplit_once(": ").map_or(*r, |(h, _)| h))
                .collect();
            format!("{}: {t}", heads.join("; "))
        }
        _ => reasons.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_explanation_is_said_once() {
        let reasons = vec![
            "invalid configuration: g cannot gate a task 1-1 model: a gate is X".to_string(),
            "invalid configuration: g cannot gate a task 1-2 model: a gate is X".to_string(),
        ];
        assert_eq!(
            join_once(&reasons),
            "g cannot gate a task 1-1 model; g cannot gate a task 1-2 model: a gate is X"
        );
        assert_eq!(
            join_once(&reasons[..1]),
            "g cannot gate a task 1-1 model: a gate is X"
        );
        let different = vec!["a: x".to_string(), "b: y".to_string()];
        assert_eq!(join_once(&different), "a: x; b: y");
    }
}

//! The model seen from the service: the [`Classifier`] trait.
//!
//! This crate does not link libtorch. The `lungsound` binary implements [`Classifier`] with
//! `lungsound_infer::Predictor`; tests, the load benchmark and UI work use
//! [`crate::StandInClassifier`].

use lungsound_audio::Audio;

/// A loaded model that classifies one recording at a time.
///
/// Implementations are shared by all requests (`Arc<dyn Classifier>`) and called from
/// blocking threads, at most [`crate::ServeConfig::max_concurrency`] at once. A panic inside
/// them is caught and answered with 500.
pub trait Classifier: Send + Sync + 'static {
    /// Classifies one decoded recording and returns the same JSON as
    /// `lungsound predict --json` gives for one recording.
    ///
    /// - `audio`: mono samples at the file's own rate (resampling is the model's business);
    ///   never empty, never longer than [`crate::ServeConfig::max_duration_s`], and without
    ///   events never shorter than [`Classifier::min_duration_s`].
    /// - `name`: the uploaded file's name (or `upload` when the client gave none).
    /// - `events`: `(start_s, end_s)` intervals in the order the client gave them, each with
    ///   `0 <= start_s < end_s <= duration`, when the client sent annotations.
    fn predict(
        &self,
        audio: &Audio,
        name: &str,
        events: Option<&[(f64, f64)]>,
    ) -> Result<serde_json::Value, ClassifyError>;

    /// The loaded models as `GET /api/v1/models` lists them (`predict` may run several, as
    /// `lungsound predict` does with a folder of runs): one JSON object each, with at least
    /// `name`, `task` and `classes`, plus what its model card says (metrics, training data).
    /// Called once, when the router is built.
    fn models(&self) -> Vec<serde_json::Value>;

    /// The shortest recording, in seconds, that the model can give a meaningful answer for
    /// when no events are given (a model that pads a 0.2 s clip to its 2 s window answers
    /// with confidence about nothing). Shorter uploads without events are refused with 422
    /// `too_short` naming this minimum, from the file header before decoding where it
    /// tells, so [`Classifier::predict`] never sees them. Called once, when the router is
    /// built. Default 0: no minimum.
    fn min_duration_s(&self) -> f64 {
        0.0
    }
}

/// Why a [`Classifier`] could not classify a recording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    /// The recording or its events cannot be classified by this model (shorter than the
    /// model's input, an event too short to analyse, ...). Answered with 422
    /// `unprocessable_audio` and this message.
    #[error("{0}")]
    Input(String),
    /// The model failed. Answered with 500 `internal_error` with this message (and logged).
    #[error("{0}")]
    Internal(String),
}

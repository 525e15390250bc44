//! [`Predictor`]: a trained run loaded for prediction on new recordings.
//!
//! It rebuilds the feature extractor and the network from the run's
//! `config.json` (through [`ExperimentConfig::model_config`], as training
//! does) and its `model.safetensors`, and computes features exactly as
//! training did (resample, band-pass, clip, spectrogram, f16 rounding, per-bin
//! standardisation, optional resize). The network sits behind a mutex, so a
//! `Predictor` is `Send + Sync` and can be shared (e.g. in an `Arc`) by the
//! threads of a web service; predictions are serialised through it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lungsound_audio::Audio;
use lungsound_datasets::{Level, Task};
use lungsound_features::FeatureExtractor;
use serde::Serialize;
use tch::Device;

use crate::config::{ExperimentConfig, FeatureSettings};
use crate::data::clips::{ClipSpan, window_spans};
use crate::data::{compute_clips, f16};
use crate::ensemble::{FeatureGroup, RunNetworks, same_clips, weighted_mean_rows};
use crate::error::{Error, Result};

/// Clips per forward pass at prediction time.
const PREDICT_BATCH: usize = 32;

/// Without events, a recording shorter than this fraction of the model's clip is refused
/// ([`Predictor::min_duration_s`]): padded up to the clip, a 0.2 s sound in a 2 s window
/// is mostly copies of itself, and the model's confident answer means nothing.
const MIN_CLIP_FRACTION: f64 = 0.5;

/// A loaded run, ready to classify recordings.
pub struct Predictor {
    run_dir: PathBuf,
    config: ExperimentConfig,
    extractor: FeatureExtractor,
    inner: Mutex<RunNetworks>,
}

impl std::fmt::Debug for Predictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Predictor")
            .field("run_dir", &self.run_dir)
            .field("task", &self.config.task)
            .finish()
    }
}

/// The prediction for one recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingPrediction {
    /// The model's task (`"1-1"`, `"2-2"`, …).
    pub task: Task,
    /// Class names in probability order.
    pub classes: Vec<String>,
    /// Length of the recording (s).
    pub duration_s: f64,
    /// Record-level label: the argmax of `probabilities`.
    pub label: String,
    /// Record-level probabilities: the mean of the clip probabilities (the
    /// given events' or the sliding windows'). For a record model (2-1, 2-2)
    /// this is exactly how it was validated; for an event model it is the
    /// average event/window class distribution.
    pub probabilities: Vec<f32>,
    /// With given events: one prediction per event, in the order given.
    /// Empty otherwise.
    pub events: Vec<EventPrediction>,
    /// Without given events: the timeline of sliding windows (window = the
    /// model's clip length, hop = its `window_hop_seconds`), consecutive
    /// windows with the same label merged. Each window owns the stretch of
    /// time closest to its centre, so segments tile the recording without
    /// overlapping. Empty when events were given.
    pub segments: Vec<Segment>,
    /// Events that could not be classified (e.g. past the end of the audio) or
    /// were clipped to its end.
    pub warnings: Vec<String>,
}

/// The prediction for one given event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventPrediction {
    /// Position of the event in the list given to [`Predictor::predict`].
    pub index: usize,
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// Argmax class name.
    pub label: String,
    /// Class probabilities.
    pub probabilities: Vec<f32>,
}

/// The clips of one recording with their features (f16 bits, clip after clip).
struct CutClips {
    spans: Vec<ClipSpan>,
    values: Vec<u16>,
    /// The preprocessed recording the clips were cut from (for ensemble members on other
    /// spectrograms of the same clips).
    samples: Vec<f32>,
    warnings: Vec<String>,
    /// Length of the preprocessed recording (s).
    duration_s: f64,
}

/// The clips of one recording with their class probabilities.
struct ClassifiedClips {
    spans: Vec<ClipSpan>,
    probs: Vec<Vec<f32>>,
    warnings: Vec<String>,
    /// Length of the preprocessed recording (s).
    duration_s: f64,
}

/// A stretch of the timeline with one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// Class name.
    pub label: String,
    /// Mean probability of `label` over the merged windows.
    pub confidence: f32,
    /// Number of windows merged.
    pub windows: usize,
}

impl Predictor {
    /// Loads the run in `run_dir` (its `config.json` and `model.safetensors`) onto `device`.
    pub fn load(run_dir: &Path, device: Device) -> Result<Self> {
        let config = ExperimentConfig::load(run_dir)?;
        let extractor = config.extractor()?;
        let networks = RunNetworks::load(run_dir, &config, device)?;
        Ok(Self {
            run_dir: run_dir.to_path_buf(),
            config,
            extractor,
            inner: Mutex::new(networks),
        })
    }

    /// The run directory it was loaded from.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The run's configuration.
    pub fn config(&self) -> &ExperimentConfig {
        &self.config
    }

    /// The model's task.
    pub fn task(&self) -> Task {
        self.config.task
    }

    /// Class names in probability order.
    pub fn class_names(&self) -> &[String] {
        &self.config.classes
    }

    /// Classifies `audio` (any sample rate; resampled to the model's).
    /// `events` (start, end in seconds) gives one prediction per event;
    /// without it the recording is scanned with sliding windows.
    ///
    /// # Errors
    /// Resampling failure, audio too short for the band-pass filter, or audio
    /// too short to give a single clip; without events, [`Error::NoData`] for a
    /// recording shorter than [`min_duration_s`](Self::min_duration_s).
    pub fn predict(
        &self,
        audio: &Audio,
        events: Option<&[(f64, f64)]>,
    ) -> Result<RecordingPrediction> {
        let clips = self.classify_clips(audio, events)?;
        Ok(self.assemble(clips, events.is_some()))
    }

    /// Checks that `gate` can gate this model in [`predict_gated`](Self::predict_gated):
    /// a Normal-vs-abnormal model of the same dataset that this model's classes fold
    /// into (a 1-1 model for a 1-2 model), whose sliding windows line up with this
    /// model's (same sample rate, clip length and window hop). The windows are
    /// required to line up even though given events would not need it, so that a
    /// pair checked once (as `predict --gate` and `serve --gate` do at start-up)
    /// works for recordings with and without events.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming both run directories and what differs.
    pub fn check_gate(&self, gate: &Predictor) -> Result<()> {
        crate::gate::check_gate_fits(&gate.run_dir, &gate.config, &self.config)?;
        let (ours, theirs) = (&self.config.features, &gate.config.features);
        let windows =
            |f: &crate::config::FeatureSettings| (f.sample_rate, f.clip_samples(), f.hop_samples());
        if windows(ours) != windows(theirs) {
            return Err(Error::InvalidConfig(format!(
                "{} cannot gate {}: its windows do not line up with the model's ({} Hz, clip {} s, hop {} s \
                 vs {} Hz, clip {} s, hop {} s)",
                gate.run_dir.display(),
                self.run_dir.display(),
                theirs.sample_rate,
                theirs.clip_seconds,
                theirs.window_hop_seconds,
                ours.sample_rate,
                ours.clip_seconds,
                ours.window_hop_seconds
            )));
        }
        Ok(())
    }

    /// Two-stage prediction, as `lungsound evaluate --gate` scores: `gate` (a
    /// Normal-vs-abnormal model, see [`check_gate`](Self::check_gate)) gives each
    /// event or window its probability of Normal, and this model splits the rest
    /// over its abnormal classes in proportion to its own probabilities. The
    /// record-level label and the timeline are then built from the combined rows
    /// exactly as [`predict`](Self::predict) builds them.
    ///
    /// # Errors
    /// As [`predict`](Self::predict) and [`check_gate`](Self::check_gate), and
    /// [`Error::NoData`] when the gate cannot classify an event this model can.
    pub fn predict_gated(
        &self,
        audio: &Audio,
        events: Option<&[(f64, f64)]>,
        gate: &Predictor,
    ) -> Result<RecordingPrediction> {
        self.check_gate(gate)?;
        let cut = self.cut_clips(audio, events)?;
        let probs = self.cut_probabilities(&cut, &self.config.features)?;
        let gate_normal = gate.config.task.normal_class();
        let p_normal: Vec<f32> = if same_clips(&gate.config.features, &self.config.features) {
            // The gate cuts the same clips (the shipped pair): it scores these very
            // clips, as `evaluate --gate` reuses the feature set.
            gate.cut_probabilities(&cut, &self.config.features)?
                .iter()
                .map(|p| p[gate_normal])
                .collect()
        } else {
            gate.normal_by_span(audio, events, &cut.spans)?
        };
        let clips = ClassifiedClips {
            probs: crate::gate::gated(&probs, &p_normal, self.config.task.normal_class()),
            spans: cut.spans,
            warnings: cut.warnings,
            duration_s: cut.duration_s,
        };
        Ok(self.assemble(clips, events.is_some()))
    }

    /// This model's (a gate's) probability of Normal for each of `spans`,
    /// computed on its own clips of `audio` and matched by span.
    fn normal_by_span(
        &self,
        audio: &Audio,
        events: Option<&[(f64, f64)]>,
        spans: &[ClipSpan],
    ) -> Result<Vec<f32>> {
        let own = self.classify_clips(audio, events)?;
        let normal = self.config.task.normal_class();
        let key = |s: &ClipSpan| (s.event_index, s.start_s.to_bits(), s.end_s.to_bits());
        let by_span: HashMap<_, f32> = own
            .spans
            .iter()
            .zip(&own.probs)
            .map(|(s, p)| (key(s), p[normal]))
            .collect();
        spans
            .iter()
            .map(|s| {
                by_span.get(&key(s)).copied().ok_or_else(|| {
                    Error::NoData(format!(
                        "the gate {} cannot classify the clip at {:.2}–{:.2} s{}",
                        self.run_dir.display(),
                        s.start_s,
                        s.end_s,
                        s.event_index
                            .map_or(String::new(), |i| format!(" (event {i})"))
                    ))
                })
            })
            .collect()
    }

    /// Cuts `audio` into the model's clips and classifies each (see [`Self::cut_clips`]).
    fn classify_clips(
        &self,
        audio: &Audio,
        events: Option<&[(f64, f64)]>,
    ) -> Result<ClassifiedClips> {
        let cut = self.cut_clips(audio, events)?;
        let probs = self.cut_probabilities(&cut, &self.config.features)?;
        Ok(ClassifiedClips {
            spans: cut.spans,
            probs,
            warnings: cut.warnings,
            duration_s: cut.duration_s,
        })
    }

    /// Resamples, preprocesses and cuts `audio` into the model's clips (the
    /// given events, or sliding windows), with their features.
    fn cut_clips(&self, audio: &Audio, events: Option<&[(f64, f64)]>) -> Result<CutClips> {
        let settings = &self.config.features;
        let min_s = self.min_duration_s();
        if events.is_none() && audio.duration_s() < min_s {
            return Err(Error::NoData(format!(
                "the recording lasts {:.3} s, shorter than the {min_s} s this model needs for an answer \
                 (half its {} s window); give a longer recording, or the events to classify",
                audio.duration_s(),
                settings.clip_seconds
            )));
        }
        let samples = if audio.sample_rate == settings.sample_rate {
            audio.samples.clone()
        } else {
            lungsound_audio::resample(&audio.samples, audio.sample_rate, settings.sample_rate)?
        };
        let samples = crate::data::preprocess(samples, settings)?;
        let duration_s = samples.len() as f64 / f64::from(settings.sample_rate);
        let spans = match events {
            Some(ev) => ev
                .iter()
                .enumerate()
                .map(|(i, &(start_s, end_s))| ClipSpan {
                    start_s,
                    end_s,
                    event_index: Some(i),
                })
                .collect(),
            None => window_spans(
                samples.len(),
                settings.sample_rate,
                settings.clip_samples(),
                settings.hop_samples(),
            ),
        };
        let clips = compute_clips(&samples, settings, &self.extractor, Some(spans));
        // Skipped and clipped events alike (the datasets crate's rule).
        let warnings = clips.warnings();
        if clips.spans.is_empty() {
            return Err(Error::NoData(format!(
                "nothing to classify in a {duration_s:.3} s recording{}",
                warnings
                    .first()
                    .map_or(String::new(), |w| format!(" ({w})"))
            )));
        }
        Ok(CutClips {
            spans: clips.spans,
            values: clips.values,
            samples,
            warnings,
            duration_s,
        })
    }

    /// The record-level label, and the events (`per_event`) or the timeline,
    /// from the clips' probability rows.
    fn assemble(&self, clips: ClassifiedClips, per_event: bool) -> RecordingPrediction {
        let ClassifiedClips {
            spans,
            probs,
            warnings,
            duration_s,
        } = clips;
        let classes = self.config.classes.clone();
        let mut mean = vec![0f64; classes.len()];
        for p in &probs {
            for (m, &v) in mean.iter_mut().zip(p) {
                *m += f64::from(v);
            }
        }
        let probabilities: Vec<f32> = mean
            .iter()
            .map(|m| (m / probs.len() as f64) as f32)
            .collect();
        let label = classes[lungsound_eval::argmax(&probabilities)].clone();
        let (events, segments) = if per_event {
            let events = spans
                .iter()
                .zip(&probs)
                .map(|(s, p)| EventPrediction {
                    index: s.event_index.unwrap_or_default(),
                    start_s: s.start_s,
                    end_s: s.end_s,
                    label: classes[lungsound_eval::argmax(p)].clone(),
                    probabilities: p.clone(),
                })
                .collect();
            (events, Vec::new())
        } else {
            (
                Vec::new(),
                merge_windows(&spans, &probs, &classes, duration_s),
            )
        };
        RecordingPrediction {
            task: self.config.task,
            classes,
            duration_s,
            label,
            probabilities,
            events,
            segments,
            warnings,
        }
    }

    /// The shortest recording (s) this model classifies without events: half
    /// its clip (1 s for a 2 s clip, 4 s for an 8 s one). Events are classified
    /// whatever their length, as in training.
    pub fn min_duration_s(&self) -> f64 {
        MIN_CLIP_FRACTION * self.config.features.clip_seconds
    }

    /// Whether record-level labels are this model's own task (2-1, 2-2).
    pub fn is_record_model(&self) -> bool {
        self.config.task.level() == Level::Record
    }

    /// Class probabilities of the clips of `cut` (cut with `cut_features`, whose clips
    /// are this model's), averaged over its networks: a group of ensemble members on
    /// `cut_features` reads the cut's spectrograms, any other computes its own of the
    /// same clips.
    fn cut_probabilities(
        &self,
        cut: &CutClips,
        cut_features: &FeatureSettings,
    ) -> Result<Vec<Vec<f32>>> {
        let inner = self
            .inner
            .lock()
            .map_err(|_| Error::run_dir(&self.run_dir, "the model lock was poisoned by a panic"))?;
        let mut tables = Vec::with_capacity(inner.groups().len());
        for group in inner.groups() {
            let probs = if &group.features == cut_features {
                group_probabilities(group, &cut.values)
            } else {
                let clips = compute_clips(
                    &cut.samples,
                    &group.features,
                    &group.extractor,
                    Some(cut.spans.clone()),
                );
                if clips.spans != cut.spans {
                    return Err(Error::run_dir(
                        &self.run_dir,
                        "an ensemble member's features do not give the ensemble's clips",
                    ));
                }
                group_probabilities(group, &clips.values)
            };
            tables.push((group.len(), probs));
        }
        Ok(weighted_mean_rows(tables))
    }
}

/// The probabilities of a group's networks for the f16 spectrograms `values`, in batches.
fn group_probabilities(group: &FeatureGroup, values: &[u16]) -> Vec<Vec<f32>> {
    let len = group.clip_len().max(1);
    let mut out = Vec::with_capacity(values.len() / len);
    for chunk in values.chunks(len * PREDICT_BATCH) {
        let host: Vec<f32> = chunk.iter().map(|&h| f16::f16_to_f32(h)).collect();
        out.extend(group.host_probabilities(&host, chunk.len() / len));
    }
    out
}

/// Merges consecutive windows with the same argmax into segments; window
/// `i` owns the time between the midpoints to its neighbours' centres.
fn merge_windows(
    spans: &[ClipSpan],
    probs: &[Vec<f32>],
    classes: &[String],
    duration_s: f64,
) -> Vec<Segment> {
    let centres: Vec<f64> = spans.iter().map(|s| 0.5 * (s.start_s + s.end_s)).collect();
    let bound = |i: usize| -> f64 {
        // boundary between window i-1 and i
        if i == 0 {
            0.0
        } else if i >= spans.len() {
            duration_s
        } else {
            0.5 * (centres[i - 1] + centres[i])
        }
    };
    let mut segments: Vec<Segment> = Vec::new();
    let mut sum = 0f64;
    for (i, p) in probs.iter().enumerate() {
        let c = lungsound_eval::argmax(p);
        match segments.last_mut() {
            Some(last) if last.label == classes[c] => {
                sum += f64::from(p[c]);
                last.windows += 1;
                last.end_s = bound(i + 1);
                last.confidence = (sum / last.windows as f64) as f32;
            }
            _ => {
                sum = f64::from(p[c]);
                segments.push(Segment {
                    start_s: bound(i),
                    end_s: bound(i + 1),
                    label: classes[c].clone(),
                    confidence: p[c],
                    windows: 1,
                });
            }
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_merge_into_tiling_segments() {
        let span = |a: f64| ClipSpan {
            start_s: a,
            end_s: a + 2.0,
            event_index: None,
        };
        let spans = [span(0.0), span(1.0), span(2.0), span(3.0)];
        let probs = vec![
            vec![0.9, 0.1],
            vec![0.7, 0.3],
            vec![0.2, 0.8],
            vec![0.6, 0.4],
        ];
        let classes = vec!["Normal".to_string(), "Adventitious".to_string()];
        let segs = merge_windows(&spans, &probs, &classes, 5.0);
        assert_eq!(segs.len(), 3);
        assert_eq!(
            (segs[0].start_s, segs[0].end_s, segs[0].windows),
            (0.0, 2.5, 2)
        );
        assert!((segs[0].confidence - 0.8).abs() < 1e-6);
        assert_eq!(
            (segs[1].start_s, segs[1].end_s, segs[1].label.as_str()),
            (2.5, 3.5, "Adventitious")
        );
        assert_eq!((segs[2].start_s, segs[2].end_s), (3.5, 5.0));
    }

    #[test]
    fn predictor_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Predictor>();
    }

    /// Issue 13: a 0.2 s clip or a single sample, padded to the 2 s window, used to get a
    /// confident label; without events it is refused now, naming the minimum.
    #[test]
    fn recordings_shorter_than_half_a_window_are_refused_without_events() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/sprsound-events-1-1");
        if !dir.join("model.safetensors").is_file() {
            eprintln!("skipping: no shipped model in {}", dir.display());
            return;
        }
        let predictor = Predictor::load(&dir, Device::Cpu).expect("shipped model");
        assert_eq!(predictor.min_duration_s(), 1.0);
        let audio = |n: usize| Audio {
            samples: lungsound_testutil::white_noise(n, 4),
            sample_rate: 8000,
        };
        for n in [1, 1600, 7999] {
            let err = predictor.predict(&audio(n), None).expect_err("too short");
            assert!(matches!(err, Error::NoData(_)), "{err}");
            assert!(err.to_string().contains("shorter than the 1 s"), "{err}");
        }
        let events = [(0.0, 0.2)];
        assert!(predictor.predict(&audio(1600), Some(&events)).is_ok());
        assert!(predictor.predict(&audio(8000), None).is_ok());
    }
}

//! Building a [`FeatureSet`]: every recording's clips from the cache or computed in
//! parallel, their classes for the task, and (training) their augmented copies.

use std::path::Path;

use indicatif::ProgressBar;
use lungsound_datasets::{Issue, Level, Recording, Task};
use lungsound_features::FeatureExtractor;
use rayon::prelude::*;

use super::cache::{FeatureCache, RecordingClips};
use super::clips::{ClipSpan, clip_labels};
use super::{
    Clip, ClipAugmenter, FeatureSet, Unit, cache_key, compute_clips, event_spans, preprocess,
};
use crate::config::FeatureSettings;
use crate::error::Result;

/// Builds the clips of `recordings` for `task`, from the cache where possible.
///
/// Returns the set plus one [`Issue`] per recording that could not be
/// decoded and per clip that could not be cut. Events that do not fit the
/// audio follow the one rule of
/// [`fit_spans`](lungsound_datasets::fit_spans): one wholly past the end is
/// skipped (`event {i}: … lies past the end of the audio …; skipped`), one
/// overlapping it is clipped to it and still used (with a warning beyond
/// the tolerance), and a recording whose annotations run far past its audio
/// gets one more warning. Recordings without audio, and events/records
/// without a class for `task`, give no clip and no issue.
///
/// # Errors
/// Invalid feature settings, or a cache file that cannot be written.
pub fn build_feature_set(
    recordings: &[&Recording],
    settings: &FeatureSettings,
    task: Task,
    cache: &FeatureCache,
    progress: Option<&ProgressBar>,
) -> Result<(FeatureSet, Vec<Issue>)> {
    build_augmented_feature_set(recordings, settings, task, cache, None, progress)
}

/// [`build_feature_set`] for a **training** split: with `augment`, each
/// selected clip is followed by its augmented copies ([`Clip::augmented`]).
///
/// # Errors
/// As [`build_feature_set`].
pub fn build_augmented_feature_set(
    recordings: &[&Recording],
    settings: &FeatureSettings,
    task: Task,
    cache: &FeatureCache,
    augment: Option<&dyn ClipAugmenter>,
    progress: Option<&ProgressBar>,
) -> Result<(FeatureSet, Vec<Issue>)> {
    let extractor = settings.extractor()?;
    let shape = settings.spectrogram_shape()?;
    let results: Vec<Result<Option<RecordingOutput>, Issue>> = recordings
        .par_iter()
        .map(|rec| {
            let r = recording_clips(rec, settings, task, &extractor, shape, cache, augment);
            if let Some(p) = progress {
                p.inc(1);
            }
            r
        })
        .collect::<Vec<_>>();
    let mut set = FeatureSet {
        shape,
        clips: Vec::new(),
        units: Vec::new(),
        values: Vec::new(),
    };
    let mut issues = Vec::new();
    let clip_len = shape[0] * shape[1];
    for (rec, result) in recordings.iter().zip(results) {
        let out = match result {
            Ok(Some(out)) => out,
            Ok(None) => continue,
            Err(issue) => {
                issues.push(issue);
                continue;
            }
        };
        let clips = &out.clips;
        let path = rec.audio_path.clone().unwrap_or_default();
        issues.extend(
            clips
                .warnings()
                .into_iter()
                .map(|message| Issue::warning(&path, message)),
        );
        for (index, seconds) in &out.too_long {
            issues.push(Issue::info(
                &path,
                format!(
                    "event {index} lasts {seconds:.2} s, more than max_event_seconds ({} s); left out",
                    settings.max_event_seconds.unwrap_or_default()
                ),
            ));
        }
        let record_unit = set.units.len();
        let mut record_has_unit = false;
        let mut unit_of = vec![0usize; clips.spans.len()];
        for (k, (span, &label)) in clips.spans.iter().zip(&out.labels).enumerate() {
            let Some(label) = label else { continue };
            let unit = match task.level() {
                Level::Event => {
                    set.units.push(Unit {
                        record: rec.id.clone(),
                        event_index: span.event_index,
                        label,
                        start_s: span.start_s,
                        end_s: span.end_s,
                    });
                    set.units.len() - 1
                }
                Level::Record => {
                    if !record_has_unit {
                        record_has_unit = true;
                        set.units.push(Unit {
                            record: rec.id.clone(),
                            event_index: None,
                            label,
                            start_s: 0.0,
                            end_s: clips.spans.last().map_or(0.0, |s| s.end_s),
                        });
                    }
                    record_unit
                }
            };
            unit_of[k] = unit;
            set.clips.push(Clip {
                unit,
                label,
                span: *span,
                augmented: None,
            });
            set.values
                .extend_from_slice(&clips.values[k * clip_len..(k + 1) * clip_len]);
        }
        for (j, &(k, copy)) in out.augmented.iter().enumerate() {
            let Some(label) = out.labels[k] else { continue };
            set.clips.push(Clip {
                unit: unit_of[k],
                label,
                span: clips.spans[k],
                augmented: Some(copy),
            });
            set.values
                .extend_from_slice(&out.augmented_values[j * clip_len..(j + 1) * clip_len]);
        }
    }
    Ok((set, issues))
}

/// What one recording contributes to a [`FeatureSet`].
struct RecordingOutput {
    /// Every clip the recording gives (as cached).
    clips: RecordingClips,
    /// The class of each clip for the task (`None`: not used).
    labels: Vec<Option<usize>>,
    /// Events left out by `max_event_seconds`: (index, duration).
    too_long: Vec<(usize, f64)>,
    /// Augmented clips: (index into `clips`, copy number) …
    augmented: Vec<(usize, usize)>,
    /// … and their f16 values.
    augmented_values: Vec<u16>,
}

/// The clips' classes for `task`, with events longer than
/// `max_event_seconds` (event tasks) turned to `None` and listed.
fn usable_labels(
    rec: &Recording,
    task: Task,
    spans: &[ClipSpan],
    settings: &FeatureSettings,
) -> (Vec<Option<usize>>, Vec<(usize, f64)>) {
    let mut labels = clip_labels(rec, task, spans);
    let mut too_long = Vec::new();
    if let (Some(max), Level::Event) = (settings.max_event_seconds, task.level()) {
        for (label, span) in labels.iter_mut().zip(spans) {
            let seconds = span.end_s - span.start_s;
            if label.is_some() && seconds > max {
                *label = None;
                too_long.push((span.event_index.unwrap_or_default(), seconds));
            }
        }
    }
    (labels, too_long)
}

/// Decodes `path`, resamples and [`preprocess`]es it.
fn load_audio(path: &Path, settings: &FeatureSettings) -> Result<Vec<f32>, Issue> {
    let audio = lungsound_audio::load_resampled(path, settings.sample_rate)
        .map_err(|e| Issue::error(path, format!("{e}; recording skipped")))?;
    preprocess(audio.samples, settings)
        .map_err(|e| Issue::error(path, format!("{e}; recording skipped")))
}

/// The clips of one recording (from the cache, or decoded and computed and
/// then cached), their classes, and the augmented clips of the selected
/// ones. `Ok(None)`: nothing to do (no audio, or no events).
fn recording_clips(
    rec: &Recording,
    settings: &FeatureSettings,
    task: Task,
    extractor: &FeatureExtractor,
    shape: [usize; 2],
    cache: &FeatureCache,
    augment: Option<&dyn ClipAugmenter>,
) -> Result<Option<RecordingOutput>, Issue> {
    let Some(audio_path) = rec.audio_path.as_deref() else {
        return Ok(None);
    };
    let level = task.level();
    let spans = match level {
        Level::Event if rec.events.is_empty() => return Ok(None),
        Level::Event => Some(event_spans(rec)),
        Level::Record => None,
    };
    let key = cache_key(audio_path, settings, level, spans.as_deref());
    let cache_path = key.and_then(|key| cache.path(&rec.id, key));
    let mut samples = None;
    let clips = match cache_path.as_ref().and_then(|p| cache.read(p, shape)) {
        Some(clips) => clips,
        None => {
            let decoded = load_audio(audio_path, settings)?;
            let clips = compute_clips(&decoded, settings, extractor, spans);
            if let Some(path) = &cache_path
                && let Err(e) = cache.write(path, &clips, shape)
            {
                tracing::warn!("cannot write the feature cache: {e}");
            }
            samples = Some(decoded);
            clips
        }
    };
    let (labels, too_long) = usable_labels(rec, task, &clips.spans, settings);
    let mut out = RecordingOutput {
        clips,
        labels,
        too_long,
        augmented: Vec::new(),
        augmented_values: Vec::new(),
    };
    let Some(plan) = augment else {
        return Ok(Some(out));
    };
    let jobs = plan.jobs(task, &out.labels);
    if jobs.is_empty() {
        return Ok(Some(out));
    }
    let aug_path =
        key.and_then(|k| cache.path(&format!("{}-aug", rec.id), plan.cache_key(k, &jobs)));
    let cached = aug_path
        .as_ref()
        .and_then(|p| cache.read(p, shape))
        .filter(|c| c.spans.len() == jobs.len());
    out.augmented_values = match cached {
        Some(c) => c.values,
        None => {
            let decoded = match samples {
                Some(s) => s,
                None => load_audio(audio_path, settings)?,
            };
            let values = plan.compute(
                &rec.id,
                &decoded,
                &out.clips.spans,
                &jobs,
                settings,
                extractor,
            );
            if let Some(path) = &aug_path {
                let stored = RecordingClips {
                    spans: jobs.iter().map(|&(k, _)| out.clips.spans[k]).collect(),
                    values,
                    dropped: Vec::new(),
                    notes: Vec::new(),
                };
                if let Err(e) = cache.write(path, &stored, shape) {
                    tracing::warn!("cannot write the feature cache: {e}");
                }
                stored.values
            } else {
                values
            }
        }
    };
    out.augmented = jobs;
    Ok(Some(out))
}

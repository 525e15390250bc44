//! The data pipeline: recordings → fixed-length clips → cached f16
//! spectrograms ([`FeatureSet`]) → standardised batches ([`batch`]).
//!
//! - Event tasks (1-1, 1-2, cycles4): one clip per annotated event, cut at
//!   the annotation's boundaries and fitted to `clip_seconds` (crop from the
//!   start, or pad); one prediction unit per event.
//! - Record tasks (2-1, 2-2): the recording is cut into windows of
//!   `clip_seconds` every `window_hop_seconds` (the last aligned to the end);
//!   every window is a training clip carrying the record's label, and the
//!   record's prediction (its unit) is the mean of its windows' probabilities.
//!
//! Decoding and spectrograms run in parallel (rayon), one recording per
//! task, so at most one decoded recording per thread is in memory. Features
//! are kept as f16 (2 bytes a value: 10k clips of 64 × 188 take 240 MB) and
//! cached on disk ([`FeatureCache`]).
//!
//! Audio path of every clip: decode → resample to `sample_rate` → band-pass
//! (`features.bandpass`, [`preprocess`]) → cut → fit to `clip_seconds` →
//! spectrogram. A training set may add augmented clips ([`ClipAugmenter`]).

mod augmenter;
pub mod batch;
mod build;
mod cache;
pub mod clips;
pub mod f16;

use std::path::Path;

use lungsound_datasets::{Level, fit_spans};
use lungsound_features::FeatureExtractor;

pub use augmenter::ClipAugmenter;
pub use build::{build_augmented_feature_set, build_feature_set};
pub(crate) use cache::RecordingClips;
pub use cache::{FeatureCache, default_cache_dir};
use clips::{ClipSpan, cut_clip, event_spans, window_spans};

use crate::config::{FeatureSettings, Normalization};
use crate::error::{Error, Result};

/// Version of the clip/feature computation; bump it to invalidate every cache.
/// 2: event spans go through `lungsound_datasets::fit_spans` (clipped spans
/// stored with their clipped end, the rule's notes stored beside the clips).
const CACHE_VERSION: u32 = 2;

/// A prediction unit: one event (event tasks) or one recording (record tasks).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Recording id (file stem).
    pub record: String,
    /// The event's position in the recording's annotation as stored (event tasks).
    pub event_index: Option<usize>,
    /// True class.
    pub label: usize,
    /// Span in the recording (s): the event, or the whole recording.
    pub start_s: f64,
    /// See `start_s`.
    pub end_s: f64,
}

/// One clip: which unit it belongs to and where it was cut.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Index into [`FeatureSet::units`].
    pub unit: usize,
    /// True class (the unit's).
    pub label: usize,
    /// Source span in the recording.
    pub span: ClipSpan,
    /// `Some(copy)` for an augmented training clip (copy number of its
    /// source clip, see [`ClipAugmenter`]); `None` for a clip of the recording as is.
    pub augmented: Option<usize>,
}

/// The clips of a set of recordings for one task, with their spectrograms.
#[derive(Debug, Clone)]
pub struct FeatureSet {
    /// `[n_freq, n_frames]` of every clip.
    pub shape: [usize; 2],
    /// One entry per clip, in recording order then clip order.
    pub clips: Vec<Clip>,
    /// The prediction units, in the same order.
    pub units: Vec<Unit>,
    values: Vec<u16>,
}

impl FeatureSet {
    /// Number of clips.
    pub fn len(&self) -> usize {
        self.clips.len()
    }

    /// True when there is no clip.
    pub fn is_empty(&self) -> bool {
        self.clips.is_empty()
    }

    /// Values per clip (`n_freq · n_frames`).
    pub fn clip_len(&self) -> usize {
        self.shape[0] * self.shape[1]
    }

    /// Clip `i`'s spectrogram (row-major `[n_freq, n_frames]`) as f32, into `out`.
    pub fn write_clip(&self, i: usize, out: &mut [f32]) {
        let n = self.clip_len();
        for (o, &h) in out.iter_mut().zip(&self.values[i * n..(i + 1) * n]) {
            *o = f16::f16_to_f32(h);
        }
    }

    /// Number of augmented clips (training sets only).
    pub fn n_augmented(&self) -> usize {
        self.clips.iter().filter(|c| c.augmented.is_some()).count()
    }

    /// Number of clips per class (of the clips, i.e. what the loss sees,
    /// augmented ones included).
    pub fn class_counts(&self, n_classes: usize) -> Vec<usize> {
        let mut counts = vec![0; n_classes];
        for c in &self.clips {
            counts[c.label] += 1;
        }
        counts
    }

    /// Per-frequency-bin mean and standard deviation over every frame of
    /// the **original** clips: augmented clips are left out, so the
    /// statistics (saved in `config.json` and applied at evaluation and
    /// prediction) describe real recordings and do not change with the
    /// augmentation settings.
    pub fn normalization(&self) -> Normalization {
        let [n_freq, n_frames] = self.shape;
        let mut sum = vec![0f64; n_freq];
        let mut sum_sq = vec![0f64; n_freq];
        let originals = self
            .values
            .chunks_exact(self.clip_len().max(1))
            .zip(&self.clips)
            .filter(|(_, c)| c.augmented.is_none())
            .map(|(v, _)| v);
        let mut n_clips = 0usize;
        for clip in originals {
            n_clips += 1;
            for (f, row) in clip.chunks_exact(n_frames).enumerate() {
                for &h in row {
                    let v = f64::from(f16::f16_to_f32(h));
                    sum[f] += v;
                    sum_sq[f] += v * v;
                }
            }
        }
        let count = (n_clips * n_frames).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let std = sum_sq
            .iter()
            .zip(&mean)
            .map(|(sq, m)| ((sq / count - m * m).max(0.0).sqrt() as f32).max(1e-3))
            .collect();
        Normalization {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }
}

/// The signal processing between resampling and clipping: the band-pass
/// filter of `settings.bandpass`, if any (training, evaluation and
/// [`Predictor`](crate::Predictor) all call this).
///
/// # Errors
/// The filter cannot be designed, or the signal is too short for
/// zero-phase filtering.
pub fn preprocess(samples: Vec<f32>, settings: &FeatureSettings) -> Result<Vec<f32>> {
    match &settings.bandpass {
        Some(bandpass) => bandpass.apply(&samples, settings.sample_rate),
        None => Ok(samples),
    }
}

/// Cuts and computes the clips of decoded `samples` (at `settings.sample_rate`):
/// the given event spans, or windows when `spans` is `None`.
///
/// Event spans first go through [`fit_spans`] against the decoded duration:
/// skipped ones land in [`RecordingClips::dropped`], clipped ones are cut
/// (and stored) with their clipped end, and the rule's warnings about kept
/// clips in [`RecordingClips::notes`].
pub(crate) fn compute_clips(
    samples: &[f32],
    settings: &FeatureSettings,
    extractor: &FeatureExtractor,
    spans: Option<Vec<ClipSpan>>,
) -> RecordingClips {
    let clip = settings.clip_samples();
    let sr = f64::from(settings.sample_rate);
    let mut out = RecordingClips {
        spans: Vec::new(),
        values: Vec::new(),
        dropped: Vec::new(),
        notes: Vec::new(),
    };
    let spans = match spans {
        Some(spans) => fit_event_spans(&spans, samples.len() as f64 / sr, &mut out),
        None => window_spans(
            samples.len(),
            settings.sample_rate,
            clip,
            settings.hop_samples(),
        ),
    };
    out.spans.reserve(spans.len());
    let mut scratch = extractor.scratch();
    for span in spans {
        match cut_clip(samples, settings.sample_rate, &span, clip, settings.pad) {
            Some(x) => {
                let spec = extractor.compute_with_scratch(&x, &mut scratch);
                out.values.extend(spec.iter().map(|&v| f16::f32_to_f16(v)));
                out.spans.push(span);
            }
            None => out.dropped.push((
                span.event_index,
                format!(
                    "{:.3}–{:.3} s is shorter than one sample at {} Hz; skipped",
                    span.start_s, span.end_s, settings.sample_rate
                ),
            )),
        }
    }
    out
}

/// The spans to cut after [`fit_spans`] (clipped ends applied); the skipped
/// ones go to `out.dropped`, the notes on used ones and the recording-level
/// warning to `out.notes`. A span without an event index is passed through.
fn fit_event_spans(spans: &[ClipSpan], duration_s: f64, out: &mut RecordingClips) -> Vec<ClipSpan> {
    let fitted = fit_spans(
        spans
            .iter()
            .filter_map(|s| Some((s.event_index?, s.start_s, s.end_s))),
        duration_s,
    );
    out.notes
        .extend(fitted.mismatch.iter().map(|m| (None, m.clone())));
    let mut fits = fitted.spans.iter();
    let mut kept = Vec::with_capacity(spans.len());
    for span in spans {
        let Some(fit) = span.event_index.and_then(|_| fits.next()) else {
            kept.push(*span);
            continue;
        };
        let note = fit
            .note
            .as_ref()
            .map(|(_, m)| (span.event_index, m.clone()));
        if fit.is_used() {
            out.notes.extend(note);
            kept.push(ClipSpan {
                end_s: fit.end_s,
                ..*span
            });
        } else {
            out.dropped.extend(note);
        }
    }
    kept
}

/// The cache key of a recording's clips (`None` when the file cannot be stat'ed:
/// then decoding will report the problem).
fn cache_key(
    audio: &Path,
    settings: &FeatureSettings,
    level: Level,
    spans: Option<&[ClipSpan]>,
) -> Option<u64> {
    let meta = std::fs::metadata(audio).ok()?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let abs = std::path::absolute(audio).unwrap_or_else(|_| audio.to_path_buf());
    let mut key = serde_json::json!({
        "version": CACHE_VERSION,
        "sample_rate": settings.sample_rate,
        "spectrogram": settings.spectrogram,
        "clip_seconds": settings.clip_seconds,
        "pad": settings.pad,
        "window_hop_seconds": if level == Level::Record { Some(settings.window_hop_seconds) } else { None },
        "level": level,
        "audio": abs.to_string_lossy(),
        "size": meta.len(),
        "mtime_ns": mtime.to_string(),
        "spans": spans.map(|s| s.iter().map(|c| (c.start_s, c.end_s, c.event_index)).collect::<Vec<_>>()),
    });
    // Only present when set, so keys of runs without a filter or stack stay as they were.
    if let Some(map) = key.as_object_mut() {
        if let Some(bandpass) = &settings.bandpass {
            map.insert(
                "bandpass".into(),
                serde_json::to_value(bandpass).unwrap_or_default(),
            );
        }
        if !settings.stack.is_empty() {
            map.insert(
                "stack".into(),
                serde_json::to_value(&settings.stack).unwrap_or_default(),
            );
        }
    }
    Some(crate::fsutil::fnv1a(key.to_string().as_bytes()))
}

/// Fails with [`Error::NoData`] when `set` is empty.
pub fn require_clips(set: &FeatureSet, what: &str) -> Result<()> {
    if set.is_empty() {
        return Err(Error::NoData(format!(
            "no {what} clips with a class for this task"
        )));
    }
    Ok(())
}

#[cfg(test)]
impl FeatureSet {
    /// A set with the given clips and units and all-zero 1×1 spectrograms.
    pub(crate) fn for_tests(clips: Vec<Clip>, units: Vec<Unit>) -> Self {
        let values = vec![0; clips.len()];
        Self {
            shape: [1, 1],
            clips,
            units,
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::PathBuf;

    use lungsound_datasets::{
        DatasetKind, Event, EventLabel, Issue, Recording, Severity, SprEventType, Task,
    };

    use super::*;

    const SR: u32 = 8000;

    /// A 2 s recording with events inside (0), overlapping the end by 0.6 s
    /// (1), within the tolerance (2), and wholly past the end (3).
    fn recording(dir: &Path) -> Recording {
        let wav = dir.join("41000000_5.5_0_p1_100.wav");
        let x = lungsound_testutil::sine(440.0, SR, 2.0, 0.3);
        lungsound_testutil::write_wav_i16(&wav, &x, SR);
        let mut rec = Recording::new("41000000_5.5_0_p1_100", DatasetKind::SprSound, "41000000");
        rec.audio_path = Some(wav);
        rec.annotation_path = Some(PathBuf::from("a.json"));
        rec.events = [(0.2, 1.0), (1.5, 2.6), (1.9, 2.03), (2.3, 2.8)]
            .iter()
            .enumerate()
            .map(|(index, &(start_s, end_s))| Event {
                index,
                start_s,
                end_s,
                label: EventLabel::Spr(SprEventType::Wheeze),
            })
            .collect();
        rec
    }

    fn check(set: &FeatureSet, issues: &[Issue], rec: &Recording) {
        let units: Vec<(Option<usize>, f64, f64)> = set
            .units
            .iter()
            .map(|u| (u.event_index, u.start_s, u.end_s))
            .collect();
        assert_eq!(
            units,
            [
                (Some(0), 0.2, 1.0),
                (Some(1), 1.5, 2.0),
                (Some(2), 1.9, 2.0)
            ],
            "clipped events are still scored, the past one is not"
        );
        let messages: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(
            messages[0].starts_with("annotations extend to 2.8 s but the audio decodes to 2.0 s")
        );
        assert!(messages[1].starts_with("event 1: ") && messages[1].contains("clipped"));
        assert_eq!(
            messages[2],
            "event 3: 2.300–2.800 s lies past the end of the audio (2.000 s); skipped"
        );
        assert!(issues.iter().all(|i| i.severity == Severity::Warning
            && Some(i.path.as_path()) == rec.audio_path.as_deref()));
        // The same decisions and messages as the datasets crate's rule.
        let (used, expected) =
            lungsound_datasets::fit_events(&rec.events, 2.0, rec.audio_path.as_deref().unwrap());
        assert_eq!(expected.len(), 3);
        assert_eq!(
            used.iter()
                .map(|e| (Some(e.index), e.start_s, e.end_s))
                .collect::<Vec<_>>(),
            units
        );
        for (got, want) in issues.iter().zip(&expected) {
            assert_eq!(got.message, want.message);
        }
    }

    #[test]
    fn data_events_that_do_not_fit_the_audio_follow_the_datasets_rule() {
        let dir = tempfile::tempdir().unwrap();
        let rec = recording(dir.path());
        let settings = FeatureSettings::default();
        for cache in [
            FeatureCache::disabled(),
            FeatureCache::new(dir.path().join("cache")),
            FeatureCache::new(dir.path().join("cache")), // read back from the cache
        ] {
            let (set, issues) =
                build_feature_set(&[&rec], &settings, Task::EventMulti, &cache, None).unwrap();
            check(&set, &issues, &rec);
        }
    }

    #[test]
    fn data_windows_pass_through_the_fit_untouched() {
        let settings = FeatureSettings::default();
        let extractor = settings.extractor().unwrap();
        let samples = vec![0.1f32; 2 * SR as usize];
        let span = |start_s, end_s, event_index| ClipSpan {
            start_s,
            end_s,
            event_index,
        };
        let clips = compute_clips(
            &samples,
            &settings,
            &extractor,
            Some(vec![
                span(0.0, 1.0, None),
                span(2.5, 3.0, Some(7)),
                span(1.0, 2.0, None),
            ]),
        );
        assert_eq!(clips.spans, [span(0.0, 1.0, None), span(1.0, 2.0, None)]);
        assert_eq!(clips.dropped.len(), 1);
        assert_eq!(clips.dropped[0].0, Some(7));
        let warnings = clips.warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("is the file truncated"));
        assert!(
            warnings[1].starts_with("event 7: ")
                && warnings[1].contains("past the end of the audio")
        );
    }

    #[test]
    fn data_a_stack_changes_the_cache_key_and_no_stack_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let rec = recording(dir.path());
        let plain = FeatureSettings::default();
        let audio = rec.audio_path.clone().unwrap();
        let key = |s: &FeatureSettings| cache_key(&audio, s, Level::Event, None);
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json.get("stack").is_none(), "no stack key in {json}");
        let stacked = FeatureSettings {
            stack: vec![plain.spectrogram.clone()],
            ..plain.clone()
        };
        assert!(key(&plain).is_some());
        assert_ne!(key(&plain), key(&stacked));
        assert_eq!(key(&plain), key(&plain.clone()));
    }
}

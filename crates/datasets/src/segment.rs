//! Cutting recordings into clips: one per annotated event (cycle), or fixed
//! windows for unannotated recordings, optionally resampled and cropped or
//! padded to a fixed length; and writing a whole dataset's clips as WAV
//! files plus `manifest.csv`.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use lungsound_audio::Audio;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::label::{EventLabel, RecordLabel};
use crate::manifest::{MANIFEST_FILE, ManifestLayout, ManifestRow, ManifestWriter};
use crate::recording::{Dataset, Issue, Recording};
use crate::split::{DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, split_column};

/// Events may end this far past the end of the audio (annotation rounding)
/// and are then clipped to it silently; further, they are clipped with a
/// warning (see [`fit_spans`](crate::fit_spans), the one rule for
/// annotations that do not fit the audio).
pub const END_TOLERANCE_S: f64 = 0.05;

/// How [`fit_length`] fills a clip shorter than the target length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PadMode {
    /// Append zeros (silence).
    #[default]
    Zero,
    /// Repeat the clip from its start until it is long enough.
    Repeat,
    /// Leave short clips short (long ones are still cropped).
    None,
}

impl PadMode {
    /// `zero`, `repeat` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            PadMode::Zero => "zero",
            PadMode::Repeat => "repeat",
            PadMode::None => "none",
        }
    }
}

impl fmt::Display for PadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PadMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zero" => Ok(PadMode::Zero),
            "repeat" => Ok(PadMode::Repeat),
            "none" => Ok(PadMode::None),
            _ => Err(Error::UnknownName {
                what: "pad mode",
                value: s.to_string(),
                expected: "zero, repeat, none".into(),
            }),
        }
    }
}

/// Crops `samples` to its first `n` samples, or pads it to `n` as `pad`
/// says (`PadMode::None` returns short input unchanged).
pub fn fit_length(samples: &[f32], n: usize, pad: PadMode) -> Vec<f32> {
    if samples.len() >= n {
        return samples[..n].to_vec();
    }
    match pad {
        PadMode::None => samples.to_vec(),
        PadMode::Zero => {
            let mut v = samples.to_vec();
            v.resize(n, 0.0);
            v
        }
        PadMode::Repeat if samples.is_empty() => vec![0.0; n],
        PadMode::Repeat => samples.iter().copied().cycle().take(n).collect(),
    }
}

/// How clips are cut.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SegmentConfig {
    /// Resample to this rate (Hz) before cutting; `None` keeps each file's rate.
    pub sample_rate: Option<u32>,
    /// Crop/pad every clip to this many seconds (`> 0`); `None` keeps each
    /// event's own length. Also the window length for unannotated recordings.
    pub length_s: Option<f64>,
    /// How short clips are padded when `length_s` is set. Default: zero.
    pub pad: PadMode,
}

impl SegmentConfig {
    fn validate(&self) -> Result<(), Error> {
        if self.sample_rate == Some(0) {
            return Err(Error::InvalidArgument(
                "sample_rate must be > 0, got 0".into(),
            ));
        }
        if let Some(l) = self.length_s
            && !(l.is_finite() && l > 0.0)
        {
            return Err(Error::InvalidArgument(format!(
                "length_s must be a positive number of seconds, got {l}"
            )));
        }
        Ok(())
    }
}

/// One clip cut from a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// File name: `{recording}_{event_index:03}.wav`.
    pub name: String,
    /// Recording id.
    pub recording: String,
    /// Patient of the recording.
    pub patient: String,
    /// The event's stored position (window number for unannotated audio).
    pub event_index: usize,
    /// Start in the recording, seconds.
    pub start_s: f64,
    /// End in the recording, seconds (clipped to the audio's end if needed).
    pub end_s: f64,
    /// Event label; `None` for windows of unannotated recordings.
    pub label: Option<EventLabel>,
    /// Record label of the recording (SPRSound).
    pub record_label: Option<RecordLabel>,
    /// Mono samples, after resampling and `fit_length`.
    pub samples: Vec<f32>,
    /// Sample rate of `samples`, Hz.
    pub sample_rate: u32,
}

/// Clips of one recording plus the events that could not be cut.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Segmented {
    /// Clips in event order as stored.
    pub clips: Vec<Clip>,
    /// Per-event problems (past the end of the audio, clipped, too short).
    pub issues: Vec<Issue>,
}

/// Cuts `audio` (the decoded audio of `rec`) into clips.
///
/// Each event becomes a clip named `{id}_{event.index:03}`. Events that do
/// not fit the audio follow [`fit_spans`](crate::fit_spans): one wholly past
/// the end is skipped, one overlapping it is clipped to it (silently within
/// [`END_TOLERANCE_S`]), each with its issue; an event shorter than a sample
/// is skipped (an error issue). A recording without an
/// annotation file (a user's folder) is cut into consecutive windows of
/// `length_s` (the whole recording if `None`); a last partial window is kept
/// when it is at least half a window (or the only one). Annotated recordings
/// without events (Poor Quality records) give no clips.
pub fn segment_recording(
    rec: &Recording,
    audio: &Audio,
    cfg: &SegmentConfig,
) -> Result<Segmented, Error> {
    cfg.validate()?;
    let resampled;
    let (samples, sr): (&[f32], u32) = match cfg.sample_rate {
        Some(sr) if sr != audio.sample_rate => {
            resampled = lungsound_audio::resample(&audio.samples, audio.sample_rate, sr)?;
            (&resampled, sr)
        }
        _ => (&audio.samples, audio.sample_rate),
    };
    if sr == 0 {
        return Err(Error::InvalidArgument(format!(
            "{}: audio sample rate is 0",
            rec.id
        )));
    }
    let n_total = samples.len();
    let duration_s = n_total as f64 / sr as f64;
    let target_n = cfg.length_s.map(|l| (l * sr as f64).round() as usize);
    let path = rec
        .audio_path
        .clone()
        .or_else(|| rec.annotation_path.clone())
        .unwrap_or_else(|| PathBuf::from(&rec.id));
    let mut out = Segmented::default();
    let mut push =
        |index: usize, start_s: f64, end_s: f64, label: Option<EventLabel>, a: usize, b: usize| {
            let raw = &samples[a..b];
            let samples = match target_n {
                Some(n) => fit_length(raw, n, cfg.pad),
                None => raw.to_vec(),
            };
            out.clips.push(Clip {
                name: format!("{}_{index:03}.wav", rec.id),
                recording: rec.id.clone(),
                patient: rec.patient.clone(),
                event_index: index,
                start_s,
                end_s,
                label,
                record_label: rec.record_label,
                samples,
                sample_rate: sr,
            });
        };

    if rec.annotation_path.is_none() && rec.events.is_empty() {
        let win = target_n.unwrap_or(n_total).max(1);
        let mut k = 0;
        while k * win < n_total {
            let a = k * win;
            let b = (a + win).min(n_total);
            if k == 0 || (b - a) * 2 >= win {
                push(k, a as f64 / sr as f64, b as f64 / sr as f64, None, a, b);
            }
            k += 1;
        }
        return Ok(out);
    }

    let fitted = crate::fit::fit_spans(
        rec.events.iter().map(|e| (e.index, e.start_s, e.end_s)),
        duration_s,
    );
    let mut issues = fitted.issues(&path);
    for (e, fit) in rec.events.iter().zip(&fitted.spans) {
        if !fit.is_used() {
            continue;
        }
        let end_s = fit.end_s;
        let a = ((e.start_s * sr as f64).round() as usize).min(n_total);
        let b = ((end_s * sr as f64).round() as usize).min(n_total);
        if b <= a {
            issues.push(Issue::error(
                &path,
                format!(
                    "event {}: shorter than one sample at {sr} Hz; skipped",
                    e.index
                ),
            ));
            continue;
        }
        push(e.index, e.start_s, end_s, Some(e.label), a, b);
    }
    out.issues = issues;
    Ok(out)
}

/// What [`segment_dataset`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SegmentReport {
    /// Where the clips and the manifest are.
    pub out_dir: PathBuf,
    /// `out_dir/manifest.csv`.
    pub manifest_path: PathBuf,
    /// Recordings whose audio was decoded and cut.
    pub n_recordings: usize,
    /// Clips written.
    pub n_clips: usize,
    /// Clips written per label (`""` for unlabelled windows).
    pub clips_per_label: BTreeMap<String, usize>,
    /// Recordings skipped because they have no audio file.
    pub skipped_no_audio: usize,
    /// Per-file and per-event problems (corrupt audio, events past the end…).
    pub errors: Vec<Issue>,
}

/// Cuts every recording with audio into clips, writes each as a 32-bit float
/// WAV `{recording}_{event_index:03}.wav` in `out_dir`, and writes
/// `manifest.csv` (one [`ManifestRow`] per clip, through [`ManifestWriter`]) with columns
/// `clip,recording,patient,start_s,end_s,label,split,record_label,crackles,wheezes`
/// (`label`/`record_label` as the dataset writes them; `crackles`/`wheezes`
/// `0`/`1` for ICBHI cycles, empty otherwise).
///
/// `split`: ICBHI's official `train`/`test`; otherwise `train`/`val` from
/// [`patient_split`](crate::patient_split) with [`DEFAULT_VAL_FRACTION`] and
/// [`DEFAULT_SPLIT_SEED`]; empty for plain folders (see
/// [`segment_dataset_with_splits`] to choose).
///
/// Recordings are decoded in parallel in chunks of a few per thread, so only
/// that many recordings are in memory at once; `progress(done, total)` is
/// called (on the calling thread) after each chunk. A recording that fails
/// to decode or write is reported in `errors` and the batch goes on.
pub fn segment_dataset(
    dataset: &Dataset,
    cfg: &SegmentConfig,
    out_dir: &Path,
    progress: &dyn Fn(usize, usize),
) -> Result<SegmentReport, Error> {
    let splits = split_column(dataset, DEFAULT_VAL_FRACTION, DEFAULT_SPLIT_SEED);
    segment_dataset_with_splits(dataset, cfg, out_dir, &splits, progress)
}

/// [`segment_dataset`] with the `split` column given per recording
/// (`splits[i]` for `dataset.recordings[i]`, e.g. from
/// [`split_column`](crate::split_column)).
pub fn segment_dataset_with_splits(
    dataset: &Dataset,
    cfg: &SegmentConfig,
    out_dir: &Path,
    splits: &[&str],
    progress: &dyn Fn(usize, usize),
) -> Result<SegmentReport, Error> {
    cfg.validate()?;
    if splits.len() != dataset.recordings.len() {
        return Err(Error::InvalidArgument(format!(
            "splits must have one entry per recording ({}), got {}",
            dataset.recordings.len(),
            splits.len()
        )));
    }
    fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let manifest_path = out_dir.join(MANIFEST_FILE);
    let mut writer = ManifestWriter::create(&manifest_path, ManifestLayout::default())?;

    let mut report = SegmentReport {
        out_dir: out_dir.to_path_buf(),
        manifest_path: manifest_path.clone(),
        ..SegmentReport::default()
    };
    let work: Vec<(&Recording, &str)> = dataset
        .recordings
        .iter()
        .zip(splits.iter().copied())
        .filter(|(r, _)| r.audio_path.is_some())
        .collect();
    report.skipped_no_audio = dataset.recordings.len() - work.len();
    if report.skipped_no_audio > 0 {
        report.errors.push(Issue::info(
            &dataset.root,
            format!(
                "{} recordings have no audio file; skipped",
                report.skipped_no_audio
            ),
        ));
    }

    let total = work.len();
    let chunk = (rayon::current_num_threads() * 2).max(2);
    let mut done = 0;
    progress(0, total);
    for part in work.chunks(chunk) {
        let results: Vec<(Vec<ManifestRow>, Vec<Issue>, bool)> = part
            .par_iter()
            .map(|(rec, split)| cut_and_write(rec, split, cfg, out_dir))
            .collect();
        for (rows, issues, ok) in results {
            for row in &rows {
                *report.clips_per_label.entry(row.label.clone()).or_default() += 1;
                writer.write_row(row)?;
            }
            report.n_clips += rows.len();
            report.n_recordings += usize::from(ok);
            report.errors.extend(issues);
        }
        done += part.len();
        progress(done, total);
    }
    writer.finish()?;
    Ok(report)
}

/// Decodes, cuts and writes one recording: manifest rows, issues, decoded?
fn cut_and_write(
    rec: &Recording,
    split: &str,
    cfg: &SegmentConfig,
    out_dir: &Path,
) -> (Vec<ManifestRow>, Vec<Issue>, bool) {
    let Some(path) = &rec.audio_path else {
        return (Vec::new(), Vec::new(), false);
    };
    let loaded = match cfg.sample_rate {
        Some(sr) => lungsound_audio::load_resampled(path, sr),
        None => lungsound_audio::load(path).map(|(a, _)| a),
    };
    let audio = match loaded {
        Ok(a) => a,
        Err(e) => {
            return (
                Vec::new(),
                vec![Issue::error(
                    path,
                    format!("cannot decode audio: {e}; recording skipped"),
                )],
                false,
            );
        }
    };
    let seg = match segment_recording(rec, &audio, cfg) {
        Ok(s) => s,
        Err(e) => return (Vec::new(), vec![Issue::error(path, e.to_string())], false),
    };
    let mut issues = seg.issues;
    let mut rows = Vec::with_capacity(seg.clips.len());
    for clip in seg.clips {
        let clip_path = out_dir.join(&clip.name);
        if let Err(e) = lungsound_audio::write_wav(&clip_path, &clip.samples, clip.sample_rate) {
            issues.push(Issue::error(&clip_path, format!("cannot write clip: {e}")));
            continue;
        }
        let (crackles, wheezes) = match clip.label {
            Some(EventLabel::Cycle(c)) => (Some(c.crackles()), Some(c.wheezes())),
            _ => (None, None),
        };
        rows.push(ManifestRow {
            clip: clip.name,
            recording: clip.recording,
            patient: clip.patient,
            start_s: clip.start_s,
            end_s: clip.end_s,
            label: clip.label.map(|l| l.to_string()).unwrap_or_default(),
            split: split.to_string(),
            record_label: clip.record_label.map(|l| l.to_string()).unwrap_or_default(),
            crackles,
            wheezes,
            ..ManifestRow::default()
        });
    }
    (rows, issues, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::CycleLabel;
    use crate::recording::{DatasetKind, Event, Severity};

    #[test]
    fn fit_length_crops_and_pads() {
        let x = [1.0, 2.0, 3.0];
        assert_eq!(fit_length(&x, 2, PadMode::Zero), vec![1.0, 2.0]);
        assert_eq!(
            fit_length(&x, 5, PadMode::Zero),
            vec![1.0, 2.0, 3.0, 0.0, 0.0]
        );
        assert_eq!(
            fit_length(&x, 7, PadMode::Repeat),
            vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0]
        );
        assert_eq!(fit_length(&x, 5, PadMode::None), vec![1.0, 2.0, 3.0]);
        assert_eq!(fit_length(&[], 2, PadMode::Repeat), vec![0.0, 0.0]);
        assert_eq!("Repeat".parse::<PadMode>().unwrap(), PadMode::Repeat);
        assert!("reflect".parse::<PadMode>().is_err());
    }

    fn rec_with(events: &[(f64, f64)]) -> Recording {
        let mut r = Recording::new("r", DatasetKind::Icbhi, "1");
        r.annotation_path = Some(PathBuf::from("r.txt"));
        r.events = events
            .iter()
            .enumerate()
            .map(|(index, &(start_s, end_s))| Event {
                index,
                start_s,
                end_s,
                label: EventLabel::Cycle(CycleLabel::Wheeze),
            })
            .collect();
        r
    }

    #[test]
    fn events_past_the_end_are_clipped_or_skipped_by_the_one_rule() {
        let audio = Audio {
            samples: (0..1000).map(|i| i as f32).collect(),
            sample_rate: 100,
        }; // 10 s
        let rec = rec_with(&[(1.0, 2.0), (9.5, 10.03), (9.9, 10.2), (10.5, 11.0)]);
        let cfg = SegmentConfig::default();
        let s = segment_recording(&rec, &audio, &cfg).unwrap();
        assert_eq!(s.clips.len(), 3);
        assert_eq!(s.clips[0].samples.len(), 100);
        assert_eq!(s.clips[0].samples[0], 100.0);
        assert_eq!(s.clips[0].name, "r_000.wav");
        // within the tolerance: clipped silently
        assert_eq!(s.clips[1].samples.len(), 50);
        assert_eq!(s.clips[1].end_s, 10.0);
        // beyond it: clipped with a warning
        assert_eq!(s.clips[2].samples.len(), 10);
        assert_eq!(s.clips[2].end_s, 10.0);
        let sev: Vec<Severity> = s.issues.iter().map(|i| i.severity).collect();
        assert_eq!(
            sev,
            vec![Severity::Warning, Severity::Warning, Severity::Warning]
        );
        // 2 of 4 events past the end: the whole-recording warning first
        assert!(s.issues[0].message.contains("is the file truncated"));
        assert!(s.issues[1].message.starts_with("event 2: "));
        assert!(s.issues[1].message.contains("clipped"));
        assert!(s.issues[2].message.starts_with("event 3: "));
        assert!(s.issues[2].message.contains("past the end of the audio"));
        let expected = crate::fit_events(&rec.events, 10.0, Path::new("r.txt"));
        assert_eq!(s.issues, expected.1);

        let cfg = SegmentConfig {
            length_s: Some(1.5),
            pad: PadMode::Repeat,
            ..SegmentConfig::default()
        };
        let s = segment_recording(&rec, &audio, &cfg).unwrap();
        assert!(s.clips.iter().all(|c| c.samples.len() == 150));
        assert_eq!(s.clips[0].samples[100], 100.0);
    }

    #[test]
    fn unannotated_audio_is_windowed() {
        let audio = Audio {
            samples: vec![0.5; 1070],
            sample_rate: 100,
        };
        let mut rec = Recording::new("u", DatasetKind::Folder, "u");
        rec.audio_path = Some(PathBuf::from("u.wav"));
        let cfg = SegmentConfig {
            length_s: Some(2.0),
            ..SegmentConfig::default()
        };
        let s = segment_recording(&rec, &audio, &cfg).unwrap();
        // 5 full windows; the 0.7 s tail is less than half a window
        assert_eq!(s.clips.len(), 5);
        assert!(
            s.clips
                .iter()
                .all(|c| c.samples.len() == 200 && c.label.is_none())
        );
        let whole = segment_recording(&rec, &audio, &SegmentConfig::default()).unwrap();
        assert_eq!(whole.clips.len(), 1);
        assert_eq!(whole.clips[0].samples.len(), 1070);
    }

    #[test]
    fn bad_config_is_rejected() {
        let audio = Audio {
            samples: vec![0.0; 10],
            sample_rate: 10,
        };
        let cfg = SegmentConfig {
            length_s: Some(-1.0),
            ..SegmentConfig::default()
        };
        assert!(segment_recording(&rec_with(&[]), &audio, &cfg).is_err());
    }
}

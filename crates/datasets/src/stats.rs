//! Dataset statistics for `lungsound analyze`: counts, durations,
//! demographics and split balance, as one serialisable [`DatasetSummary`].
//! Rendering (plots, Markdown) is the report crate's job; raw duration lists
//! are included so it can draw its own histograms.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;

use crate::label::{CycleLabel, RecordLabel, SprEventType};
use crate::recording::{Dataset, DatasetKind, Issue, Recording, Severity, Split};

/// A named count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Label, device, location, … (`"unknown"` where not recorded).
    pub name: String,
    /// How many.
    pub count: usize,
}

/// Summary statistics of a list of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Number of values.
    pub n: usize,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (mean of the middle two for even `n`).
    pub median: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Sum of the values.
    pub total: f64,
}

impl Stats {
    /// Statistics of `values`; `None` when it is empty.
    pub fn of(values: &[f64]) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let total: f64 = v.iter().sum();
        let mean = total / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Stats {
            n,
            min: v[0],
            max: v[n - 1],
            mean,
            median,
            std: var.sqrt(),
            total,
        })
    }
}

/// Durations of the events of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelDurations {
    /// Event label as the dataset writes it.
    pub label: String,
    /// Statistics of the durations (`None` when there are no such events).
    pub stats: Option<Stats>,
    /// Every duration, seconds, in recording then file order.
    pub durations_s: Vec<f64>,
}

/// One patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatientSummary {
    /// Patient id.
    pub patient: String,
    /// Recordings of this patient.
    pub n_recordings: usize,
    /// Events over those recordings.
    pub n_events: usize,
    /// Age in years, where known.
    pub age_years: Option<f64>,
    /// `Male`/`Female`, where known.
    pub sex: Option<String>,
    /// Diagnosis, where known (ICBHI).
    pub diagnosis: Option<String>,
    /// Official split of the patient's recordings (ICBHI), `mixed` if they differ.
    pub official_split: Option<String>,
}

/// Class balance of one side of the official split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitBalance {
    /// `train` or `test`.
    pub split: String,
    /// Recordings on this side.
    pub n_recordings: usize,
    /// Patients on this side.
    pub n_patients: usize,
    /// Events (cycles) per label.
    pub event_counts: Vec<Count>,
    /// Records per record label.
    pub record_label_counts: Vec<Count>,
}

/// Recording durations read from the audio headers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioSummary {
    /// Duration of every recording with readable audio, seconds (dataset order).
    pub durations_s: Vec<f64>,
    /// Statistics of `durations_s`.
    pub stats: Option<Stats>,
    /// Recordings per sample rate (`"44100"`, …).
    pub sample_rates: Vec<Count>,
    /// Files whose header could not be read.
    pub errors: Vec<Issue>,
}

/// Everything `analyze` reports about a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetSummary {
    /// Reader used.
    pub kind: DatasetKind,
    /// Folder loaded.
    pub root: PathBuf,
    /// Recordings.
    pub n_recordings: usize,
    /// Recordings with an audio file.
    pub n_with_audio: usize,
    /// Distinct patients.
    pub n_patients: usize,
    /// Events / cycles.
    pub n_events: usize,
    /// Events per label, in class order, zero counts included.
    pub event_counts: Vec<Count>,
    /// Number of events of every recording (dataset order).
    pub events_per_recording: Vec<usize>,
    /// Records per record label, in class order (SPRSound; empty otherwise).
    pub record_label_counts: Vec<Count>,
    /// Recordings per device (`unknown` where not recorded).
    pub device_counts: Vec<Count>,
    /// Recordings per chest location.
    pub location_counts: Vec<Count>,
    /// Recordings per acquisition mode (ICBHI `sc`/`mc`).
    pub mode_counts: Vec<Count>,
    /// Patients per diagnosis (ICBHI).
    pub diagnosis_counts: Vec<Count>,
    /// Patients per sex (`Male`, `Female`, `unknown`).
    pub sex_counts: Vec<Count>,
    /// Known patient ages, years, one per patient (patient order).
    pub ages_years: Vec<f64>,
    /// Statistics of `ages_years`.
    pub age_stats: Option<Stats>,
    /// Every event duration, seconds (recording then file order).
    pub event_durations_s: Vec<f64>,
    /// Statistics of `event_durations_s`.
    pub event_duration_stats: Option<Stats>,
    /// Event durations per label, in class order.
    pub event_durations_by_label: Vec<LabelDurations>,
    /// Per patient, sorted by patient id.
    pub patients: Vec<PatientSummary>,
    /// Official train/test balance (ICBHI), when the dataset has a split.
    pub official_split: Option<Vec<SplitBalance>>,
    /// Recording durations; `None` unless requested.
    pub audio: Option<AudioSummary>,
    /// Number of issues (`issues.len()`).
    pub n_issues: usize,
    /// Issues per severity.
    pub issues_by_severity: Vec<Count>,
    /// Every issue: the loader's, then the audio headers' that could not be
    /// read, then (with durations) the events that do not fit their audio
    /// ([`fit_events`](crate::fit_events)).
    pub issues: Vec<Issue>,
}

/// Labels in class order for the dataset kind, so zero counts show too.
fn event_label_order(kind: DatasetKind) -> Vec<String> {
    match kind {
        DatasetKind::Icbhi => CycleLabel::ALL.iter().map(|l| l.to_string()).collect(),
        DatasetKind::SprSound => SprEventType::ALL.iter().map(|l| l.to_string()).collect(),
        DatasetKind::Folder => Vec::new(),
    }
}

/// Counts `names`, listing `order` first (zeros included), then any others
/// by decreasing count.
fn count(names: impl Iterator<Item = String>, order: &[String]) -> Vec<Count> {
    let mut m: HashMap<String, usize> = HashMap::new();
    for n in names {
        *m.entry(n).or_default() += 1;
    }
    let mut out: Vec<Count> = order
        .iter()
        .map(|n| Count {
            name: n.clone(),
            count: m.remove(n).unwrap_or(0),
        })
        .collect();
    let mut rest: Vec<Count> = m
        .into_iter()
        .map(|(name, count)| Count { name, count })
        .collect();
    rest.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    out.extend(rest);
    out
}

fn or_unknown(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "unknown".into())
}

fn event_names<'a>(recs: impl Iterator<Item = &'a Recording>) -> impl Iterator<Item = String> {
    recs.flat_map(|r| r.events.iter().map(|e| e.label.to_string()))
}

/// Summarises `dataset`. With `durations`, every audio header is probed (in
/// parallel, no decoding) for recording durations and sample rates, and the
/// events of each recording with readable audio go through the one rule for
/// annotations that do not fit the audio ([`fit_events`](crate::fit_events)):
/// every event count and duration is then of the events `segment` and
/// training would use (skipped ones left out, clipped ones clipped), and the
/// rule's issues are among [`DatasetSummary::issues`].
pub fn summarize(dataset: &Dataset, durations: bool) -> DatasetSummary {
    let mut issues = dataset.issues.clone();
    let (audio, fitted) = if durations {
        let probed = probe_each(&dataset.recordings);
        let mut recs = dataset.recordings.clone();
        let mut fit_issues = Vec::new();
        for (r, p) in recs.iter_mut().zip(&probed) {
            if let (Some(Ok((duration_s, _))), Some(path)) = (p, &r.audio_path) {
                let (events, iss) = crate::fit::fit_events(&r.events, *duration_s, path);
                r.events = events;
                fit_issues.extend(iss);
            }
        }
        let audio = audio_summary(probed);
        issues.extend(audio.errors.iter().cloned());
        issues.extend(fit_issues);
        (Some(audio), Some(recs))
    } else {
        (None, None)
    };
    let recs: &[Recording] = fitted.as_deref().unwrap_or(&dataset.recordings);
    let label_order = event_label_order(dataset.kind);
    let record_order: Vec<String> = if dataset.kind == DatasetKind::SprSound {
        RecordLabel::ALL.iter().map(|l| l.to_string()).collect()
    } else {
        Vec::new()
    };

    // Per patient (first recording with a value wins for patient-level fields).
    let mut by_patient: BTreeMap<&str, Vec<&Recording>> = BTreeMap::new();
    for r in recs {
        by_patient.entry(r.patient.as_str()).or_default().push(r);
    }
    let patients: Vec<PatientSummary> = by_patient
        .iter()
        .map(|(p, rs)| {
            let splits: Vec<Option<Split>> = rs.iter().map(|r| r.official_split).collect();
            let official_split = match splits.first().copied().flatten() {
                Some(s) if splits.iter().all(|x| *x == Some(s)) => Some(s.to_string()),
                _ if splits.iter().all(Option::is_none) => None,
                _ => Some("mixed".to_string()),
            };
            PatientSummary {
                patient: p.to_string(),
                n_recordings: rs.len(),
                n_events: rs.iter().map(|r| r.events.len()).sum(),
                age_years: rs.iter().find_map(|r| r.age_years),
                sex: rs.iter().find_map(|r| r.sex).map(|s| s.to_string()),
                diagnosis: rs.iter().find_map(|r| r.diagnosis.clone()),
                official_split,
            }
        })
        .collect();
    let ages_years: Vec<f64> = patients.iter().filter_map(|p| p.age_years).collect();

    let event_durations_s: Vec<f64> = recs
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.duration_s()))
        .collect();
    let mut dur_by_label: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for e in recs.iter().flat_map(|r| r.events.iter()) {
        dur_by_label
            .entry(e.label.to_string())
            .or_default()
            .push(e.duration_s());
    }
    let mut labels = label_order.clone();
    labels.extend(
        dur_by_label
            .keys()
            .filter(|k| !label_order.contains(k))
            .cloned(),
    );
    let event_durations_by_label = labels
        .into_iter()
        .map(|label| {
            let durations_s = dur_by_label.remove(&label).unwrap_or_default();
            LabelDurations {
                label,
                stats: Stats::of(&durations_s),
                durations_s,
            }
        })
        .collect();

    let official_split = recs.iter().any(|r| r.official_split.is_some()).then(|| {
        [Split::Train, Split::Test]
            .into_iter()
            .map(|s| {
                let side: Vec<&Recording> = recs
                    .iter()
                    .filter(|r| r.official_split == Some(s))
                    .collect();
                let mut pts: Vec<&str> = side.iter().map(|r| r.patient.as_str()).collect();
                pts.sort_unstable();
                pts.dedup();
                SplitBalance {
                    split: s.to_string(),
                    n_recordings: side.len(),
                    n_patients: pts.len(),
                    event_counts: count(event_names(side.iter().copied()), &label_order),
                    record_label_counts: count(
                        side.iter()
                            .filter_map(|r| r.record_label.map(|l| l.to_string())),
                        &record_order,
                    ),
                }
            })
            .collect()
    });

    let severities = [Severity::Error, Severity::Warning, Severity::Info].map(|s| s.to_string());
    DatasetSummary {
        kind: dataset.kind,
        root: dataset.root.clone(),
        n_recordings: recs.len(),
        n_with_audio: recs.iter().filter(|r| r.audio_path.is_some()).count(),
        n_patients: patients.len(),
        n_events: recs.iter().map(|r| r.events.len()).sum(),
        event_counts: count(event_names(recs.iter()), &label_order),
        events_per_recording: recs.iter().map(|r| r.events.len()).collect(),
        record_label_counts: count(
            recs.iter()
                .filter_map(|r| r.record_label.map(|l| l.to_string())),
            &record_order,
        ),
        device_counts: count(recs.iter().map(|r| or_unknown(&r.device)), &[]),
        location_counts: count(recs.iter().map(|r| or_unknown(&r.location)), &[]),
        mode_counts: count(recs.iter().map(|r| or_unknown(&r.mode)), &[]),
        diagnosis_counts: count(patients.iter().map(|p| or_unknown(&p.diagnosis)), &[]),
        sex_counts: count(
            patients.iter().map(|p| or_unknown(&p.sex)),
            &["Male".into(), "Female".into()],
        ),
        age_stats: Stats::of(&ages_years),
        ages_years,
        event_duration_stats: Stats::of(&event_durations_s),
        event_durations_s,
        event_durations_by_label,
        patients,
        official_split,
        audio,
        n_issues: issues.len(),
        issues_by_severity: count(issues.iter().map(|i| i.severity.to_string()), &severities),
        issues,
    }
}

/// (duration s, sample rate) from a recording's audio header, or why not.
type Probed = Result<(f64, u32), Issue>;

/// Probes every audio header in parallel: one entry per recording, `None`
/// for recordings without audio.
fn probe_each(recs: &[Recording]) -> Vec<Option<Probed>> {
    recs.par_iter()
        .map(|r| {
            let p = r.audio_path.as_ref()?;
            Some(
                lungsound_audio::probe(p)
                    .map(|info| (info.duration_s(), info.sample_rate))
                    .map_err(|e| Issue::error(p, format!("cannot read audio header: {e}"))),
            )
        })
        .collect()
}

/// Durations, sample rates and header errors of [`probe_each`]'s results.
fn audio_summary(probed: Vec<Option<Probed>>) -> AudioSummary {
    let mut durations_s = Vec::new();
    let mut rates = Vec::new();
    let mut errors = Vec::new();
    for p in probed.into_iter().flatten() {
        match p {
            Ok((d, sr)) => {
                durations_s.push(d);
                rates.push(sr);
            }
            Err(e) => errors.push(e),
        }
    }
    rates.sort_unstable();
    let mut sample_rates = count(rates.iter().map(u32::to_string), &[]);
    sample_rates.sort_by_key(|c| c.name.parse::<u32>().unwrap_or(u32::MAX));
    AudioSummary {
        stats: Stats::of(&durations_s),
        durations_s,
        sample_rates,
        errors,
    }
}

/// Histogram of `values` with `n_bins` equal bins over `[min, max]`:
/// returns (`n_bins + 1` edges, `n_bins` counts). Empty input or `n_bins ==
/// 0` gives empty vectors; equal values all fall in one bin.
pub fn histogram(values: &[f64], n_bins: usize) -> (Vec<f64>, Vec<usize>) {
    let Some(s) = Stats::of(values) else {
        return (Vec::new(), Vec::new());
    };
    if n_bins == 0 {
        return (Vec::new(), Vec::new());
    }
    let width = if s.max > s.min {
        (s.max - s.min) / n_bins as f64
    } else {
        1.0
    };
    let edges = (0..=n_bins).map(|i| s.min + i as f64 * width).collect();
    let mut counts = vec![0; n_bins];
    for v in values {
        let b = (((v - s.min) / width) as usize).min(n_bins - 1);
        counts[b] += 1;
    }
    (edges, counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::EventLabel;
    use crate::recording::Event;

    #[test]
    fn stats_and_histogram() {
        let s = Stats::of(&[3.0, 1.0, 2.0, 4.0]).unwrap();
        assert_eq!(
            (s.min, s.max, s.median, s.mean, s.total),
            (1.0, 4.0, 2.5, 2.5, 10.0)
        );
        assert!(Stats::of(&[]).is_none());
        let (edges, counts) = histogram(&[0.0, 0.5, 1.0, 2.0], 2);
        assert_eq!(edges, vec![0.0, 1.0, 2.0]);
        assert_eq!(counts, vec![2, 2]);
        assert_eq!(histogram(&[1.0, 1.0], 3).1, vec![2, 0, 0]);
    }

    #[test]
    fn summary_counts_classes_with_zeros() {
        let mut r = Recording::new("1_a", DatasetKind::Icbhi, "1");
        r.official_split = Some(Split::Train);
        r.events.push(Event {
            index: 0,
            start_s: 0.0,
            end_s: 1.5,
            label: EventLabel::Cycle(CycleLabel::Both),
        });
        let ds = Dataset {
            kind: DatasetKind::Icbhi,
            root: PathBuf::from("x"),
            recordings: vec![r],
            issues: vec![Issue::info("x", "hello")],
        };
        let s = summarize(&ds, false);
        let names: Vec<&str> = s.event_counts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Normal", "Crackle", "Wheeze", "Both"]);
        assert_eq!(s.event_counts[3].count, 1);
        assert_eq!(s.event_durations_s, vec![1.5]);
        let split = s.official_split.as_ref().unwrap();
        assert_eq!(split[0].n_recordings, 1);
        assert_eq!(split[1].n_recordings, 0);
        assert_eq!(s.issues_by_severity[2].count, 1);
        assert_eq!(s.issues, ds.issues);
        assert!(serde_json::to_string(&s).is_ok());
    }

    #[test]
    fn with_durations_events_are_fitted_to_the_audio() {
        let tmp = lungsound_testutil::temp_dir();
        let wav = tmp.path().join("1_a.wav");
        lungsound_testutil::write_wav_i16(&wav, &vec![0.1; 8000], 4000); // 2 s
        let mut r = Recording::new("1_a", DatasetKind::Icbhi, "1");
        r.audio_path = Some(wav.clone());
        r.events = [(0.0, 1.0), (1.5, 2.5), (2.5, 3.0)]
            .iter()
            .enumerate()
            .map(|(index, &(start_s, end_s))| Event {
                index,
                start_s,
                end_s,
                label: EventLabel::Cycle(CycleLabel::Normal),
            })
            .collect();
        let mut missing = Recording::new("1_b", DatasetKind::Icbhi, "1");
        missing.audio_path = Some(tmp.path().join("1_b.wav"));
        let ds = Dataset {
            kind: DatasetKind::Icbhi,
            root: tmp.path().to_path_buf(),
            recordings: vec![r, missing],
            issues: vec![Issue::info("x", "hello")],
        };
        let s = summarize(&ds, true);
        assert_eq!(s.n_events, 2);
        assert_eq!(s.event_durations_s, vec![1.0, 0.5]);
        assert_eq!(s.event_counts[0].count, 2);
        assert_eq!(s.events_per_recording, vec![2, 0]);
        assert_eq!(s.patients[0].n_events, 2);
        // loader note, the unreadable header, the mismatch, the clip, the skip
        assert_eq!(s.n_issues, 5, "{:#?}", s.issues);
        assert_eq!(s.issues.len(), 5);
        assert_eq!(s.issues[0], ds.issues[0]);
        assert!(s.issues[1].message.contains("cannot read audio header"));
        assert!(s.issues[2].message.contains("is the file truncated"));
        assert!(s.issues[3].message.starts_with("event 1: "));
        assert!(s.issues[4].message.starts_with("event 2: "));
        assert!(s.issues[4].message.contains("past the end of the audio"));
        assert!(s.issues[2..].iter().all(|i| i.path == wav));
        let by: Vec<(&str, usize)> = s
            .issues_by_severity
            .iter()
            .map(|c| (c.name.as_str(), c.count))
            .collect();
        assert_eq!(by, [("error", 1), ("warning", 3), ("info", 1)]);
        assert_eq!(s.audio.as_ref().unwrap().durations_s, vec![2.0]);
        // without durations the annotations are taken as they are
        let s = summarize(&ds, false);
        assert_eq!((s.n_events, s.n_issues), (3, 1));
    }
}

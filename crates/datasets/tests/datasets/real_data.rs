//! The readers on the real data in `../shared/data` (skipped when absent).
//!
//! Expected numbers were computed independently of this crate with a short
//! Python script (json / plain text parsing, `collections.Counter`) over the
//! same folders:
//! - SPRSound train2022: per `.json`, `record_annotation` counted and the
//!   `event_annotation` entries counted by `type`; patients = distinct first
//!   name fields.
//! - ICBHI: per `.txt` line, `(crackles, wheezes)` counted, joined with
//!   `ICBHI_challenge_train_test.txt` (with `226_1b1_Pl_sc_Meditron` read as
//!   `226_1b1_Pl_sc_LittC2SE`).

use std::collections::HashSet;
use std::time::Instant;

use lungsound_datasets::{
    DatasetKind, PadMode, RecordLabel, SegmentConfig, Severity, Split, Task, load_dataset,
    official_split, patient_split, segment_recording, summarize,
};
use lungsound_testutil::skip_without_data;

const SPR_RECORDS: usize = 1949;
const SPR_EVENTS: usize = 6656;
const SPR_PATIENTS: usize = 251;
/// Normal, CAS, DAS, CAS & DAS, Poor Quality.
const SPR_RECORD_LABELS: [usize; 5] = [1303, 126, 248, 95, 177];
/// Normal, Rhonchi, Wheeze, Stridor, Coarse Crackle, Fine Crackle, Wheeze+Crackle.
const SPR_EVENT_LABELS: [usize; 7] = [5159, 39, 452, 15, 49, 912, 30];

const ICBHI_RECORDINGS: usize = 920;
const ICBHI_CYCLES: usize = 6898;
const ICBHI_PATIENTS: usize = 126;
/// Normal, Crackle, Wheeze, Both — train, then test.
const ICBHI_TRAIN_CYCLES: [usize; 4] = [2063, 1215, 501, 363];
const ICBHI_TEST_CYCLES: [usize; 4] = [1579, 649, 385, 143];

fn counts(c: &[lungsound_datasets::Count]) -> Vec<usize> {
    c.iter().map(|c| c.count).collect()
}

#[test]
fn sprsound_train2022_counts() {
    let dir = skip_without_data!("sprsound/train2022");
    let t = Instant::now();
    let ds = load_dataset(&dir).unwrap();
    let elapsed = t.elapsed();
    eprintln!(
        "loaded {} SPRSound records in {elapsed:?}",
        ds.recordings.len()
    );
    assert!(elapsed.as_secs_f64() < 5.0, "loading took {elapsed:?}");
    for i in ds.issues.iter().take(20) {
        eprintln!("{i}");
    }
    assert_eq!(ds.kind, DatasetKind::SprSound);
    assert!(ds.issues.is_empty(), "{} issues", ds.issues.len());
    assert_eq!(ds.recordings.len(), SPR_RECORDS);
    assert_eq!(ds.n_events(), SPR_EVENTS);
    assert_eq!(ds.patients().len(), SPR_PATIENTS);
    assert!(ds.recordings.iter().all(|r| r.audio_path.is_some()));
    assert!(
        ds.recordings
            .iter()
            .all(|r| r.age_years.is_some() && r.sex.is_some())
    );

    let s = summarize(&ds, false);
    assert_eq!(counts(&s.record_label_counts), SPR_RECORD_LABELS);
    assert_eq!(counts(&s.event_counts), SPR_EVENT_LABELS);
    assert_eq!(s.event_durations_s.len(), SPR_EVENTS);
    assert!(s.event_duration_stats.unwrap().min > 0.0);
    assert!(
        ds.recordings
            .iter()
            .filter(|r| r.record_label == Some(RecordLabel::PoorQuality))
            .all(|r| r.events.is_empty())
    );
    // every event maps to a class in the event tasks
    for r in &ds.recordings {
        for e in &r.events {
            assert!(Task::EventMulti.event_class(&e.label).is_some());
        }
    }
}

#[test]
fn sprsound_patient_split_is_disjoint_near_fraction_and_covers_classes() {
    let dir = skip_without_data!("sprsound/train2022");
    let ds = load_dataset(&dir).unwrap();
    let recs = &ds.recordings;
    let s = patient_split(recs, 0.2, 42);
    assert_eq!(s, patient_split(recs, 0.2, 42));
    assert_eq!(s.train.len() + s.val.len(), recs.len());
    let train_patients: HashSet<&str> = s.train.iter().map(|&i| recs[i].patient.as_str()).collect();
    assert!(
        s.val
            .iter()
            .all(|&i| !train_patients.contains(recs[i].patient.as_str()))
    );
    let frac = s.val.len() as f64 / recs.len() as f64;
    eprintln!("val fraction {frac:.4} ({} of {})", s.val.len(), recs.len());
    assert!((frac - 0.2).abs() < 0.02, "{frac}");
    for l in RecordLabel::ALL {
        assert!(
            s.val.iter().any(|&i| recs[i].record_label == Some(l)),
            "no {l} in val"
        );
    }
}

#[test]
fn icbhi_all_annotations_counts_and_split() {
    let dir = skip_without_data!("icbhi/all_annotations");
    let t = Instant::now();
    let ds = load_dataset(&dir).unwrap();
    eprintln!(
        "loaded {} ICBHI annotations in {:?}",
        ds.recordings.len(),
        t.elapsed()
    );
    for i in &ds.issues {
        eprintln!("{i}");
    }
    assert_eq!(ds.kind, DatasetKind::Icbhi);
    assert_eq!(ds.recordings.len(), ICBHI_RECORDINGS);
    assert_eq!(ds.n_events(), ICBHI_CYCLES);
    assert_eq!(ds.patients().len(), ICBHI_PATIENTS);
    assert!(ds.recordings.iter().all(|r| r.audio_path.is_none()));
    assert_eq!(ds.issues_at_least(Severity::Warning).count(), 0);
    let split = official_split(&ds.recordings);
    assert_eq!((split.train.len(), split.test.len()), (539, 381));
    assert!(split.unassigned.is_empty());
    assert_eq!(
        ds.get("226_1b1_Pl_sc_LittC2SE").unwrap().official_split,
        Some(Split::Train)
    );
    assert!(ds.recordings.iter().all(|r| r.diagnosis.is_some()));
    assert!(
        ds.recordings
            .iter()
            .all(|r| r.sex.is_some() || r.patient == "223")
    );

    let s = summarize(&ds, true);
    let sides = s.official_split.as_ref().unwrap();
    assert_eq!(counts(&sides[0].event_counts), ICBHI_TRAIN_CYCLES);
    assert_eq!(counts(&sides[1].event_counts), ICBHI_TEST_CYCLES);
    let audio = s.audio.as_ref().unwrap();
    assert!(audio.durations_s.is_empty() && audio.errors.is_empty());
    let devices: Vec<(&str, usize)> = s
        .device_counts
        .iter()
        .map(|c| (c.name.as_str(), c.count))
        .collect();
    assert_eq!(
        devices,
        [
            ("AKGC417L", 646),
            ("Meditron", 127),
            ("LittC2SE", 87),
            ("Litt3200", 60)
        ]
    );
    assert_eq!(s.n_patients, ICBHI_PATIENTS);
    assert!(serde_json::to_string(&s).is_ok());
}

#[test]
fn icbhi_audio_and_txt_and_root() {
    let dir = skip_without_data!("icbhi/audio_and_txt");
    let ds = load_dataset(&dir).unwrap();
    assert_eq!(ds.recordings.len(), 19);
    assert!(ds.recordings.iter().all(|r| r.audio_path.is_some()));
    let split = official_split(&ds.recordings);
    assert_eq!((split.train.len(), split.test.len()), (10, 9));
    assert_eq!(ds.n_events(), 171);
    let s = summarize(&ds, true);
    let audio = s.audio.unwrap();
    assert_eq!(audio.durations_s.len(), 19);
    assert!(audio.errors.is_empty());
    let rates: Vec<&str> = audio.sample_rates.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(rates, ["4000", "44100"]);
    assert!(audio.stats.unwrap().min > 5.0);

    let root = skip_without_data!("icbhi");
    let all = load_dataset(&root).unwrap();
    assert_eq!(all.recordings.len(), ICBHI_RECORDINGS);
    assert_eq!(
        all.recordings
            .iter()
            .filter(|r| r.audio_path.is_some())
            .count(),
        19
    );
}

#[test]
fn real_recordings_segment_to_the_requested_length() {
    let spr = skip_without_data!("sprsound/train2022");
    let icbhi = skip_without_data!("icbhi/audio_and_txt");
    let cfg = SegmentConfig {
        sample_rate: Some(8000),
        length_s: Some(2.5),
        pad: PadMode::Zero,
    };
    for (dir, id) in [
        (&spr, "40490865_8.4_1_p3_1916"),
        (&icbhi, "101_1b1_Al_sc_Meditron"),
        (&icbhi, "104_1b1_Al_sc_Litt3200"),
    ] {
        let ds = load_dataset(dir).unwrap();
        let rec = ds.get(id).unwrap();
        let audio =
            lungsound_audio::load_resampled(rec.audio_path.as_ref().unwrap(), 8000).unwrap();
        let seg = segment_recording(rec, &audio, &cfg).unwrap();
        assert_eq!(seg.clips.len(), rec.events.len(), "{id}: {:?}", seg.issues);
        assert!(
            seg.clips
                .iter()
                .all(|c| c.samples.len() == 20_000 && c.sample_rate == 8000)
        );
        let raw = segment_recording(rec, &audio, &SegmentConfig::default()).unwrap();
        for (c, e) in raw.clips.iter().zip(&rec.events) {
            let expect = (e.end_s * 8000.0).round() - (e.start_s * 8000.0).round();
            assert_eq!(c.samples.len() as f64, expect, "{id} event {}", e.index);
        }
    }
}

#[test]
fn icbhi_audio_and_txt_segments_in_full() {
    let dir = skip_without_data!("icbhi/audio_and_txt");
    let ds = load_dataset(&dir).unwrap();
    let out = lungsound_testutil::temp_dir();
    let cfg = SegmentConfig {
        sample_rate: Some(4000),
        length_s: Some(8.0),
        pad: PadMode::Repeat,
    };
    let last = std::cell::Cell::new((0, 0));
    let t = Instant::now();
    let report = lungsound_datasets::segment_dataset(&ds, &cfg, out.path(), &|d, n| {
        last.set((d, n));
    })
    .unwrap();
    eprintln!("segmented 19 ICBHI recordings in {:?}", t.elapsed());
    for e in &report.errors {
        eprintln!("{e}");
    }
    assert_eq!(last.get(), (19, 19));
    assert_eq!(report.n_recordings, 19);
    assert_eq!(report.n_clips, 171);
    let mut r = csv::Reader::from_path(&report.manifest_path).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 171);
    let test_rows = rows.iter().filter(|r| &r[6] == "test").count();
    assert_eq!(test_rows, 80 + 10 + 1, "test cycles in audio_and_txt");
    let clip = out.path().join(&rows[0][0]);
    assert_eq!(lungsound_audio::probe(&clip).unwrap().n_frames, 32_000);
}

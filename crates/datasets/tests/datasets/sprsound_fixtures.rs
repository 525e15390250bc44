//! SPRSound reader on `tests/fixtures/sprsound` (JSON only; audio is added
//! to temp copies where a test needs it).

use lungsound_datasets::{
    DatasetKind, EventLabel, RecordLabel, Severity, Sex, SprEventType, Task, detect, load_dataset,
    load_sprsound,
};

use crate::util::{fixture, fixture_copy, issues_for, write_sine};

const WITH_AUDIO: [&str; 5] = [
    "65101170_0.4_1_p1_3246",
    "65101170_0.4_1_p2_3247",
    "70000001_12.5_0_p3_100",
    "70000001_12.5_0_p4_101",
    "70000002_3_0_p1_200",
];

/// A copy of the fixture with 8 kHz WAVs for `WITH_AUDIO` (not for
/// `70000003_…`, whose JSON stays alone) plus one unannotated WAV.
fn with_audio() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, dir) = fixture_copy("sprsound");
    for stem in WITH_AUDIO {
        write_sine(&dir.join(format!("{stem}.wav")), 10.0, 8000);
    }
    write_sine(&dir.join("70000004_6_1_p1_400.wav"), 3.0, 8000);
    (tmp, dir)
}

#[test]
fn sprsound_fixture_parses_every_variant() {
    let (_tmp, dir) = with_audio();
    assert_eq!(detect(&dir).unwrap(), DatasetKind::SprSound);
    let ds = load_dataset(&dir).unwrap();
    for i in &ds.issues {
        eprintln!("{i}");
    }
    // bad JSON (…_101) is skipped; json-only and audio-only are kept
    let ids: Vec<&str> = ds.recordings.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "65101170_0.4_1_p1_3246",
            "65101170_0.4_1_p2_3247",
            "70000001_12.5_0_p3_100",
            "70000002_3_0_p1_200",
            "70000003_5.2_1_p2_300",
            "70000004_6_1_p1_400",
        ]
    );

    let r = ds.get("65101170_0.4_1_p1_3246").unwrap();
    assert_eq!(r.patient, "65101170");
    assert_eq!(r.age_years, Some(0.4));
    assert_eq!(r.sex, Some(Sex::Female));
    assert_eq!(r.location.as_deref(), Some("p1"));
    assert_eq!(r.record_label, Some(RecordLabel::Normal));
    assert_eq!(r.events.len(), 3);
    assert!((r.events[0].start_s - 0.342).abs() < 1e-12, "ms → s");
    assert!((r.events[0].end_s - 2.515).abs() < 1e-12);
    assert!(r.audio_path.is_some());
    assert!(issues_for(&ds.issues, "65101170_0.4_1_p1_3246.json").is_empty());
}

#[test]
fn sprsound_string_numbers_old_key_and_unsorted_events() {
    let ds = load_sprsound(&fixture("sprsound")).unwrap();
    let r = ds.get("65101170_0.4_1_p2_3247").unwrap();
    assert_eq!(
        r.record_label,
        Some(RecordLabel::CasDas),
        "recording_annotation, lenient"
    );
    let stored: Vec<(usize, f64)> = r.events.iter().map(|e| (e.index, e.start_s)).collect();
    assert_eq!(stored, [(0, 3.21), (1, 8.203), (2, 0.236)]);
    let sorted: Vec<usize> = r.events_sorted().iter().map(|e| e.index).collect();
    assert_eq!(sorted, [2, 0, 1]);
    let labels: Vec<EventLabel> = r.events.iter().map(|e| e.label).collect();
    assert_eq!(
        labels,
        [
            EventLabel::Spr(SprEventType::Wheeze),
            EventLabel::Spr(SprEventType::FineCrackle),
            EventLabel::Spr(SprEventType::WheezeCrackle),
        ]
    );
    assert!(
        issues_for(&ds.issues, "65101170_0.4_1_p2_3247.json")
            .iter()
            .all(|i| i.message.contains("no audio"))
    );
}

#[test]
fn sprsound_poor_quality_has_no_events_and_no_complaint() {
    let ds = load_sprsound(&fixture("sprsound")).unwrap();
    let r = ds.get("70000001_12.5_0_p3_100").unwrap();
    assert_eq!(r.record_label, Some(RecordLabel::PoorQuality));
    assert!(r.events.is_empty());
    assert_eq!(r.sex, Some(Sex::Male));
    assert_eq!(
        Task::RecordTernary.record_class(&RecordLabel::PoorQuality),
        Some(1)
    );
}

#[test]
fn sprsound_bad_json_unknown_label_and_reversed_times_are_issues() {
    let (_tmp, dir) = with_audio();
    let ds = load_sprsound(&dir).unwrap();

    let bad = issues_for(&ds.issues, "70000001_12.5_0_p4_101.json");
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].severity, Severity::Error);
    assert!(bad[0].message.contains("invalid JSON"), "{}", bad[0]);
    assert!(ds.get("70000001_12.5_0_p4_101").is_none());

    let r = ds.get("70000002_3_0_p1_200").unwrap();
    let idx: Vec<usize> = r.events.iter().map(|e| e.index).collect();
    assert_eq!(
        idx,
        [0, 3],
        "events 1 and 2 rejected, 3 ('fine_crackle') accepted"
    );
    let iss = issues_for(&ds.issues, "70000002_3_0_p1_200.json");
    assert_eq!(iss.len(), 2);
    assert!(iss[0].message.starts_with("event 1:") && iss[0].message.contains("Squawk"));
    assert!(iss[1].message.starts_with("event 2:") && iss[1].message.contains("not before"));
    assert!(iss.iter().all(|i| i.severity == Severity::Error));
}

#[test]
fn sprsound_unpaired_files_are_issues() {
    let (_tmp, dir) = with_audio();
    let ds = load_sprsound(&dir).unwrap();
    let json_only = ds.get("70000003_5.2_1_p2_300").unwrap();
    assert!(json_only.audio_path.is_none());
    assert_eq!(json_only.events.len(), 1);
    let iss = issues_for(&ds.issues, "70000003_5.2_1_p2_300.json");
    assert_eq!(iss.len(), 1);
    assert!(iss[0].message.contains("no audio"));

    let audio_only = ds.get("70000004_6_1_p1_400").unwrap();
    assert!(audio_only.annotation_path.is_none());
    assert_eq!(audio_only.record_label, None);
    let iss = issues_for(&ds.issues, "70000004_6_1_p1_400.wav");
    assert_eq!(iss.len(), 1);
    assert!(iss[0].message.contains("no annotation"));
}

#[test]
fn separate_wav_and_json_folders_are_paired() {
    let tmp = lungsound_testutil::temp_dir();
    let root = tmp.path();
    crate::util::copy_dir(&fixture("sprsound"), &root.join("train_json"));
    std::fs::create_dir_all(root.join("train_wav")).unwrap();
    write_sine(
        &root.join("train_wav/65101170_0.4_1_p1_3246.wav"),
        6.0,
        8000,
    );
    let ds = load_dataset(root).unwrap();
    assert_eq!(ds.kind, DatasetKind::SprSound);
    assert!(
        ds.get("65101170_0.4_1_p1_3246")
            .unwrap()
            .audio_path
            .is_some()
    );
}

#[test]
fn plain_audio_folder_is_detected_and_missing_dir_is_an_error() {
    let tmp = lungsound_testutil::temp_dir();
    std::fs::create_dir_all(tmp.path().join("morning")).unwrap();
    write_sine(&tmp.path().join("morning/chest.wav"), 1.0, 8000);
    write_sine(&tmp.path().join("back.wav"), 1.0, 8000);
    assert_eq!(detect(tmp.path()).unwrap(), DatasetKind::Folder);
    let ds = load_dataset(tmp.path()).unwrap();
    let ids: Vec<&str> = ds.recordings.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["back", "chest"]);
    assert_eq!(ds.recordings[1].patient, "chest");
    assert!(ds.issues.is_empty());

    let missing = tmp.path().join("nope");
    let err = load_dataset(&missing).unwrap_err();
    assert!(matches!(err, lungsound_datasets::Error::DirNotFound { .. }));
    assert!(err.to_string().contains("nope"));
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(matches!(
        load_dataset(&empty).unwrap_err(),
        lungsound_datasets::Error::NotADataset { .. }
    ));
}

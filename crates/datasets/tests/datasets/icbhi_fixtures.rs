//! ICBHI reader on `tests/fixtures/icbhi/db` (annotations only; metadata in
//! the parent folder, as in the real layout).

use lungsound_datasets::{
    CycleLabel, DatasetKind, EventLabel, Severity, Sex, Split, detect, load_dataset, official_split,
};

use crate::util::{fixture, fixture_copy, issues_for, write_sine};

#[test]
fn icbhi_fixture_loads_with_metadata_from_parent() {
    let dir = fixture("icbhi/db");
    assert_eq!(detect(&dir).unwrap(), DatasetKind::Icbhi);
    let ds = load_dataset(&dir).unwrap();
    for i in &ds.issues {
        eprintln!("{i}");
    }
    let ids: Vec<&str> = ds.recordings.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "101_1b1_Al_sc_Meditron",
            "101_1b1_Pr_sc_Meditron",
            "150_1b2_Tc_sc_AKGC417L",
            "160_1b1_Al_mc_AKGC417L",
            "170_1b1_Ar_sc_Meditron",
            "226_1b1_Pl_sc_LittC2SE",
        ]
    );
    // annotation only: no audio, one summary issue, nothing fatal
    assert!(ds.recordings.iter().all(|r| r.audio_path.is_none()));
    assert!(
        ds.issues
            .iter()
            .any(|i| i.message.contains("6 of 6 recordings have no audio"))
    );

    let r = ds.get("101_1b1_Al_sc_Meditron").unwrap();
    assert_eq!(r.patient, "101");
    assert_eq!(r.location.as_deref(), Some("Al"));
    assert_eq!(r.mode.as_deref(), Some("sc"));
    assert_eq!(r.device.as_deref(), Some("Meditron"));
    assert_eq!(r.official_split, Some(Split::Test));
    assert_eq!(r.diagnosis.as_deref(), Some("URTI"));
    assert_eq!(r.age_years, Some(3.0));
    assert_eq!(r.sex, Some(Sex::Female));
    let labels: Vec<EventLabel> = r.events.iter().map(|e| e.label).collect();
    assert_eq!(
        labels,
        CycleLabel::ALL.map(EventLabel::Cycle).to_vec(),
        "00, 10, 01, 11"
    );
    assert_eq!(r.events[0].start_s, 0.036);
    assert_eq!(r.events[3].end_s, 5.5);

    // space-separated file
    assert_eq!(ds.get("101_1b1_Pr_sc_Meditron").unwrap().events.len(), 2);
    // NA demographics
    let r150 = ds.get("150_1b2_Tc_sc_AKGC417L").unwrap();
    assert_eq!((r150.age_years, r150.sex), (None, None));
    assert_eq!(
        ds.get("160_1b1_Al_mc_AKGC417L").unwrap().sex,
        Some(Sex::Male)
    );
}

#[test]
fn icbhi_226_quirk_is_matched_and_reported() {
    let ds = load_dataset(&fixture("icbhi/db")).unwrap();
    let r = ds.get("226_1b1_Pl_sc_LittC2SE").unwrap();
    assert_eq!(r.official_split, Some(Split::Train));
    let quirk: Vec<_> = ds
        .issues
        .iter()
        .filter(|i| i.message.contains("226_1b1_Pl_sc_Meditron"))
        .collect();
    assert_eq!(quirk.len(), 1);
    assert_eq!(quirk[0].severity, Severity::Info);
    assert_eq!(quirk[0].line, Some(5));
    assert!(quirk[0].message.contains("226_1b1_Pl_sc_LittC2SE"));
    assert!(quirk[0].path.ends_with("ICBHI_challenge_train_test.txt"));
    // a malformed split line is reported with its line; entries for
    // recordings that are simply not in this folder (999_…) are not
    let split_issues = issues_for(&ds.issues, "ICBHI_challenge_train_test.txt");
    assert!(split_issues.iter().any(|i| i.line == Some(7)));
    assert!(!ds.issues.iter().any(|i| i.message.contains("999_")));
}

#[test]
fn icbhi_recording_missing_from_split_file_is_an_issue() {
    let ds = load_dataset(&fixture("icbhi/db")).unwrap();
    let r = ds.get("170_1b1_Ar_sc_Meditron").unwrap();
    assert_eq!(r.official_split, None);
    let iss = issues_for(&ds.issues, "170_1b1_Ar_sc_Meditron.txt");
    assert_eq!(iss.len(), 1);
    assert_eq!(iss[0].severity, Severity::Warning);
    assert!(iss[0].message.contains("not listed"));
    let s = official_split(&ds.recordings);
    assert_eq!((s.train.len(), s.test.len(), s.unassigned.len()), (3, 2, 1));
}

#[test]
fn icbhi_malformed_lines_are_skipped_with_line_numbers() {
    let ds = load_dataset(&fixture("icbhi/db")).unwrap();
    let r = ds.get("160_1b1_Al_mc_AKGC417L").unwrap();
    let idx: Vec<usize> = r.events.iter().map(|e| e.index).collect();
    assert_eq!(idx, [0, 6], "good lines 1 and 8 kept, positions as stored");
    let iss = issues_for(&ds.issues, "160_1b1_Al_mc_AKGC417L.txt");
    let lines: Vec<Option<usize>> = iss.iter().map(|i| i.line).collect();
    assert_eq!(lines, [Some(2), Some(3), Some(4), Some(5), Some(6)]);
    assert!(iss.iter().all(|i| i.severity == Severity::Error));
    let text: Vec<&str> = iss.iter().map(|i| i.message.as_str()).collect();
    assert!(text[0].contains("expected 4 fields"));
    assert!(text[1].contains("\"abc\" is not a number"));
    assert!(text[2].contains("not before"));
    assert!(text[3].contains("not 0 or 1"));
    assert!(text[4].contains("negative"));
    // the issue renders as path:line: severity: message
    assert!(
        iss[0]
            .to_string()
            .contains("160_1b1_Al_mc_AKGC417L.txt:2: error:")
    );
}

#[test]
fn icbhi_empty_annotation_is_kept_with_a_warning() {
    let ds = load_dataset(&fixture("icbhi/db")).unwrap();
    assert!(ds.get("150_1b2_Tc_sc_AKGC417L").unwrap().events.is_empty());
    let iss = issues_for(&ds.issues, "150_1b2_Tc_sc_AKGC417L.txt");
    assert_eq!(iss.len(), 1);
    assert_eq!(iss[0].severity, Severity::Warning);
}

#[test]
fn icbhi_audio_is_paired_and_root_layout_merges_subfolders() {
    let (_tmp, root) = fixture_copy("icbhi");
    // an audio folder beside the annotation folder, like the real layout
    let audio_dir = root.join("audio_and_txt");
    std::fs::create_dir_all(&audio_dir).unwrap();
    std::fs::copy(
        root.join("db/101_1b1_Al_sc_Meditron.txt"),
        audio_dir.join("101_1b1_Al_sc_Meditron.txt"),
    )
    .unwrap();
    write_sine(&audio_dir.join("101_1b1_Al_sc_Meditron.wav"), 6.0, 4000);

    let sub = load_dataset(&audio_dir).unwrap();
    assert_eq!(sub.recordings.len(), 1);
    assert!(sub.recordings[0].audio_path.is_some());
    assert_eq!(sub.recordings[0].official_split, Some(Split::Test));

    let all = load_dataset(&root).unwrap();
    assert_eq!(all.kind, DatasetKind::Icbhi);
    assert_eq!(all.recordings.len(), 6);
    let r = all.get("101_1b1_Al_sc_Meditron").unwrap();
    assert!(r.audio_path.is_some());
    // the annotation beside the audio is the one used
    assert_eq!(
        r.annotation_path.as_ref().unwrap().parent(),
        r.audio_path.as_ref().unwrap().parent()
    );
    assert!(
        all.issues
            .iter()
            .any(|i| i.message.contains("5 of 6 recordings"))
    );
}

//! `segment_dataset` on fixture copies with synthetic audio.

use std::cell::RefCell;
use std::path::Path;

use lungsound_datasets::{
    MANIFEST_FILE, PadMode, SegmentConfig, Severity, load_dataset, segment_dataset,
};

use crate::util::{fixture_copy, write_sine};

fn read_manifest(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(dir.join(MANIFEST_FILE)).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn icbhi_segments_use_official_split_and_report_events_past_the_end() {
    let (_tmp, root) = fixture_copy("icbhi");
    let db = root.join("db");
    write_sine(&db.join("101_1b1_Al_sc_Meditron.wav"), 6.0, 4000);
    // 226: last cycle ends at 2.2 s, audio is 2.17 s → clipped silently (30 ms)
    write_sine(&db.join("226_1b1_Pl_sc_LittC2SE.wav"), 2.17, 4000);
    // 101 Pr: second cycle (1.7–3.1 s) overlaps the end of the 2 s of audio → clipped,
    // with a warning, and 1 of its 2 cycles past the end → the whole-recording warning
    write_sine(&db.join("101_1b1_Pr_sc_Meditron.wav"), 2.0, 4000);
    let ds = load_dataset(&db).unwrap();
    let out = root.join("clips");
    let cfg = SegmentConfig {
        sample_rate: Some(8000),
        length_s: Some(3.0),
        pad: PadMode::Repeat,
    };
    let calls = RefCell::new(Vec::new());
    let report = segment_dataset(&ds, &cfg, &out, &|d, t| calls.borrow_mut().push((d, t))).unwrap();
    for e in &report.errors {
        eprintln!("{e}");
    }
    assert_eq!(calls.borrow().first(), Some(&(0, 3)));
    assert_eq!(calls.borrow().last(), Some(&(3, 3)));
    assert_eq!(report.n_recordings, 3);
    assert_eq!(report.skipped_no_audio, 3);
    assert_eq!(report.n_clips, 4 + 2 + 2);
    assert!(report.errors.iter().all(|i| i.severity != Severity::Error));
    let warnings: Vec<_> = report
        .errors
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .all(|i| i.path.ends_with("101_1b1_Pr_sc_Meditron.wav"))
    );
    assert_eq!(
        warnings[0].message,
        "annotations extend to 3.1 s but the audio decodes to 2.0 s: is the file truncated or \
         mis-decoded? (1 of 2 events lie past its end)"
    );
    assert!(
        warnings[1].message.starts_with("event 1: ") && warnings[1].message.contains("clipped"),
        "{}",
        warnings[1]
    );
    let clipped = report
        .errors
        .iter()
        .filter(|i| i.path.ends_with("226_1b1_Pl_sc_LittC2SE.wav"))
        .count();
    assert_eq!(clipped, 0, "within the tolerance: clipped silently");

    let (header, rows) = read_manifest(&out);
    assert_eq!(
        header,
        [
            "clip",
            "recording",
            "patient",
            "start_s",
            "end_s",
            "label",
            "split",
            "record_label",
            "crackles",
            "wheezes"
        ]
    );
    let row = rows
        .iter()
        .find(|r| r[0] == "101_1b1_Al_sc_Meditron_003.wav")
        .unwrap();
    assert_eq!(
        &row[1..],
        [
            "101_1b1_Al_sc_Meditron",
            "101",
            "3.893",
            "5.5",
            "Both",
            "test",
            "",
            "1",
            "1"
        ]
    );
    let row = rows
        .iter()
        .find(|r| r[0] == "226_1b1_Pl_sc_LittC2SE_001.wav")
        .unwrap();
    assert_eq!(row[6], "train");
    assert!((row[4].parse::<f64>().unwrap() - 2.17).abs() < 1e-9);
    for r in &rows {
        let (audio, _) = lungsound_audio::load(&out.join(&r[0])).unwrap();
        assert_eq!(audio.sample_rate, 8000);
        assert_eq!(audio.samples.len(), 24000, "{}", r[0]);
    }
}

#[test]
fn sprsound_segments_survive_corrupt_audio_and_get_patient_split() {
    let (_tmp, dir) = fixture_copy("sprsound");
    write_sine(&dir.join("65101170_0.4_1_p1_3246.wav"), 10.0, 8000);
    write_sine(&dir.join("65101170_0.4_1_p2_3247.wav"), 10.0, 8000);
    write_sine(&dir.join("70000001_12.5_0_p3_100.wav"), 10.0, 8000);
    std::fs::write(
        dir.join("70000002_3_0_p1_200.wav"),
        b"RIFF garbage, not audio",
    )
    .unwrap();
    write_sine(&dir.join("70000004_6_1_p1_400.wav"), 3.0, 8000);
    let ds = load_dataset(&dir).unwrap();
    let out = dir.join("clips");
    let report = segment_dataset(&ds, &SegmentConfig::default(), &out, &|_, _| {}).unwrap();
    for e in &report.errors {
        eprintln!("{e}");
    }
    let corrupt: Vec<_> = report
        .errors
        .iter()
        .filter(|i| i.path.ends_with("70000002_3_0_p1_200.wav"))
        .collect();
    assert_eq!(corrupt.len(), 1);
    assert_eq!(corrupt[0].severity, Severity::Error);
    // 3 + 3 events, Poor Quality gives none, the unannotated file one whole clip
    assert_eq!(report.n_clips, 7);
    assert_eq!(report.n_recordings, 4);
    assert_eq!(report.clips_per_label.get("Normal"), Some(&3));
    let (_, rows) = read_manifest(&out);
    assert_eq!(rows.len(), 7);
    let wc = rows
        .iter()
        .find(|r| r[0] == "65101170_0.4_1_p2_3247_002.wav")
        .unwrap();
    assert_eq!(
        (wc[5].as_str(), wc[7].as_str()),
        ("Wheeze+Crackle", "CAS & DAS")
    );
    assert!(rows.iter().all(|r| r[6] == "train" || r[6] == "val"));
    // one patient's clips are all on one side
    let sides: std::collections::HashSet<&str> = rows
        .iter()
        .filter(|r| r[2] == "65101170")
        .map(|r| r[6].as_str())
        .collect();
    assert_eq!(sides.len(), 1);
    // without a fixed length a clip is as long as its event
    let (audio, _) = lungsound_audio::load(&out.join("65101170_0.4_1_p1_3246_000.wav")).unwrap();
    assert_eq!(
        audio.samples.len(),
        ((2.515 - 0.342) * 8000.0_f64).round() as usize
    );
    let (whole, _) = lungsound_audio::load(&out.join("70000004_6_1_p1_400_000.wav")).unwrap();
    assert_eq!(whole.samples.len(), 24000);
}

//! Annotations that do not fit the audio are handled by one rule
//! (`lungsound_datasets::fit_spans`) everywhere: `segment`, `analyze` (whose
//! `summary.json` saves the issues) and the feature pipeline of `train` /
//! `evaluate` make the same keep / clip / skip decisions with the same
//! messages, on a tiny SPRSound-style folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use lungsound_datasets::{Task, load_dataset};
use lungsound_infer::FeatureCache;
use lungsound_infer::config::FeatureSettings;
use lungsound_infer::data::build_feature_set;

const STEM: &str = "41000000_5.5_0_p1_100";

/// A 2 s recording whose annotation has an event inside the audio (0), one
/// overlapping its end (1), one wholly past it (2) and one ending at 1e20 s (3).
fn dataset(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let x = lungsound_testutil::sine(440.0, 8000, 2.0, 0.3);
    lungsound_testutil::write_wav_i16(&dir.join(format!("{STEM}.wav")), &x, 8000);
    std::fs::write(
        dir.join(format!("{STEM}.json")),
        r#"{"record_annotation": "CAS", "event_annotation": [
            {"start": "200", "end": "1000", "type": "Wheeze"},
            {"start": "1500", "end": "2600", "type": "Wheeze"},
            {"start": "2300", "end": "2800", "type": "Wheeze"},
            {"start": "500", "end": 1e23, "type": "Wheeze"}]}"#,
    )
    .unwrap();
}

fn lungsound(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lungsound {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The issue messages the rule gives for this recording, in order.
const FIT_MESSAGES: [&str; 3] = [
    "annotations extend to 2.8 s but the audio decodes to 2.0 s: is the file truncated or \
     mis-decoded? (2 of 3 events lie past its end)",
    "event 1: 1.500–2.600 s ends 0.600 s after the end of the audio (2.000 s); clipped to it",
    "event 2: 2.300–2.800 s lies past the end of the audio (2.000 s); skipped",
];

/// `(event index, start_s, end_s)` of the events every consumer uses.
const USED: [(usize, f64, f64); 2] = [(0, 0.2, 1.0), (1, 1.5, 2.0)];

#[test]
fn segment_analyze_and_the_feature_pipeline_fit_events_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    dataset(&data);
    let data_arg = data.to_str().unwrap();

    // The impossible event is refused by the parser, for everyone.
    let ds = load_dataset(&data).unwrap();
    let parse: Vec<&str> = ds.issues.iter().map(|i| i.message.as_str()).collect();
    assert_eq!(
        parse,
        [
            "event 3: end 100000000000000000000000 ms is beyond any plausible recording (24 h); \
          event skipped"
        ]
    );

    // segment
    let seg_dir = tmp.path().join("seg");
    let out = lungsound(&["segment", data_arg, "--out", seg_dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for m in FIT_MESSAGES.iter().chain(&parse) {
        assert!(stderr.contains(m), "segment does not say {m:?}:\n{stderr}");
    }
    let manifest = std::fs::read_to_string(seg_dir.join("manifest.csv")).unwrap();
    let rows: Vec<(usize, f64, f64)> = manifest
        .lines()
        .skip(1)
        .map(|line| {
            let r: Vec<&str> = line.split(',').collect();
            let index = r[0]
                .trim_end_matches(".wav")
                .rsplit('_')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (index, r[3].parse().unwrap(), r[4].parse().unwrap())
        })
        .collect();
    assert_eq!(rows, USED);

    // analyze: the same decisions in the statistics, the issues saved
    let an_dir = tmp.path().join("analyze");
    let out = lungsound(&["analyze", data_arg, "--out", an_dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(an_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["n_events"], USED.len());
    let durations: Vec<f64> = summary["event_durations_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let expected: Vec<f64> = USED.iter().map(|(_, a, b)| b - a).collect();
    assert_eq!(durations.len(), expected.len());
    for (d, e) in durations.iter().zip(&expected) {
        assert!((d - e).abs() < 1e-9, "{durations:?} vs {expected:?}");
    }
    let saved: Vec<(&str, &str)> = summary["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["severity"].as_str().unwrap(),
                i["message"].as_str().unwrap(),
            )
        })
        .collect();
    let mut want = vec![("error", parse[0])];
    want.extend(FIT_MESSAGES.iter().map(|m| ("warning", *m)));
    assert_eq!(saved, want);
    assert_eq!(summary["n_issues"], 4);
    for (_, m) in &want {
        assert!(
            stderr.contains(m),
            "analyze does not print {m:?}:\n{stderr}"
        );
    }
    let md = std::fs::read_to_string(an_dir.join("report.md")).unwrap();
    assert!(md.contains("4 issue(s)"), "{md}");
    assert!(md.contains("lies past the end of the audio (2.000 s); skipped"));

    // the feature pipeline of train and evaluate
    let recs: Vec<_> = ds.recordings.iter().collect();
    let settings = FeatureSettings::for_task(Task::EventMulti);
    let (set, issues) = build_feature_set(
        &recs,
        &settings,
        Task::EventMulti,
        &FeatureCache::disabled(),
        None,
    )
    .unwrap();
    let units: Vec<(usize, f64, f64)> = set
        .units
        .iter()
        .map(|u| (u.event_index.unwrap(), u.start_s, u.end_s))
        .collect();
    assert_eq!(units, USED);
    let messages: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
    assert_eq!(messages, FIT_MESSAGES);
}

//! `predict --events` with the shipped models: events go to the event models only, in time
//! order; a record model judges the whole recording; a recording too short for one model
//! skips that model with a warning instead of failing the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lungsound_testutil::{temp_dir, write_wav_i16};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lungsound(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(args)
        .current_dir(repo())
        .env_remove("LUNGSOUND_MODELS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn model<'a>(file: &'a serde_json::Value, task: &str) -> &'a serde_json::Value {
    file["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["task"] == task)
        .unwrap_or_else(|| panic!("no task {task} in {file}"))
}

const SAMPLE: &str = "samples/40995749_10.5_1_p1_1314.flac";

#[test]
fn events_go_to_event_models_in_time_order_and_records_see_the_whole_recording() {
    let plain = json(&lungsound(&["predict", "--json", "--threads", "1", SAMPLE]));
    let with_events = json(&lungsound(&[
        "predict",
        "--json",
        "--threads",
        "1",
        SAMPLE,
        "--events",
        "samples/40995749_10.5_1_p1_1314.json",
    ]));
    // The record model's answer does not depend on the events file.
    assert_eq!(
        model(&plain[0], "2-2")["probabilities"],
        model(&with_events[0], "2-2")["probabilities"]
    );
    assert_eq!(
        model(&with_events[0], "2-2")["events"],
        serde_json::json!([])
    );
    // The annotation lists 8.27 s before 6.04 s; predictions come in time order, with the
    // annotation's own indices.
    let events = model(&with_events[0], "1-2")["events"].as_array().unwrap();
    let starts: Vec<f64> = events
        .iter()
        .map(|e| e["start_s"].as_f64().unwrap())
        .collect();
    assert_eq!(starts.len(), 2);
    assert!(starts[0] < starts[1], "{starts:?}");
    assert_eq!(events[0]["index"], 1);
    assert_eq!(plain[0]["duration_s"], 9.216);
}

#[test]
fn a_recording_too_short_for_the_record_model_skips_only_that_model() {
    let dir = temp_dir();
    let short = dir.path().join("short.wav");
    let (audio, _) = lungsound_audio::load(&repo().join(SAMPLE)).unwrap();
    write_wav_i16(&short, &audio.samples[..(2.5 * 8000.0) as usize], 8000);
    let out = lungsound(&[
        "predict",
        "--json",
        "--threads",
        "1",
        short.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = json(&out);
    let tasks: Vec<&str> = file[0]["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["task"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["1-1", "1-2"], "{stderr}");
    assert!(
        stderr.contains("sprsound-records-2-2: the recording lasts 2.50 s")
            && stderr.contains("shorter than"),
        "{stderr}"
    );
    let skipped = file[0]["skipped_models"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{file}");
    assert!(
        skipped[0]
            .as_str()
            .unwrap()
            .starts_with("sprsound-records-2-2: ")
    );
}

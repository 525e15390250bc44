//! `lungsound train` as a new user meets it: the dataset kind is detected, a failed start
//! leaves no run directory behind, and `--resume` on a folder without a run says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use lungsound_testutil::temp_dir;

fn lungsound(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run lungsound")
}

#[test]
fn a_failed_start_leaves_no_debris_and_resume_needs_a_run() {
    let data = lungsound_testutil::skip_without_data!(lungsound_testutil::SPRSOUND_RELEASE_WAV);
    let dir = temp_dir();
    let run = dir.path().join("x6");
    let out = lungsound(&[
        "train",
        "--dataset",
        "icbhi",
        "--data",
        data.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("looks like a SPRSound dataset, not ICBHI 2017"),
        "{stderr}"
    );
    assert!(!run.exists(), "a failed start left {}", run.display());

    for folder in [run.clone(), dir.path().to_path_buf()] {
        let out = lungsound(&["train", "--resume", folder.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("no run to resume"), "{stderr}");
    }
}

#[test]
fn the_dataset_kind_is_detected_when_not_given() {
    let data = lungsound_testutil::skip_without_data!(lungsound_testutil::SPRSOUND_RELEASE_WAV);
    let dir = temp_dir();
    let run = dir.path().join("run");
    let out = lungsound(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--task",
        "1-1",
        "--epochs",
        "1",
        "--threads",
        "2",
        "--device",
        "cpu",
        "--no-cache",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("on SPRSound task 1-1 (1 epoch) on CPU"),
        "{stderr}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["dataset"], "sprsound");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = lungsound(&[
        "train",
        "--data",
        empty.to_str().unwrap(),
        "--task",
        "1-1",
        "--out",
        dir.path().join("r2").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot tell what dataset"), "{stderr}");
}

#[test]
fn the_cache_command_reports_and_clears_only_cache_files() {
    let dir = temp_dir();
    let cache = dir.path().join("features");
    std::fs::create_dir(&cache).unwrap();
    std::fs::write(
        cache.join("r-0000000000000001.lsf"),
        vec![0u8; 2 * 1024 * 1024],
    )
    .unwrap();
    std::fs::write(cache.join("keep.txt"), b"not a cache file").unwrap();
    let out = lungsound(&["cache", cache.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("1 files, 2.0 MiB"), "{stdout}");
    let out = lungsound(&["cache", cache.to_str().unwrap(), "--clear"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("removed 1 files (2.0 MiB)"), "{stdout}");
    assert!(cache.join("keep.txt").is_file());
    assert!(!cache.join("r-0000000000000001.lsf").exists());
}

#[test]
fn a_folder_holding_both_datasets_is_refused_naming_both() {
    let shared = lungsound_testutil::skip_without_data!();
    let dir = temp_dir();
    let out = lungsound(&[
        "segment",
        shared.to_str().unwrap(),
        "--out",
        dir.path().join("clips").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("both SPRSound records") && stderr.contains("ICBHI recordings"),
        "{stderr}"
    );
    assert!(!dir.path().join("clips").exists());
}

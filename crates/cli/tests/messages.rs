//! What the user reads: errors say each cause once, and nothing written to a file or pipe
//! carries terminal colour codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use lungsound_testutil::{temp_dir, wav_bytes};

fn lungsound(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lungsound"));
    command
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG");
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("run lungsound")
}

#[test]
fn a_missing_file_is_reported_with_each_cause_once() {
    let out = lungsound(&["features", "nope.flac", "--out", "x.npy"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    assert_eq!(stderr.matches("nope.flac").count(), 1, "{stderr}");
}

#[test]
fn warnings_on_a_redirected_stderr_have_no_colour_codes() {
    // A release-style header (block_align 4 for mono 16-bit) makes the decoder warn.
    let dir = temp_dir();
    let path = dir.path().join("release_style.wav");
    let mut bytes = wav_bytes(&[0.1; 800], 8000, 1, 16, false);
    bytes[32..34].copy_from_slice(&4u16.to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap();
    for envs in [&[][..], &[("NO_COLOR", "1")][..]] {
        let out = lungsound(&["info", path], envs);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("block_align is 4"), "{stderr}");
        assert!(!stderr.contains('\u{1b}'), "colour codes in {stderr:?}");
    }
}

#[test]
fn augment_reads_segments_own_resampled_clips_without_complaint() {
    let icbhi = lungsound_testutil::skip_without_data!(lungsound_testutil::ICBHI_AUDIO);
    let dir = temp_dir();
    let cycles = dir.path().join("cycles");
    let out = lungsound(
        &[
            "segment",
            icbhi.to_str().unwrap(),
            "--out",
            cycles.to_str().unwrap(),
            "--sample-rate",
            "4000",
            "--length",
            "4",
            "--pad",
            "repeat",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let aug = dir.path().join("aug");
    let out = lungsound(
        &[
            "augment",
            cycles.to_str().unwrap(),
            "--out",
            aug.to_str().unwrap(),
            "--copies",
            "1",
            "--classes",
            "Crackle,Wheeze,Both",
            "--pitch-shift",
            "-2:2",
            "--seed",
            "7",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("WARN"),
        "augment warned about segment's clips:\n{stderr}"
    );
    assert!(!stderr.contains("outside [-1, 1]"), "{stderr}");
}

#[test]
fn a_long_step_under_a_pipe_logs_plain_progress_lines() {
    let dir = temp_dir();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for i in 0..3 {
        std::fs::write(
            input.join(format!("r{i}.wav")),
            wav_bytes(&[0.1; 4000], 8000, 1, 16, false),
        )
        .unwrap();
    }
    let out = lungsound(
        &[
            "features",
            input.to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
        &[("LUNGSOUND_PROGRESS_SECONDS", "0")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("features: ") && l.contains("/3 (")),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn predict_names_a_missing_file_once() {
    let out = lungsound(&["predict", "nope.wav"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert_eq!(first.matches("nope.wav").count(), 1, "{stderr}");
    assert_eq!(first.matches("No such file").count(), 1, "{stderr}");
}

#[test]
fn the_light_commands_do_not_load_libtorch_and_network_commands_are_handed_over() {
    // `lungsound` itself does not link libtorch: `info` and friends start in milliseconds.
    match Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_lungsound"))
        .output()
    {
        Ok(out) if out.status.success() => {
            let libs = String::from_utf8_lossy(&out.stdout);
            assert!(
                !libs.contains("libtorch"),
                "lungsound links libtorch:\n{libs}"
            );
        }
        _ => eprintln!("skipping the ldd check: no ldd here"),
    }
    // A network command is run by lungsound-torch, and still speaks as `lungsound`.
    let out = lungsound(&["predict", "--help"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("Usage: lungsound predict"), "{stdout}");
    let out = lungsound(&["help", "train"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("Usage: lungsound train") && stdout.contains("--epochs"),
        "{stdout}"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = temp_dir();
    let path = dir.path().join("r.wav");
    std::fs::write(&path, wav_bytes(&[0.1; 800], 8000, 1, 16, false)).unwrap();
    // More lines than a pipe buffers (3000 × ~60 bytes > 64 KiB), so the writer meets the
    // closed pipe.
    let mut args = vec!["info".to_string()];
    args.extend(std::iter::repeat_n(
        path.to_str().unwrap().to_string(),
        3000,
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `| head -1` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

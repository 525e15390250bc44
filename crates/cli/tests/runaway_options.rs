//! Options that would make lungsound allocate gigabytes are refused when the arguments are
//! parsed, naming the flag and its range (issue 13's "runaway options" row).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use lungsound_testutil::{sine, temp_dir, write_wav_i16};

#[test]
fn runaway_sizes_and_rates_are_refused_before_any_work() {
    let dir = temp_dir();
    let wav = dir.path().join("tone.wav");
    write_wav_i16(&wav, &sine(440.0, 8000, 1.0, 0.5), 8000);
    let wav = wav.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["features", wav, "--out", out, "--n-fft", "100000000"],
            "--n-fft",
        ),
        (
            &["features", wav, "--out", out, "--n-fft", "1073741824"],
            "--n-fft",
        ),
        (
            &["features", wav, "--out", out, "--sample-rate", "2000000000"],
            "--sample-rate",
        ),
        (
            &["features", wav, "--out", out, "--n-mels", "0"],
            "--n-mels",
        ),
        (
            &["segment", wav, "--out", out, "--length", "1e9"],
            "--length",
        ),
        (
            &["segment", wav, "--out", out, "--length", "100000"],
            "--length",
        ),
        (
            &[
                "evaluate",
                "--model",
                "m",
                "--data",
                "d",
                "--out",
                out,
                "--batch-size",
                "0",
            ],
            "--batch-size",
        ),
        (
            &["augment", out, "--out", out, "--copies", "100000"],
            "--copies",
        ),
    ];
    for (args, flag) in cases {
        let result = Command::new(env!("CARGO_BIN_EXE_lungsound"))
            .args(*args)
            .output()
            .expect("run lungsound");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains("must be in"),
            "{args:?}: {stderr}"
        );
    }
}

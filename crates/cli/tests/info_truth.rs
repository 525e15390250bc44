//! `lungsound info` tells the truth about the files it is given, through the real binary:
//! the SPRSound release WAVs (whose headers say `block_align` 4 for mono 16-bit) report the
//! length their FLAC twins decode to, and damaged or hostile headers (a FLAC cut in half, a
//! FLAC claiming 2^36 - 1 frames, WAV sample rates of 4294967295 and 0 Hz) are reported as
//! errors naming the file, never as an invented duration and never as a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lungsound_testutil::{SPRSOUND_RELEASE_WAV, SPRSOUND_TRAIN, skip_without_data};
use serde_json::Value;

/// The record used for the single-file checks: 9.216 s (73728 frames at 8 kHz) as FLAC.
const RECORD: &str = "40921345_2.7_0_p2_3146";
const RECORD_FRAMES: u64 = 73_728;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `lungsound ARGS` (no assertion on the exit status); never a panic (status 101).
fn lungsound(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(101),
        "lungsound {args:?} panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `lungsound info --json FILES` → (exit code, one JSON object per reported file keyed by
/// its `file` field, stderr).
fn info_json(extra: &[&str], files: &[&Path]) -> (i32, BTreeMap<String, Value>, String) {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["info", "--json"]);
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = lungsound(&args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: BTreeMap<String, Value> = stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            (v["file"].as_str().unwrap().to_owned(), v)
        })
        .collect();
    (
        out.status.code().unwrap(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn key(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

/// The `error: ...` lines of stderr that mention `path`.
fn error_lines_for<'a>(stderr: &'a str, path: &Path) -> Vec<&'a str> {
    let name = path.to_str().unwrap();
    stderr
        .lines()
        .filter(|l| l.starts_with("error:") && l.contains(name))
        .collect()
}

#[test]
fn release_wavs_report_the_length_of_their_flac_twins() {
    let wav_dir = skip_without_data!(SPRSOUND_RELEASE_WAV);
    let flac_dir = skip_without_data!(SPRSOUND_TRAIN);
    let wavs = lungsound_testutil::files_with_extension(&wav_dir, "wav");
    assert_eq!(wavs.len(), 60, "the release folder holds 60 WAVs");
    let twins: Vec<PathBuf> = wavs
        .iter()
        .map(|w| flac_dir.join(w.with_extension("flac").file_name().unwrap()))
        .collect();
    let mut files: Vec<&Path> = wavs.iter().map(PathBuf::as_path).collect();
    files.extend(twins.iter().map(PathBuf::as_path));
    let (code, lines, stderr) = info_json(&[], &files);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines.len(), 120, "one line per file: {stderr}");

    let mut short = 0;
    for (wav, flac) in wavs.iter().zip(&twins) {
        let (w, f) = (&lines[&key(wav)], &lines[&key(flac)]);
        assert_eq!(w["codec"], "wav");
        assert_eq!(f["codec"], "flac");
        for field in ["sample_rate", "channels", "bits_per_sample", "n_frames"] {
            assert_eq!(w[field], f[field], "{}: {field}", wav.display());
        }
        assert_eq!(w["sample_rate"], 8000);
        assert_eq!(w["channels"], 1);
        let (dw, df) = (
            w["duration_s"].as_f64().unwrap(),
            f["duration_s"].as_f64().unwrap(),
        );
        assert!((dw - df).abs() < 1e-9, "{}: {dw} vs {df}", wav.display());
        if f["n_frames"] == RECORD_FRAMES {
            short += 1;
            assert!((dw - 9.216).abs() < 1e-3, "{}: {dw} s", wav.display());
        }
        // The header's block_align 4 is a repair worth a note, not a silent halving.
        let notes = w["notes"].as_array().map_or(0, Vec::len);
        assert!(notes > 0, "{}: no note about block_align", wav.display());
    }
    // 36 of the 60 release records are 9.216 s long, the other 24 15.36 s.
    assert_eq!(short, 36);
    assert!(lines.contains_key(&key(&wav_dir.join(format!("{RECORD}.wav")))));
}

/// Copies of the FLAC twin of [`RECORD`] damaged in `dir`: cut in half, and with
/// STREAMINFO's total-samples field set to 2^36 - 1. Also the intact bytes.
fn damaged_flacs(flac_dir: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let bytes = std::fs::read(flac_dir.join(format!("{RECORD}.flac"))).unwrap();
    assert_eq!(&bytes[..4], b"fLaC");
    // The first metadata block (header at bytes 4..8) is STREAMINFO (type 0), 34 bytes.
    assert_eq!(bytes[4] & 0x7f, 0, "first block is STREAMINFO");
    assert_eq!(&bytes[5..8], &[0, 0, 34]);
    // STREAMINFO from byte 8: min/max block size (2 + 2 bytes), min/max frame size
    // (3 + 3), then 20 bits sample rate, 3 bits channels - 1, 5 bits bits - 1 and 36 bits
    // total samples: the low 36 bits of bytes 21..26.
    let total = (u64::from(bytes[21] & 0x0f) << 32)
        | u64::from(u32::from_be_bytes(bytes[22..26].try_into().unwrap()));
    assert_eq!(total, RECORD_FRAMES, "the twin's header is honest");

    let half = dir.join("cut_in_half.flac");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();

    let mut huge = bytes;
    huge[21] |= 0x0f;
    huge[22..26].copy_from_slice(&[0xff; 4]);
    let huge_path = dir.join("total_samples_2p36.flac");
    std::fs::write(&huge_path, huge).unwrap();
    (half, huge_path)
}

#[test]
fn a_flac_cut_in_half_is_an_error_naming_it_not_its_headers_length() {
    let flac_dir = skip_without_data!(SPRSOUND_TRAIN);
    let dir = lungsound_testutil::temp_dir();
    let (half, _) = damaged_flacs(&flac_dir, dir.path());
    let (code, lines, stderr) = info_json(&[], &[&half]);
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(code, 0, "a skipped file is exit 0 without --strict");
    let errors = error_lines_for(&stderr, &half);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(!errors[0].contains("9.216"), "{}", errors[0]);
    assert!(errors[0].contains("truncated"), "{}", errors[0]);

    let (code, _, _) = info_json(&["--strict"], &[&half]);
    assert_eq!(code, 1);
}

#[test]
fn a_flac_claiming_2_to_the_36_frames_is_not_reported_as_99_days() {
    let flac_dir = skip_without_data!(SPRSOUND_TRAIN);
    let dir = lungsound_testutil::temp_dir();
    let (_, huge) = damaged_flacs(&flac_dir, dir.path());
    let (code, lines, stderr) = info_json(&[], &[&huge]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains("8589934")
            && lines.values().all(|v| {
                let d = v["duration_s"].as_f64().unwrap();
                (d - 9.216).abs() < 1e-3
            }),
        "{lines:?}\n{stderr}"
    );
    match lines.get(&key(&huge)) {
        // Either the truth, decoded ...
        Some(line) => assert_eq!(line["n_frames"], RECORD_FRAMES),
        // ... or an error that names the file and what is wrong with it.
        None => {
            let errors = error_lines_for(&stderr, &huge);
            assert_eq!(errors.len(), 1, "{stderr}");
            assert!(errors[0].contains("68719476735"), "{}", errors[0]);
        }
    }
}

/// A release WAV's bytes with the header's sample rate (bytes 24..28) set to `rate`.
fn wav_with_rate(wav_dir: &Path, rate: u32) -> Vec<u8> {
    let mut bytes = std::fs::read(wav_dir.join(format!("{RECORD}.wav"))).unwrap();
    assert_eq!(&bytes[12..16], b"fmt ");
    assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 8000);
    bytes[24..28].copy_from_slice(&rate.to_le_bytes());
    bytes
}

/// The same for a synthetic canonical WAV (used where the release data is absent).
fn synthetic_wav_with_rate(rate: u32) -> Vec<u8> {
    let samples = lungsound_testutil::sine(440.0, 8000, 0.5, 0.5);
    let mut bytes = lungsound_testutil::wav_bytes(&samples, 8000, 1, 16, false);
    bytes[24..28].copy_from_slice(&rate.to_le_bytes());
    bytes
}

#[test]
fn a_wav_claiming_4294967295_hz_is_refused_naming_the_file_and_the_rate() {
    let dir = lungsound_testutil::temp_dir();
    let mut cases = vec![("synthetic.wav", synthetic_wav_with_rate(u32::MAX))];
    if let Some(wav_dir) = lungsound_testutil::sprsound_release_wav() {
        cases.push(("release.wav", wav_with_rate(&wav_dir, u32::MAX)));
    }
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (code, lines, stderr) = info_json(&[], &[&path]);
        assert!(lines.is_empty(), "{name}: {lines:?}");
        assert_eq!(code, 0, "{name}: {stderr}");
        let errors = error_lines_for(&stderr, &path);
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        assert!(errors[0].contains("4294967295"), "{}", errors[0]);
        let (code, _, _) = info_json(&["--strict"], &[&path]);
        assert_eq!(code, 1, "{name}");
    }
}

#[test]
fn a_zero_hz_wav_among_good_files_is_one_error_line_and_the_rest_is_printed() {
    let wav_dir = skip_without_data!(SPRSOUND_RELEASE_WAV);
    let flac_dir = skip_without_data!(SPRSOUND_TRAIN);
    let dir = lungsound_testutil::temp_dir();
    let folder = dir.path();
    // Sorted: good files before and after the bad one, so a stop at the first error shows.
    let wavs = lungsound_testutil::files_with_extension(&wav_dir, "wav");
    std::fs::copy(&wavs[1], folder.join("a_release.wav")).unwrap();
    std::fs::copy(
        flac_dir.join(format!("{RECORD}.flac")),
        folder.join("b_twin.flac"),
    )
    .unwrap();
    std::fs::write(folder.join("c_zero_hz.wav"), wav_with_rate(&wav_dir, 0)).unwrap();
    std::fs::copy(&wavs[2], folder.join("d_release.wav")).unwrap();
    lungsound_testutil::write_wav_i16(
        &folder.join("e_synthetic.wav"),
        &lungsound_testutil::sine(440.0, 8000, 0.25, 0.5),
        8000,
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let bad = folder.join("c_zero_hz.wav");
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();

    // JSON lines.
    let (code, lines, stderr) = info_json(&[], &paths);
    assert_eq!(code, 0, "exit 0 without --strict: {stderr}");
    let reported: Vec<&String> = lines.keys().collect();
    let good: Vec<String> = files
        .iter()
        .filter(|f| **f != bad)
        .map(|f| key(f))
        .collect();
    assert_eq!(reported, good.iter().collect::<Vec<_>>(), "{stderr}");
    assert_eq!(
        lines[&key(&folder.join("e_synthetic.wav"))]["n_frames"],
        2000
    );
    let errors = error_lines_for(&stderr, &bad);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(" 0 Hz"), "{}", errors[0]);
    let all_errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(all_errors, 1, "only the bad file is an error: {stderr}");

    // With --strict: the same output, exit status 1.
    let (code, strict_lines, _) = info_json(&["--strict"], &paths);
    assert_eq!(code, 1);
    assert_eq!(strict_lines, lines);

    // The table prints a row per good file and the same error line.
    let mut args = vec!["info"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = lungsound(&args);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for f in &good {
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with(f.as_str())).count(),
            1,
            "{f}: {stdout}"
        );
    }
    assert!(!stdout.contains("c_zero_hz"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(error_lines_for(&stderr, &bad).len(), 1, "{stderr}");
}

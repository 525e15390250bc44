//! `lungsound features --png`: a readable figure by default, the bare array
//! image with `--png-raw`, and a PNG without an `.npy`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use lungsound_report::plot::SPECTROGRAM_FIGURE_SIZE;
use lungsound_testutil::{sine, temp_dir, white_noise, write_wav_i16};

fn lungsound(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run lungsound")
}

fn succeed(args: &[&str]) -> String {
    let out = lungsound(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// 2 s of a tone in noise at 8 kHz.
fn write_recording(path: &Path) {
    let tone = sine(600.0, 8000, 2.0, 0.4);
    let noise = white_noise(tone.len(), 3);
    let samples: Vec<f32> = tone.iter().zip(&noise).map(|(t, n)| t + 0.05 * n).collect();
    write_wav_i16(path, &samples, 8000);
}

/// Width and height from the PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn png_alone_writes_the_figure_and_no_npy() {
    let dir = temp_dir();
    let wav = dir.path().join("x.wav");
    write_recording(&wav);
    let fig = dir.path().join("fig.png");
    let stdout = succeed(&[
        "features",
        wav.to_str().unwrap(),
        "--png",
        fig.to_str().unwrap(),
    ]);
    assert!(stdout.contains("fig.png"), "{stdout}");
    assert_eq!(png_size(&fig), SPECTROGRAM_FIGURE_SIZE);
    let npys: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "npy"))
        .collect();
    assert!(npys.is_empty(), "{npys:?}");
    // The log-STFT figure too.
    let fig = dir.path().join("logstft.png");
    succeed(&[
        "features",
        wav.to_str().unwrap(),
        "--kind",
        "logstft",
        "--png",
        fig.to_str().unwrap(),
    ]);
    assert_eq!(png_size(&fig), SPECTROGRAM_FIGURE_SIZE);
}

#[test]
fn png_raw_keeps_the_one_pixel_per_bin_image() {
    let dir = temp_dir();
    let wav = dir.path().join("x.wav");
    write_recording(&wav);
    let npy = dir.path().join("x.npy");
    let raw = dir.path().join("raw.png");
    succeed(&[
        "features",
        wav.to_str().unwrap(),
        "--n-mels",
        "64",
        "--out",
        npy.to_str().unwrap(),
        "--png",
        raw.to_str().unwrap(),
        "--png-raw",
    ]);
    let values = lungsound_features::read_npy(&npy).unwrap();
    assert_eq!(values.nrows(), 64);
    // 2 s at hop 512, centred frames: 1 + 16000 / 512 = 32.
    assert_eq!(png_size(&raw), (values.ncols() as u32, 64));
    assert_eq!(values.ncols(), 32);
}

#[test]
fn pcen_writes_librosas_pcen_of_the_mel_magnitude_and_a_pcen_figure() {
    let dir = temp_dir();
    let wav = dir.path().join("x.wav");
    write_recording(&wav);
    let npy = dir.path().join("x.npy");
    let fig = dir.path().join("fig.png");
    let wav_arg = wav.to_str().unwrap();
    succeed(&[
        "features",
        wav_arg,
        "--n-mels",
        "64",
        "--pcen",
        "--out",
        npy.to_str().unwrap(),
        "--png",
        fig.to_str().unwrap(),
    ]);
    let values = lungsound_features::read_npy(&npy).unwrap();
    let config = lungsound_features::FeatureConfig {
        n_mels: 64,
        pcen: Some(lungsound_features::PcenParams::default()),
        ..lungsound_features::FeatureConfig::default()
    };
    let (audio, _) = lungsound_audio::load(&wav).unwrap();
    let expected = lungsound_features::FeatureExtractor::new(&config, 8000)
        .unwrap()
        .compute(&audio.samples);
    assert_eq!(values, expected);
    assert_eq!(png_size(&fig), SPECTROGRAM_FIGURE_SIZE);
    // PCEN replaces dB, and only a mel spectrogram has it.
    let y = dir.path().join("y.npy");
    let y = y.to_str().unwrap();
    let out = lungsound(&["features", wav_arg, "--pcen", "--db", "--out", y]);
    assert!(!out.status.success());
    let out = lungsound(&["features", wav_arg, "--pcen", "--kind", "stft", "--out", y]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("pcen") && stderr.contains("mel"),
        "{stderr}"
    );
}

#[test]
fn png_raw_needs_png_and_something_must_be_written() {
    let dir = temp_dir();
    let wav = dir.path().join("x.wav");
    write_recording(&wav);
    let wav = wav.to_str().unwrap();
    let out = lungsound(&["features", wav]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--out") && stderr.contains("--png"),
        "{stderr}"
    );
    let out = lungsound(&["features", wav, "--out", "y.npy", "--png-raw"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--png"), "{stderr}");
}

#[test]
fn a_folder_gets_one_figure_per_recording() {
    let dir = temp_dir();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    write_recording(&input.join("a.wav"));
    write_recording(&input.join("sub").join("b.wav"));
    let figs = dir.path().join("figs");
    let raws = dir.path().join("raws");
    succeed(&[
        "features",
        input.to_str().unwrap(),
        "--png",
        figs.to_str().unwrap(),
    ]);
    succeed(&[
        "features",
        input.to_str().unwrap(),
        "--png",
        raws.to_str().unwrap(),
        "--png-raw",
    ]);
    for stem in ["a", "b"] {
        assert_eq!(
            png_size(&figs.join(format!("{stem}.png"))),
            SPECTROGRAM_FIGURE_SIZE
        );
        assert_eq!(png_size(&raws.join(format!("{stem}.png"))).1, 128);
    }
}

//! The shipped models score the SPRSound release WAVs (headers with `block_align` 4 for mono
//! 16-bit) exactly as they score the same 60 records stored as FLAC: `lungsound evaluate`
//! through the real binary on `../shared/data/sprsound/train2022_release_wav/` and on a
//! folder of links to the FLAC twins in `train2022/` gives the same `metrics.json` (every
//! field: no path is written in it) and the same `predictions.csv`, with every unit scored.
//! A decoder that read half of each WAV would lose events past the half-way point and
//! change every spectrogram.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use lungsound_testutil::{SPRSOUND_RELEASE_WAV, SPRSOUND_TRAIN, skip_without_data};
use serde_json::Value;

/// Every model shipped in `models/`, each scored on its own task.
const MODELS: [&str; 3] = [
    "sprsound-events-1-1",
    "sprsound-events-1-2",
    "sprsound-records-2-2",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `lungsound evaluate --model models/MODEL --data DATA --split all` into `out`, on the
/// CPU with 2 threads and no feature cache; returns metrics.json and predictions.csv.
fn evaluate(model: &str, data: &Path, out: &Path) -> (Value, String) {
    let model_dir = format!("models/{model}");
    let args = [
        "evaluate",
        "--model",
        &model_dir,
        "--data",
        data.to_str().unwrap(),
        "--split",
        "all",
        "--out",
        out.to_str().unwrap(),
        "--no-cache",
        "--device",
        "cpu",
        "--threads",
        "2",
    ];
    let output = Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(args)
        .current_dir(repo())
        .env_remove("LUNGSOUND_MODELS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "lungsound {args:?} failed ({:?}): {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    let metrics = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    let predictions = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    (serde_json::from_str(&metrics).unwrap(), predictions)
}

/// A folder in `dir` of links to the FLAC twins (and their JSON) in `train2022` of every
/// release WAV in `release`.
fn flac_twins(release: &Path, train2022: &Path, dir: &Path) -> PathBuf {
    let folder = dir.join("flac-twins");
    std::fs::create_dir(&folder).unwrap();
    let wavs = lungsound_testutil::files_with_extension(release, "wav");
    assert_eq!(wavs.len(), 60, "the release folder holds 60 WAVs");
    for wav in &wavs {
        for ext in ["flac", "json"] {
            let name = wav.with_extension(ext);
            let name = name.file_name().unwrap();
            let twin = train2022.join(name);
            assert!(
                twin.is_file(),
                "{} has no twin {}",
                wav.display(),
                twin.display()
            );
            link_or_copy(&twin, &folder.join(name));
        }
    }
    folder
}

fn link_or_copy(from: &Path, to: &Path) {
    #[cfg(unix)]
    if std::os::unix::fs::symlink(from, to).is_ok() {
        return;
    }
    std::fs::copy(from, to).unwrap();
}

/// The number of annotated events in the JSON files of `folder`.
fn annotated_events(folder: &Path) -> usize {
    lungsound_testutil::files_with_extension(folder, "json")
        .iter()
        .map(|json| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
            v["event_annotation"].as_array().unwrap().len()
        })
        .sum()
}

#[test]
fn shipped_models_score_release_wavs_as_their_flac_twins() {
    let release = skip_without_data!(SPRSOUND_RELEASE_WAV);
    let train2022 = skip_without_data!(SPRSOUND_TRAIN);
    let dir = lungsound_testutil::temp_dir();
    let flacs = flac_twins(&release, &train2022, dir.path());
    let n_events = annotated_events(&release);
    assert_eq!(n_events, annotated_events(&flacs));

    for model in MODELS {
        let (wav_metrics, wav_predictions) =
            evaluate(model, &release, &dir.path().join(format!("{model}-wav")));
        let (flac_metrics, flac_predictions) =
            evaluate(model, &flacs, &dir.path().join(format!("{model}-flac")));

        // Every unit scored, on both: all 60 records, or every annotated event.
        let expected = if model.contains("records") {
            60
        } else {
            n_events
        };
        for (kind, m) in [("wav", &wav_metrics), ("flac", &flac_metrics)] {
            assert_eq!(m["units_skipped"], 0, "{model} on {kind}: {}", m["skipped"]);
            assert_eq!(m["units_expected"], expected, "{model} on {kind}");
            assert_eq!(m["units_scored"], expected, "{model} on {kind}");
        }
        // The scores, field by field for a readable failure, then the whole file.
        for field in [
            "biocas",
            "icbhi",
            "confusion",
            "units_expected",
            "units_scored",
            "units_skipped",
        ] {
            assert_eq!(
                wav_metrics[field], flac_metrics[field],
                "{model}: {field} differs between the release WAVs and the FLAC twins"
            );
        }
        assert_eq!(wav_metrics, flac_metrics, "{model}: metrics.json differs");
        assert_eq!(
            wav_predictions.lines().count(),
            expected + 1,
            "{model}: a header and one row per unit"
        );
        assert_eq!(
            wav_predictions, flac_predictions,
            "{model}: predictions.csv differs"
        );
        println!(
            "{model}: {expected} units, BioCAS Score {} on both",
            wav_metrics["biocas"]["score"]
        );
    }
}

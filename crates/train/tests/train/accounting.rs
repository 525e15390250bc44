//! `evaluate_run` accounts for every unit the annotations define: units without a
//! prediction are counted, explained, and scored as wrong.

use lungsound_eval::BiocasScore;
use lungsound_infer::tch::Device;
use lungsound_infer::{EvaluateOptions, evaluate_run};
use lungsound_testutil::{white_noise, write_wav_i16};

use crate::{SR, torch_rng, trained};

#[test]
fn unscored_units_are_counted_as_errors_and_explained() {
    let f = trained();
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut wavs = Vec::new();
    for entry in std::fs::read_dir(&f.data).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, data.join(path.file_name().unwrap())).unwrap();
        if path.extension().is_some_and(|e| e == "wav") {
            wavs.push(data.join(path.file_name().unwrap()));
        }
    }
    wavs.sort();
    // One recording that cannot be decoded (3 events), one cut to 1.5 s: its event at
    // 2.6–3.7 s lies past the end (1 event); 1.4–2.1 s overlaps the end and is still scored.
    std::fs::write(&wavs[0], b"not audio at all").unwrap();
    let short: Vec<f32> = white_noise((1.5 * f64::from(SR)) as usize, 3)
        .iter()
        .map(|v| v * 0.05)
        .collect();
    write_wav_i16(&wavs[1], &short, SR);

    let out = dir.path().join("eval");
    let report = evaluate_run(&f.run, &data, &out, &EvaluateOptions::new(Device::Cpu)).unwrap();
    let account = &report.account;
    assert_eq!(account.units_expected, 60, "20 recordings × 3 events");
    assert_eq!(account.units_skipped, 4, "{account:?}");
    assert_eq!(account.units_scored, 56);
    assert_eq!(report.metrics.n_samples, 56);
    let reasons: Vec<(&str, usize)> = account
        .skipped
        .iter()
        .map(|r| (r.reason.as_str(), r.count))
        .collect();
    assert_eq!(
        reasons,
        [
            ("the recording could not be decoded", 3),
            ("the event lies past the end of the audio", 1)
        ]
    );

    // The headline counts the 4 as wrong; the scored-only Score is reported beside it.
    let expected =
        BiocasScore::with_unscored(&report.metrics.confusion, 0, &account.skipped_per_class)
            .unwrap();
    assert_eq!(report.metrics.biocas, expected);
    assert!(report.metrics.biocas.score < report.scored_only.biocas.score);

    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["units_expected"], 60);
    assert_eq!(metrics["units_scored"], 56);
    assert_eq!(metrics["units_skipped"], 4);
    assert_eq!(metrics["skipped"][0]["count"], 3);
    assert!(
        metrics["skipped"][0]["examples"][0]
            .as_str()
            .unwrap()
            .contains("not a WAV or FLAC file")
    );
    assert_eq!(metrics["biocas"]["score"], report.metrics.biocas.score);
    assert_eq!(
        metrics["scored_only"]["biocas"]["score"],
        report.scored_only.biocas.score
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("**4 of 60 units got no prediction.**"), "{md}");
    assert!(md.contains("| not scored | 4 of 60 units"), "{md}");
    assert_eq!(
        account.closing_line(report.task).as_deref(),
        Some("4 of 60 events could not be scored; counted as errors in the Score")
    );
}

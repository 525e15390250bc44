//! The models shipped in `models/` through the real binary: `predict` on the
//! sample recordings (README's first command), and `evaluate` reproducing the
//! validation metrics the model cards report, exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lungsound(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(args)
        .current_dir(repo())
        .env_remove("LUNGSOUND_MODELS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lungsound {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn predict_with_the_shipped_models_gives_probabilities_per_model() {
    let out = lungsound(&[
        "predict",
        "--json",
        "--threads",
        "1",
        "samples/40995749_10.5_1_p1_1314.flac",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let predictions = json[0]["predictions"].as_array().unwrap();
    let tasks: Vec<&str> = predictions
        .iter()
        .map(|p| p["task"].as_str().unwrap())
        .collect();
    assert_eq!(
        tasks,
        ["1-1", "1-2", "2-2"],
        "two event models and one record model"
    );
    for p in predictions {
        let probs: Vec<f64> = p["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(probs.len(), p["classes"].as_array().unwrap().len());
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-4);
    }
    // The shipped 1-2 model names the 1-1 model as its gate (gate.json).
    let gated_by: Vec<Option<&str>> = predictions.iter().map(|p| p["gated_by"].as_str()).collect();
    assert_eq!(gated_by, [None, Some("sprsound-events-1-1"), None]);
    // The record model was not trained on this (validation-split) recording;
    // its annotated record label is DAS, which the shipped model gets right.
    assert_eq!(predictions[2]["label"], "DAS");
    // Each event model's timeline tiles the whole 9.216 s recording.
    for p in &predictions[..2] {
        let segments = p["segments"].as_array().unwrap();
        assert_eq!(segments[0]["start_s"].as_f64(), Some(0.0));
        let end = segments.last().unwrap()["end_s"].as_f64().unwrap();
        assert!((end - 9.216).abs() < 1e-9, "{end}");
    }
}

fn probabilities(v: &serde_json::Value) -> Vec<f64> {
    v["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn predict_with_a_gate_combines_the_shipped_pair_event_by_event() {
    let predict = |extra: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec![
            "predict",
            "--json",
            "--threads",
            "1",
            "samples/40995749_10.5_1_p1_1314.flac",
            "--events",
            "samples/40995749_10.5_1_p1_1314.json",
        ];
        args.extend_from_slice(extra);
        let out = lungsound(&args);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json[0]["predictions"].as_array().unwrap().clone()
    };
    let plain = predict(&["--no-gate"]);
    let gated = predict(&["--gate", "models/sprsound-events-1-1"]);
    // The 1-2 model's own gate.json names the same gate: the default is the same prediction.
    assert_eq!(predict(&[]), gated);
    let models: Vec<(&str, Option<&str>)> = gated
        .iter()
        .map(|p| (p["model"].as_str().unwrap(), p["gated_by"].as_str()))
        .collect();
    assert_eq!(
        models,
        [
            ("sprsound-events-1-1", None),
            ("sprsound-events-1-2", Some("sprsound-events-1-1")),
            ("sprsound-records-2-2", None),
        ],
        "only the 1-2 model is gated; the gate and the record model predict alone"
    );
    assert_eq!(gated[0], plain[0]);
    assert_eq!(gated[2], plain[2]);
    assert!(plain[1].get("gated_by").is_none());

    let events = |p: &serde_json::Value| p["events"].as_array().unwrap().clone();
    let (binary, alone, combined) = (events(&gated[0]), events(&plain[1]), events(&gated[1]));
    assert_eq!(combined.len(), 2);
    assert_eq!(binary.len(), combined.len());
    for ((b, a), c) in binary.iter().zip(&alone).zip(&combined) {
        assert_eq!(c["start_s"], a["start_s"]);
        let (b, a, c) = (probabilities(b), probabilities(a), probabilities(c));
        // Normal (class 0 in both tasks) is the gate's probability of Normal ...
        assert!((c[0] - b[0]).abs() < 1e-6, "{c:?} vs gate {b:?}");
        // ... and the rest keeps the 1-2 model's own abnormal proportions.
        let (rest_a, rest_c) = (1.0 - a[0], 1.0 - c[0]);
        for k in 1..a.len() {
            assert!(
                (c[k] - rest_c * a[k] / rest_a).abs() < 1e-5,
                "class {k}: {c:?} vs alone {a:?}"
            );
        }
        assert!((c.iter().sum::<f64>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn a_gate_that_fits_no_model_is_refused_with_its_name() {
    let out = Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args([
            "predict",
            "samples/40995749_10.5_1_p1_1314.flac",
            "--model",
            "models/sprsound-records-2-2",
            "--gate",
            "models/sprsound-events-1-1",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--gate models/sprsound-events-1-1 fits none of the models")
            && stderr.contains("cannot gate a task 2-2 model"),
        "{stderr}"
    );
}

/// A shipped model's `model_card.md`.
fn card(model: &str) -> String {
    std::fs::read_to_string(repo().join("models").join(model).join("model_card.md")).unwrap()
}

/// `lungsound evaluate` on the validation patients of train2022 with `args`
/// added (the model, cache flags); returns `OUT/metrics.json`.
fn evaluate_val(train2022: &Path, out: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec![
        "evaluate",
        "--data",
        train2022.to_str().unwrap(),
        "--split",
        "val",
        "--threads",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    lungsound(&all);
    serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
}

/// `../shared/data/sprsound/train2022`, or `None` (with a skip message) when the data is absent.
fn train2022() -> Option<PathBuf> {
    let data = lungsound_testutil::shared_data();
    if data.is_none() {
        eprintln!("skipped: ../shared/data is absent");
    }
    Some(data?.join("sprsound/train2022"))
}

/// The validation Score written in a model card's selected-epoch table.
fn card_score(model: &str) -> f64 {
    let card = card(model);
    let row = card
        .lines()
        .skip_while(|l| !l.starts_with("| epoch | Score"))
        .nth(2)
        .unwrap();
    row.split('|').nth(2).unwrap().trim().parse().unwrap()
}

#[test]
fn the_shipped_event_model_reproduces_its_validation_score() {
    let Some(train2022) = train2022() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eval");
    let metrics = evaluate_val(
        &train2022,
        &out,
        &[
            "--model",
            "models/sprsound-events-1-2",
            "--no-gate",
            "--no-cache",
        ],
    );
    let score = metrics["biocas"]["score"].as_f64().unwrap();
    let card = card_score("sprsound-events-1-2");
    assert!(
        (score - card).abs() < 5e-5,
        "evaluate {score} vs card {card}"
    );
    assert_eq!(metrics["n_samples"], 1469);
    for file in [
        "predictions.csv",
        "confusion_matrix.png",
        "roc.png",
        "report.md",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

/// The Score column of the row of `model`'s card that starts with `row_start`.
fn card_row_score(model: &str, row_start: &str) -> f64 {
    let card = card(model);
    let row = card
        .lines()
        .find(|l| l.starts_with(row_start))
        .unwrap_or_else(|| panic!("{model}'s card has no row {row_start:?}"));
    row.split('|').nth(3).unwrap().trim().parse().unwrap()
}

#[test]
fn the_shipped_1_1_model_and_the_gated_1_2_evaluation_reproduce_their_cards() {
    let Some(train2022) = train2022() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let evaluate = |extra: &[&str], out: &Path| -> serde_json::Value {
        let mut args = vec!["--cache-dir", cache.to_str().unwrap()];
        args.extend_from_slice(extra);
        evaluate_val(&train2022, out, &args)
    };
    let binary = evaluate(
        &["--model", "models/sprsound-events-1-1"],
        &dir.path().join("1-1"),
    );
    let score = binary["biocas"]["score"].as_f64().unwrap();
    // The 1-1 model is an ensemble (dB + PCEN members): its card's table of scores as shipped.
    let card = card_row_score("sprsound-events-1-1", "| 1-1 (Normal / Adventitious) |");
    assert!(
        (score - card).abs() < 5e-5,
        "1-1: evaluate {score} vs card {card}"
    );

    // The 1-2 model's own gate (gate.json) is the 1-1 model: evaluated by default.
    let gated = evaluate(
        &["--model", "models/sprsound-events-1-2"],
        &dir.path().join("gated"),
    );
    let explicit = evaluate(
        &[
            "--model",
            "models/sprsound-events-1-2",
            "--gate",
            "models/sprsound-events-1-1",
        ],
        &dir.path().join("gated-explicit"),
    );
    assert_eq!(gated["biocas"], explicit["biocas"]);
    // Scoring on a coarser task sums the model's own probabilities: its gate.json does not
    // apply (the gate would replace them on the binary task), as the card's summed row says.
    let summed = evaluate(
        &["--model", "models/sprsound-events-1-2", "--task", "1-1"],
        &dir.path().join("summed"),
    );
    let card_summed = card_row_score(
        "sprsound-events-1-2",
        "| 1-1 (Normal / Adventitious, probabilities summed)",
    );
    let score = summed["biocas"]["score"].as_f64().unwrap();
    assert!(
        (score - card_summed).abs() < 5e-5,
        "1-2 summed to 1-1: evaluate {score} vs card {card_summed}"
    );
    assert_eq!(gated["n_samples"], 1469);
    let score = gated["biocas"]["score"].as_f64().unwrap();
    let card = card_row_score("sprsound-events-1-2", "| 1-2 gated by");
    assert!(
        (score - card).abs() < 5e-5,
        "gated 1-2: evaluate {score} vs card {card}"
    );
    // Every event the gate calls Normal stays Normal after gating (its
    // probability of Normal is then >= 0.5 >= any abnormal share), so the
    // gated SP is at least the 1-1 model's.
    let (sp_gated, sp_binary) = (
        gated["biocas"]["specificity"].as_f64().unwrap(),
        binary["biocas"]["specificity"].as_f64().unwrap(),
    );
    assert!(sp_gated >= sp_binary, "{sp_gated} vs {sp_binary}");
}

/// One HTTP/1.1 request over a fresh connection; the response body.
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: audio/flac\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    (status, serde_json::from_str(body).unwrap())
}

/// Stops the server when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_gates_the_shipped_1_2_model_as_predict_with_a_gate() {
    use std::io::BufRead;
    // No --gate: the shipped 1-2 model's gate.json names its gate.
    let mut child = Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(["serve", "--addr", "127.0.0.1:0", "--threads", "1"])
        .current_dir(repo())
        .env_remove("LUNGSOUND_MODELS")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = KillOnDrop(child);
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut banner = String::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        banner.push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    assert!(
        banner.contains("sprsound-events-1-2 (gated by sprsound-events-1-1)"),
        "{banner}"
    );

    let (status, models) = http(&addr, "GET", "/api/v1/models", b"");
    assert_eq!(status, 200);
    let gated: Vec<Option<&str>> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["gated_by"].as_str())
        .collect();
    assert_eq!(gated, [None, Some("sprsound-events-1-1"), None]);

    let sample = "samples/40995749_10.5_1_p1_1314.flac";
    let audio = std::fs::read(repo().join(sample)).unwrap();
    let (status, answer) = http(&addr, "POST", "/api/v1/predict", &audio);
    assert_eq!(status, 200, "{answer}");
    let out = lungsound(&[
        "predict",
        "--json",
        "--threads",
        "1",
        "--gate",
        "models/sprsound-events-1-1",
        sample,
    ]);
    let predicted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        answer["predictions"], predicted[0]["predictions"],
        "the service and the command give the same gated predictions"
    );

    // 2.5 s: too short for the 2-2 record model (4 s), enough for the event models. The
    // service answers with the models that can, and names the one it skipped, as predict does.
    let (decoded, _) = lungsound_audio::load(&repo().join(sample)).unwrap();
    let short = lungsound_testutil::wav_bytes(&decoded.samples[..20_000], 8000, 1, 16, false);
    let (status, answer) = http(&addr, "POST", "/api/v1/predict", &short);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["predictions"].as_array().unwrap().len(),
        2,
        "{answer}"
    );
    assert!(
        answer["skipped_models"][0]
            .as_str()
            .unwrap()
            .starts_with("sprsound-records-2-2: the recording lasts 2.50 s"),
        "{answer}"
    );
    drop(server);
}

#[test]
fn an_ensemble_of_one_shipped_model_predicts_as_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let ens = dir.path().join("ens-1-2");
    let ens_arg = ens.to_str().unwrap();
    let made = lungsound(&["ensemble", "models/sprsound-events-1-2", "--out", ens_arg]);
    assert!(
        String::from_utf8_lossy(&made.stdout).contains("ensemble of 1 run(s), task 1-2"),
        "{}",
        String::from_utf8_lossy(&made.stdout)
    );
    let sample = "samples/40995749_10.5_1_p1_1314.flac";
    let predict = |model: &str| -> serde_json::Value {
        let out = lungsound(&[
            "predict",
            "--json",
            "--threads",
            "1",
            "--no-gate", // an ensemble holds networks, not the 1-2 model's gate.json
            "--model",
            model,
            sample,
        ]);
        let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json[0]["predictions"][0]["model"] = serde_json::Value::Null;
        json
    };
    assert_eq!(predict(ens_arg), predict("models/sprsound-events-1-2"));
    // Making it again over the same folder is refused, naming it.
    let again = Command::new(env!("CARGO_BIN_EXE_lungsound"))
        .args(["ensemble", "models/sprsound-events-1-2", "--out", ens_arg])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a run"));
}

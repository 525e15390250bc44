//! End-to-end tests of lungsound-train on tiny synthetic SPRSound-format
//! datasets: recordings of noise with tone bursts, where an event's class is
//! its tone frequency (Normal 300 Hz, Wheeze 1500 Hz) — learnable in a few
//! epochs on the CPU.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// More tests in this binary (one test binary per crate; they share the fixtures below).
#[path = "train/accounting.rs"]
mod accounting;
#[path = "train/attention.rs"]
mod attention;
#[path = "train/augment.rs"]
mod augment;
#[path = "train/cv.rs"]
mod cv;
#[path = "train/early_stopping.rs"]
mod early_stopping;
#[path = "train/ensemble.rs"]
mod ensemble;
#[path = "train/fuzz.rs"]
mod fuzz;
#[path = "train/gate.rs"]
mod gate;
#[path = "train/gate_file.rs"]
mod gate_file;
#[path = "train/pcen.rs"]
mod pcen;
#[path = "train/recipes.rs"]
mod recipes;
#[path = "train/stack.rs"]
mod stack;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use lungsound_datasets::{DatasetKind, Task};
use lungsound_infer::tch::{self, Device};
use lungsound_infer::{
    EvalSplit, EvaluateOptions, ExperimentConfig, FeatureCache, Predictor, evaluate_run,
};
use lungsound_testutil::{sine, white_noise, write_wav_i16};
use lungsound_train::{TrainOptions, read_history, resume, train};

const SR: u32 = 8000;
const NORMAL_HZ: f64 = 300.0;
const WHEEZE_HZ: f64 = 1500.0;

/// Writes `n_patients × 2` recordings of 4 s with 3 events each. Events are
/// stored out of time order in every other recording. Returns the folder.
fn synthetic_sprsound(dir: &Path, n_patients: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for p in 0..n_patients {
        for r in 0..2 {
            let stem = format!(
                "{}_{}.5_{}_p{}_{}",
                41000000 + p,
                5 + p % 7,
                p % 2,
                r + 1,
                100 + 2 * p + r
            );
            let k = p * 2 + r;
            // The noise level varies between recordings (0.02–0.08) so that
            // the model keys on the tone, not on one exact noise floor.
            let noise_level = 0.02 + 0.01 * (k % 7) as f32;
            let mut x: Vec<f32> = white_noise(4 * SR as usize, (p * 10 + r) as u64)
                .iter()
                .map(|v| v * noise_level)
                .collect();
            // (start_s, end_s, wheeze?)
            let events = [
                (0.2, 1.0, k % 3 == 0),
                (1.4, 2.1, k % 2 == 0),
                (2.6, 3.7, k % 5 == 1),
            ];
            for &(a, b, wheeze) in &events {
                let tone = sine(if wheeze { WHEEZE_HZ } else { NORMAL_HZ }, SR, b - a, 0.5);
                let start = (a * f64::from(SR)) as usize;
                for (i, v) in tone.iter().enumerate() {
                    x[start + i] += v;
                }
            }
            write_wav_i16(&dir.join(format!("{stem}.wav")), &x, SR);
            let mut listed: Vec<_> = events.iter().collect();
            if r == 1 {
                listed.reverse(); // unsorted annotation
            }
            let list: Vec<String> = listed
                .iter()
                .map(|&&(a, b, w)| {
                    format!(
                        r#"{{"start": {}, "end": "{}", "type": "{}"}}"#,
                        (a * 1000.0) as i64,
                        (b * 1000.0) as i64,
                        if w { "Wheeze" } else { "Normal" }
                    )
                })
                .collect();
            let record = if events.iter().any(|e| e.2) {
                "CAS"
            } else {
                "Normal"
            };
            let json = format!(
                r#"{{"record_annotation": "{record}", "event_annotation": [{}]}}"#,
                list.join(", ")
            );
            std::fs::write(dir.join(format!("{stem}.json")), json).unwrap();
        }
    }
}

/// A small, fast config: 1 s clips, 16 mels.
fn tiny_config(data: &Path, task: Task, epochs: usize) -> ExperimentConfig {
    let mut c = ExperimentConfig::new(DatasetKind::SprSound, task, data);
    c.features.clip_seconds = 1.0;
    c.features.window_hop_seconds = 0.5;
    c.features.spectrogram.n_fft = 256;
    c.features.spectrogram.hop_length = 128;
    c.features.spectrogram.n_mels = 16;
    c.training.epochs = epochs;
    c.training.batch_size = 16;
    c.training.patience = None;
    c.training.ema_decay = 0.9;
    c.optimizer.lr = 3e-3;
    c.split.val_fraction = 0.3;
    c.refresh_derived();
    c
}

/// Asserts that the run in `run` learnt (best validation Score >= 0.8) and that evaluating
/// its reloaded model on the validation split, without a feature cache, reproduces that
/// Score exactly: the saved config recomputes the features training used.
fn assert_reloaded_run_reproduces_its_best_score(run: &Path, data: &Path, eval_dir: &Path) {
    let history = read_history(run).unwrap();
    let best = history.iter().map(|r| r.val_score).fold(f64::MIN, f64::max);
    assert!(best >= 0.8, "validation Score {best}: {history:#?}");
    let mut options = EvaluateOptions::new(Device::Cpu);
    options.split = EvalSplit::Val;
    let report = evaluate_run(run, data, eval_dir, &options).unwrap();
    assert!(
        (report.metrics.biocas.score - best).abs() < 1e-9,
        "{} vs {best}",
        report.metrics.biocas.score
    );
}

/// The probability columns of every row of `eval_dir/predictions.csv`.
fn prediction_rows(eval_dir: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(eval_dir.join("predictions.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(6).map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// libtorch's random generator (initialisation, dropout) is process-global
/// and the tests run on parallel threads: every test that builds a network
/// holds this lock so that training runs are reproducible.
fn torch_rng() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn cpu_options() -> TrainOptions {
    tch::set_num_threads(1);
    TrainOptions::new(Device::Cpu)
}

struct Fixture {
    _dir: tempfile::TempDir,
    data: PathBuf,
    run: PathBuf,
}

/// One dataset and one trained 1-1 run shared by the tests that only read it.
fn trained() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        synthetic_sprsound(&data, 10);
        let run = dir.path().join("runs/events");
        let mut options = cpu_options();
        options.cache = FeatureCache::new(dir.path().join("cache"));
        let _rng = torch_rng();
        train(tiny_config(&data, Task::EventBinary, 8), &run, &options).unwrap();
        Fixture {
            _dir: dir,
            data,
            run,
        }
    })
}

#[test]
fn a_short_run_learns_and_writes_the_run_directory() {
    let f = trained();
    let history = read_history(&f.run).unwrap();
    assert_eq!(history.len(), 8);
    let best = history.iter().map(|r| r.val_accuracy).fold(0.0, f64::max);
    assert!(
        best >= 0.9,
        "validation accuracy {best} (chance 0.5): {history:#?}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["dataset"], "sprsound");
    assert_eq!(config["task"], "1-1");
    assert!(
        config["normalization"]["mean"]
            .as_array()
            .is_some_and(|m| m.len() == 16)
    );
    assert!(
        config["split"]["val_patients"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    let header = std::fs::read_to_string(f.run.join("history.csv")).unwrap();
    assert!(header.starts_with(
        "epoch,train_loss,val_loss,val_accuracy,val_score,val_se,val_sp,lr,seconds\n"
    ));
    let card = std::fs::read_to_string(f.run.join("model_card.md")).unwrap();
    assert!(card.contains("Normal, Adventitious") && card.contains("patient-wise"));
    assert!(f.run.join("model.safetensors").is_file());
    // A second `train` into the same folder is refused (before any training).
    let err = train(
        tiny_config(&f.data, Task::EventBinary, 1),
        &f.run,
        &cpu_options(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("resume"), "{err}");
}

#[test]
fn resuming_a_killed_run_gives_the_same_history_and_weights() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 6);
    let config = tiny_config(&data, Task::EventBinary, 2);
    let options = cpu_options();
    let _rng = torch_rng();
    let straight = dir.path().join("straight");
    train(config.clone(), &straight, &options).unwrap();

    let killed = dir.path().join("killed");
    let mut first = options.clone();
    first.stop_after = Some(1);
    let partial = train(config, &killed, &first).unwrap();
    assert_eq!((partial.history.len(), partial.finished), (1, false));
    let resumed = resume(&killed, None, &options).unwrap();
    assert!(resumed.finished);

    let strip = |dir: &Path| {
        read_history(dir)
            .unwrap()
            .into_iter()
            .map(|mut r| {
                r.seconds = 0.0;
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&straight), strip(&killed));
    assert_eq!(
        std::fs::read(straight.join("model.safetensors")).unwrap(),
        std::fs::read(killed.join("model.safetensors")).unwrap()
    );
    let weights = |dir: &Path| {
        let mut t = tch::Tensor::read_safetensors(dir.join("checkpoint.safetensors")).unwrap();
        t.retain(|(n, _)| n != "trainer_state");
        t.sort_by(|a, b| a.0.cmp(&b.0));
        t
    };
    for ((na, a), (nb, b)) in weights(&straight).iter().zip(weights(&killed).iter()) {
        assert_eq!(na, nb);
        assert!(a.equal(b), "{na} differs after resume");
    }
}

#[test]
fn evaluate_twice_gives_identical_files_and_event_indices_as_stored() {
    let f = trained();
    let _rng = torch_rng(); // loading builds (randomly initialised) networks
    let dir = tempfile::tempdir().unwrap();
    let mut options = EvaluateOptions::new(Device::Cpu);
    options.split = EvalSplit::Val;
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let report = evaluate_run(&f.run, &f.data, &a, &options).unwrap();
    options.cache = FeatureCache::new(dir.path().join("cache"));
    evaluate_run(&f.run, &f.data, &b, &options).unwrap();
    for file in ["metrics.json", "predictions.csv"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    for file in ["confusion_matrix.png", "roc.png", "report.md"] {
        assert!(a.join(file).is_file(), "{file} missing");
    }
    // The selected epoch's validation Score is what evaluate measures on the validation split.
    let history = read_history(&f.run).unwrap();
    let config = ExperimentConfig::load(&f.run).unwrap();
    let _ = config;
    let best = history.iter().map(|r| r.val_score).fold(f64::MIN, f64::max);
    assert!(
        (report.metrics.biocas.score - best).abs() < 1e-9,
        "{} vs {best}",
        report.metrics.biocas.score
    );

    let csv = std::fs::read_to_string(a.join("predictions.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("record,event_index,start_s,end_s,true_label,predicted_label,Normal,Adventitious")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), report.metrics.n_samples);
    // Every unit of the validation split was scored, and metrics.json says so.
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["units_expected"], rows.len());
    assert_eq!(metrics["units_scored"], rows.len());
    assert_eq!(metrics["units_skipped"], 0);
    assert_eq!(metrics["skipped"], serde_json::json!([]));
    assert!(metrics.get("scored_only").is_none());
    // Check the label of every row against the stored annotation (reversed in `_p2_` files).
    for row in &rows {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(f.data.join(format!("{}.json", row[0]))).unwrap(),
        )
        .unwrap();
        let index: usize = row[1].parse().unwrap();
        let stored = json["event_annotation"][index]["type"].as_str().unwrap();
        let expected = if stored == "Normal" {
            "Normal"
        } else {
            "Adventitious"
        };
        assert_eq!(row[4], expected, "{row:?}");
        let (p_normal, p_adventitious): (f64, f64) =
            (row[6].parse().unwrap(), row[7].parse().unwrap());
        assert!((p_normal + p_adventitious - 1.0).abs() < 1e-5);
        let predicted = if p_adventitious > p_normal {
            "Adventitious"
        } else {
            "Normal"
        };
        assert_eq!(row[5], predicted, "{row:?}");
        let (start, end): (f64, f64) = (row[2].parse().unwrap(), row[3].parse().unwrap());
        assert!(start < end, "{row:?}");
    }
    assert!(rows.iter().any(|r| r[0].contains("_p2_") && r[1] == "0"));
}

/// 5 s at 16 kHz (resampled to 8 kHz by the models): a Normal tone, then a
/// wheeze from 2.5 s.
fn tone_then_wheeze() -> lungsound_audio::Audio {
    let mut x = sine(NORMAL_HZ, 16000, 2.5, 0.5);
    x.extend(sine(WHEEZE_HZ, 16000, 2.5, 0.5));
    let noise = white_noise(x.len(), 3);
    let samples: Vec<f32> = x.iter().zip(&noise).map(|(a, b)| a + 0.05 * b).collect();
    lungsound_audio::Audio {
        samples,
        sample_rate: 16000,
    }
}

#[test]
fn predictor_gives_events_and_a_timeline_and_serialises() {
    let f = trained();
    let _rng = torch_rng();
    let predictor = Predictor::load(&f.run, Device::Cpu).unwrap();
    let audio = tone_then_wheeze();
    let with_events = predictor
        .predict(&audio, Some(&[(3.0, 4.0), (0.5, 1.5)]))
        .unwrap();
    assert_eq!(with_events.events.len(), 2);
    assert_eq!(
        with_events.events[0].label, "Adventitious",
        "{with_events:?}"
    );
    assert_eq!(with_events.events[1].label, "Normal", "{with_events:?}");
    assert_eq!(with_events.events[1].index, 1);
    assert!(with_events.segments.is_empty());

    let timeline = predictor.predict(&audio, None).unwrap();
    assert!(timeline.events.is_empty());
    assert_eq!(
        timeline.segments.first().map(|s| s.label.as_str()),
        Some("Normal")
    );
    assert_eq!(
        timeline.segments.last().map(|s| s.label.as_str()),
        Some("Adventitious")
    );
    assert_eq!(timeline.segments.first().map(|s| s.start_s), Some(0.0));
    assert!((timeline.segments.last().map_or(0.0, |s| s.end_s) - 5.0).abs() < 1e-9);

    let json = serde_json::to_value(&timeline).unwrap();
    for key in [
        "task",
        "classes",
        "duration_s",
        "label",
        "probabilities",
        "events",
        "segments",
        "warnings",
    ] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
    assert_eq!(json["task"], "1-1");
    assert_eq!(json["segments"][0]["label"], "Normal");
}

#[test]
fn a_record_task_trains_on_windows_and_reports_one_row_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 6);
    let run = dir.path().join("run");
    let mut config = tiny_config(&data, Task::RecordTernary, 1);
    config.features.clip_seconds = 2.0;
    config.features.window_hop_seconds = 1.0;
    config.refresh_derived();
    let _rng = torch_rng();
    let report = train(config, &run, &cpu_options()).unwrap();
    assert_eq!(report.history.len(), 1);
    assert_eq!(
        report.n_train_clips,
        report.config.split.n_train_recordings * 3
    );
    let out = dir.path().join("eval");
    evaluate_run(&run, &data, &out, &EvaluateOptions::new(Device::Cpu)).unwrap();
    let csv = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert!(
        csv.starts_with("record,true_label,predicted_label,Normal,Poor Quality,Adventitious\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 12);
}

#[test]
fn a_fine_model_is_scored_on_the_coarser_task_by_summing_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 6);
    let run = dir.path().join("run");
    let _rng = torch_rng();
    train(
        tiny_config(&data, Task::EventMulti, 1),
        &run,
        &cpu_options(),
    )
    .unwrap();

    let fine_dir = dir.path().join("fine");
    let fine = evaluate_run(&run, &data, &fine_dir, &EvaluateOptions::new(Device::Cpu)).unwrap();
    assert_eq!(fine.task, Task::EventMulti);
    let mut options = EvaluateOptions::new(Device::Cpu);
    options.task = Some(Task::EventBinary);
    let coarse_dir = dir.path().join("coarse");
    let coarse = evaluate_run(&run, &data, &coarse_dir, &options).unwrap();
    assert_eq!(coarse.task, Task::EventBinary);
    assert_eq!(coarse.metrics.n_samples, fine.metrics.n_samples);

    let rows = |d: &Path| -> Vec<Vec<String>> {
        std::fs::read_to_string(d.join("predictions.csv"))
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let (fine_rows, coarse_rows) = (rows(&fine_dir), rows(&coarse_dir));
    assert_eq!(
        coarse_rows[0].join(","),
        "record,event_index,start_s,end_s,true_label,predicted_label,Normal,Adventitious"
    );
    for (f, c) in fine_rows[1..].iter().zip(&coarse_rows[1..]) {
        assert_eq!(f[..2], c[..2]);
        let expected = if f[4] == "Normal" {
            "Normal"
        } else {
            "Adventitious"
        };
        assert_eq!(c[4], expected);
        let p: Vec<f64> = f[6..].iter().map(|v| v.parse().unwrap()).collect();
        let q: Vec<f64> = c[6..].iter().map(|v| v.parse().unwrap()).collect();
        assert!((q[0] - p[0]).abs() < 1e-6, "{f:?} {c:?}");
        assert!(
            (q[1] - p[1..].iter().sum::<f64>()).abs() < 1e-5,
            "{f:?} {c:?}"
        );
    }

    // A coarse model cannot be scored on a finer task.
    let mut options = EvaluateOptions::new(Device::Cpu);
    options.task = Some(Task::RecordTernary);
    let err = evaluate_run(&run, &data, &dir.path().join("x"), &options).unwrap_err();
    assert!(
        err.to_string().contains("cannot be scored on task 2-1"),
        "{err}"
    );
}

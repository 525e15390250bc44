//! Ensembles of runs: written as one folder, loaded wherever a run is, the mean of the
//! members' probabilities in prediction and evaluation.

use lungsound_datasets::Task;
use lungsound_infer::ensemble::{ENSEMBLE_FILE, write_ensemble};
use lungsound_infer::models::{load_models, run_dirs};
use lungsound_infer::tch::Device;
use lungsound_infer::{EvaluateOptions, GateChoice, Predictor, evaluate_run};
use lungsound_train::train;

use super::{cpu_options, prediction_rows, tiny_config, tone_then_wheeze, torch_rng, trained};

#[test]
fn an_ensemble_predicts_and_scores_the_mean_of_its_members() {
    let f = trained(); // member a: the shared 1-1 run
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    // member b: the same task and features, another seed
    let b = dir.path().join("b");
    let mut config = tiny_config(&f.data, Task::EventBinary, 2);
    config.training.seed = 7;
    train(config, &b, &cpu_options()).unwrap();

    let models = dir.path().join("models");
    let ens = models.join("ens");
    let config = write_ensemble(&ens, &[f.run.clone(), b.clone()], "lungsound ensemble …").unwrap();
    assert_eq!(config.task, Task::EventBinary);
    for file in [ENSEMBLE_FILE, "config.json", "model_card.md"] {
        assert!(ens.join(file).is_file(), "{file}");
    }
    let member_dir = f.run.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        ens.join("members")
            .join(&member_dir)
            .join("model.safetensors")
            .is_file()
    );
    // A folder holding the ensemble lists it as one model, not its members.
    assert_eq!(run_dirs(&models).unwrap(), vec![ens.clone()]);
    assert_eq!(
        load_models(&models, &GateChoice::Off, Device::Cpu)
            .unwrap()
            .len(),
        1
    );

    // Prediction: the mean of the members' probabilities, events and windows alike.
    let audio = tone_then_wheeze();
    let events = [(0.2, 1.2), (2.6, 3.6)];
    let pa = Predictor::load(&f.run, Device::Cpu).unwrap();
    let pb = Predictor::load(&b, Device::Cpu).unwrap();
    let pe = Predictor::load(&ens, Device::Cpu).unwrap();
    let (ra, rb, re) = (
        pa.predict(&audio, Some(&events)).unwrap(),
        pb.predict(&audio, Some(&events)).unwrap(),
        pe.predict(&audio, Some(&events)).unwrap(),
    );
    for ((a, b), e) in ra.events.iter().zip(&rb.events).zip(&re.events) {
        for ((x, y), z) in a
            .probabilities
            .iter()
            .zip(&b.probabilities)
            .zip(&e.probabilities)
        {
            assert!((z - (x + y) / 2.0).abs() < 1e-6, "{a:?} {b:?} {e:?}");
        }
    }
    let windows = pe.predict(&audio, None).unwrap();
    assert!(!windows.segments.is_empty());

    // Evaluation: every unit's probabilities are the members' mean.
    let options = EvaluateOptions::new(Device::Cpu);
    let (ea, eb, ee) = (
        dir.path().join("ea"),
        dir.path().join("eb"),
        dir.path().join("ee"),
    );
    evaluate_run(&f.run, &f.data, &ea, &options).unwrap();
    evaluate_run(&b, &f.data, &eb, &options).unwrap();
    let report = evaluate_run(&ens, &f.data, &ee, &options).unwrap();
    assert!(report.metrics.n_samples > 0);
    let (ta, tb, te) = (
        prediction_rows(&ea),
        prediction_rows(&eb),
        prediction_rows(&ee),
    );
    assert_eq!(te.len(), ta.len());
    for ((x, y), z) in ta.iter().zip(&tb).zip(&te) {
        for ((x, y), z) in x.iter().zip(y).zip(z) {
            assert!((z - (x + y) / 2.0).abs() < 1e-6);
        }
    }

    // An ensemble of one run answers exactly as the run.
    let single = dir.path().join("single");
    write_ensemble(&single, std::slice::from_ref(&b), "one").unwrap();
    let rs = Predictor::load(&single, Device::Cpu)
        .unwrap()
        .predict(&audio, Some(&events))
        .unwrap();
    assert_eq!(rs.events, rb.events);
}

#[test]
fn members_that_do_not_fit_together_are_refused() {
    let f = trained();
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let other_task = dir.path().join("fine");
    train(
        tiny_config(&f.data, Task::EventMulti, 1),
        &other_task,
        &cpu_options(),
    )
    .unwrap();
    let err = write_ensemble(&dir.path().join("e1"), &[f.run.clone(), other_task], "x")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot be an ensemble member") && err.contains("task 1-2"),
        "{err}"
    );

    let mut config = tiny_config(&f.data, Task::EventBinary, 1);
    config.features.clip_seconds = 1.5;
    let other_clip = dir.path().join("clip");
    train(config, &other_clip, &cpu_options()).unwrap();
    let err = write_ensemble(&dir.path().join("e2"), &[f.run.clone(), other_clip], "x")
        .unwrap_err()
        .to_string();
    assert!(err.contains("other clip settings"), "{err}");

    let err = write_ensemble(&dir.path().join("e3"), &[f.run.clone(), f.run.clone()], "x")
        .unwrap_err()
        .to_string();
    assert!(err.contains("two members are called"), "{err}");
    assert!(write_ensemble(&dir.path().join("e4"), &[], "x").is_err());
    assert!(
        !dir.path().join("e1").join("config.json").exists(),
        "nothing half-written"
    );
}

#[test]
fn members_on_different_spectrograms_each_compute_their_own() {
    let f = trained(); // member a: the shared 1-1 run on log-mel
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    // member b: the same clips, PCEN instead of dB
    let b = dir.path().join("pcen");
    let mut config = tiny_config(&f.data, Task::EventBinary, 2);
    config.features.spectrogram.db = false;
    config.features.spectrogram.pcen = Some(lungsound_features::PcenParams::default());
    config.refresh_derived();
    train(config, &b, &cpu_options()).unwrap();

    let audio = tone_then_wheeze();
    let events = [(0.2, 1.2), (2.6, 3.6)];
    let pa = Predictor::load(&f.run, Device::Cpu).unwrap();
    let pb = Predictor::load(&b, Device::Cpu).unwrap();
    let options = EvaluateOptions::new(Device::Cpu);
    let (ea, eb) = (dir.path().join("ea"), dir.path().join("eb"));
    evaluate_run(&f.run, &f.data, &ea, &options).unwrap();
    evaluate_run(&b, &f.data, &eb, &options).unwrap();
    let (ta, tb) = (prediction_rows(&ea), prediction_rows(&eb));
    // Either member first: the group on the ensemble's own features reads its set, the
    // other computes its own spectrograms of the same clips.
    for (name, members) in [
        ("db-first", [f.run.clone(), b.clone()]),
        ("pcen-first", [b.clone(), f.run.clone()]),
    ] {
        let ens = dir.path().join(name);
        write_ensemble(&ens, &members, "lungsound ensemble …").unwrap();
        let card = std::fs::read_to_string(ens.join("model_card.md")).unwrap();
        assert!(
            card.contains("mel, 16 bands, PCEN") && card.contains("mel, 16 bands, dB"),
            "{card}"
        );
        let pe = Predictor::load(&ens, Device::Cpu).unwrap();
        for given in [Some(&events[..]), None] {
            let (ra, rb, re) = (
                pa.predict(&audio, given).unwrap(),
                pb.predict(&audio, given).unwrap(),
                pe.predict(&audio, given).unwrap(),
            );
            assert!(
                re.probabilities
                    .iter()
                    .zip(&ra.probabilities)
                    .any(|(e, a)| e != a)
            );
            for ((x, y), z) in ra
                .probabilities
                .iter()
                .zip(&rb.probabilities)
                .zip(&re.probabilities)
            {
                assert!(
                    (z - (x + y) / 2.0).abs() < 1e-6,
                    "{name}: {ra:?} {rb:?} {re:?}"
                );
            }
        }
        let ee = dir.path().join(format!("eval-{name}"));
        evaluate_run(&ens, &f.data, &ee, &options).unwrap();
        let te = prediction_rows(&ee);
        assert_eq!(te.len(), ta.len());
        for ((x, y), z) in ta.iter().zip(&tb).zip(&te) {
            for ((x, y), z) in x.iter().zip(y).zip(z) {
                assert!((z - (x + y) / 2.0).abs() < 1e-6, "{name}");
            }
        }
    }
}

//! Two-stage ("gated") scoring and prediction: a 1-1 run gives Normal, a 1-2
//! run splits the rest, in `evaluate_run` and in `Predictor::predict_gated`.

use std::path::Path;

use lungsound_datasets::Task;
use lungsound_infer::tch::Device;
use lungsound_infer::{EvalSplit, EvaluateOptions, Predictor, evaluate_run};
use lungsound_train::train;

use super::{cpu_options, tiny_config, tone_then_wheeze, torch_rng, trained};

#[test]
fn a_binary_gate_decides_normal_and_the_fine_model_the_abnormal_class() {
    let f = trained(); // the 1-1 run: the gate
    // Held throughout: training and loading networks both draw from
    // libtorch's global generator.
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let fine_run = dir.path().join("fine-run");
    train(
        tiny_config(&f.data, Task::EventMulti, 1),
        &fine_run,
        &cpu_options(),
    )
    .unwrap();
    let rows = |d: &Path| -> Vec<Vec<String>> {
        std::fs::read_to_string(d.join("predictions.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let numbers =
        |row: &[String]| -> Vec<f64> { row[6..].iter().map(|v| v.parse().unwrap()).collect() };
    let options = EvaluateOptions::new(Device::Cpu);
    let (gate_dir, fine_dir, gated_dir) = (
        dir.path().join("gate"),
        dir.path().join("fine"),
        dir.path().join("gated"),
    );
    evaluate_run(&f.run, &f.data, &gate_dir, &options).unwrap();
    evaluate_run(&fine_run, &f.data, &fine_dir, &options).unwrap();
    let mut gated_options = options.clone();
    gated_options.gate = Some(f.run.clone());
    let report = evaluate_run(&fine_run, &f.data, &gated_dir, &gated_options).unwrap();
    assert_eq!(report.task, Task::EventMulti);
    let (gate, fine, gated) = (rows(&gate_dir), rows(&fine_dir), rows(&gated_dir));
    assert_eq!(gated.len(), fine.len());
    assert_eq!(gated.len(), gate.len());
    for ((g, p), q) in gate.iter().zip(&fine).zip(&gated) {
        assert_eq!(g[..2], q[..2], "same units in the same order");
        let (g, p, q) = (numbers(g), numbers(p), numbers(q));
        assert!((q.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{q:?}");
        assert!(
            (q[0] - g[0]).abs() < 1e-6,
            "Normal from the gate: {q:?} vs {g:?}"
        );
        let abnormal: f64 = p[1..].iter().sum();
        for c in 1..p.len() {
            let expected = (1.0 - g[0]) * p[c] / abnormal;
            assert!((q[c] - expected).abs() < 1e-5, "{q:?} {p:?} {g:?}");
        }
    }
    let report_md = std::fs::read_to_string(gated_dir.join("report.md")).unwrap();
    assert!(report_md.contains("gated by"), "{report_md}");

    // Only a two-class Normal-vs-abnormal run of a coarser task can gate.
    let mut wrong = options.clone();
    wrong.gate = Some(fine_run.clone());
    let err = evaluate_run(&fine_run, &f.data, &dir.path().join("x"), &wrong).unwrap_err();
    assert!(
        err.to_string().contains("cannot gate a task 1-2 model"),
        "{err}"
    );
    let mut missing = options.clone();
    missing.gate = Some(dir.path().join("no-such-run"));
    let err = evaluate_run(&fine_run, &f.data, &dir.path().join("y"), &missing).unwrap_err();
    assert!(err.to_string().contains("no-such-run"), "{err}");

    // A gate on other features scores its own clips: its Normal column again.
    let coarse_gate = dir.path().join("coarse-gate");
    let mut config = tiny_config(&f.data, Task::EventBinary, 1);
    config.features.spectrogram.n_mels = 20;
    config.refresh_derived();
    train(config, &coarse_gate, &cpu_options()).unwrap();
    let coarse_dir = dir.path().join("coarse-gate-eval");
    evaluate_run(&coarse_gate, &f.data, &coarse_dir, &options).unwrap();
    let mut coarse = options.clone();
    coarse.gate = Some(coarse_gate.clone());
    let coarse_gated = dir.path().join("coarse-gated");
    evaluate_run(&fine_run, &f.data, &coarse_gated, &coarse).unwrap();
    for (g, q) in rows(&coarse_dir).iter().zip(&rows(&coarse_gated)) {
        assert_eq!(g[..2], q[..2]);
        let (g, q) = (numbers(g), numbers(q));
        assert!((q[0] - g[0]).abs() < 1e-6, "{q:?} vs {g:?}");
    }

    // On the validation split the gate must have held out the same patients.
    let mut val = gated_options.clone();
    val.split = EvalSplit::Val;
    evaluate_run(&fine_run, &f.data, &dir.path().join("val"), &val).unwrap();
    let other_split = dir.path().join("other-split-gate");
    let mut config = tiny_config(&f.data, Task::EventBinary, 1);
    config.split.seed = 7;
    train(config, &other_split, &cpu_options()).unwrap();
    val.gate = Some(other_split);
    let err = evaluate_run(&fine_run, &f.data, &dir.path().join("z"), &val).unwrap_err();
    assert!(
        err.to_string()
            .contains("held out other validation patients"),
        "{err}"
    );

    // Prediction gates the same way, event by event and window by window.
    let fine = Predictor::load(&fine_run, Device::Cpu).unwrap();
    let gate = Predictor::load(&f.run, Device::Cpu).unwrap();
    let audio = tone_then_wheeze();
    let events = [(3.0, 4.0), (0.5, 1.5)];
    let (alone, by_gate) = (
        fine.predict(&audio, Some(&events)).unwrap(),
        gate.predict(&audio, Some(&events)).unwrap(),
    );
    let gated = fine.predict_gated(&audio, Some(&events), &gate).unwrap();
    assert_eq!(gated.classes, alone.classes);
    assert_eq!(gated.events.len(), 2);
    assert_eq!((alone.events.len(), by_gate.events.len()), (2, 2));
    for ((q, p), g) in gated.events.iter().zip(&alone.events).zip(&by_gate.events) {
        let (q, p, g) = (&q.probabilities, &p.probabilities, &g.probabilities);
        assert!((q[0] - g[0]).abs() < 1e-6, "{q:?} vs gate {g:?}");
        let abnormal: f32 = p[1..].iter().sum();
        for c in 1..p.len() {
            assert!((q[c] - (1.0 - g[0]) * p[c] / abnormal).abs() < 1e-5);
        }
    }
    // A gate on other features (20 mel bands) scores its own clips, matched by span.
    let coarse = Predictor::load(&coarse_gate, Device::Cpu).unwrap();
    let by_coarse = coarse.predict(&audio, Some(&events)).unwrap();
    let coarse_gated = fine.predict_gated(&audio, Some(&events), &coarse).unwrap();
    assert_eq!(coarse_gated.events.len(), 2);
    for (q, g) in coarse_gated.events.iter().zip(&by_coarse.events) {
        let (q, g) = (&q.probabilities, &g.probabilities);
        assert!((q[0] - g[0]).abs() < 1e-6, "{q:?} vs coarse gate {g:?}");
    }
    let coarse_timeline = fine.predict_gated(&audio, None, &coarse).unwrap();
    let coarse_alone = coarse.predict(&audio, None).unwrap();
    assert!((coarse_timeline.probabilities[0] - coarse_alone.probabilities[0]).abs() < 1e-6);

    let timeline = fine.predict_gated(&audio, None, &gate).unwrap();
    let gate_timeline = gate.predict(&audio, None).unwrap();
    // The record-level Normal is the mean of the windows' gate Normal.
    assert!((timeline.probabilities[0] - gate_timeline.probabilities[0]).abs() < 1e-6);
    // Window by window: the 1 s windows every 0.5 s of the 5 s recording, given
    // as events, are the same clips; each combines its own gate and model rows,
    // so the record-level row is the mean of the combined rows (pairing a
    // window with another window's gate row would change it).
    let windows: Vec<(f64, f64)> = (0..9)
        .map(|i| (0.5 * i as f64, 0.5 * i as f64 + 1.0))
        .collect();
    assert_eq!(
        timeline.segments.iter().map(|s| s.windows).sum::<usize>(),
        windows.len()
    );
    let (model_rows, gate_rows) = (
        fine.predict(&audio, Some(&windows)).unwrap().events,
        gate.predict(&audio, Some(&windows)).unwrap().events,
    );
    let mut expected = vec![0f32; timeline.classes.len()];
    for (p, g) in model_rows.iter().zip(&gate_rows) {
        let (p, g) = (&p.probabilities, g.probabilities[0]);
        let abnormal: f32 = p[1..].iter().sum();
        expected[0] += g / windows.len() as f32;
        for c in 1..p.len() {
            expected[c] += (1.0 - g) * p[c] / abnormal / windows.len() as f32;
        }
    }
    for (c, (&got, want)) in timeline.probabilities.iter().zip(&expected).enumerate() {
        assert!((got - want).abs() < 1e-5, "class {c}: {got} vs {want}");
    }
    // A gate that is an ensemble of members on different features (64 and 20 mel bands):
    // its Normal is the members' mean, in evaluation and in prediction alike.
    let mixed = dir.path().join("mixed-gate");
    lungsound_infer::ensemble::write_ensemble(&mixed, &[f.run.clone(), coarse_gate.clone()], "x")
        .unwrap();
    let mixed_eval = dir.path().join("mixed-gate-eval");
    evaluate_run(&mixed, &f.data, &mixed_eval, &options).unwrap();
    let mut by_mixed = options.clone();
    by_mixed.gate = Some(mixed.clone());
    let mixed_gated = dir.path().join("mixed-gated");
    evaluate_run(&fine_run, &f.data, &mixed_gated, &by_mixed).unwrap();
    for ((g, a), (b, q)) in rows(&mixed_eval)
        .iter()
        .zip(&rows(&gate_dir))
        .zip(rows(&coarse_dir).iter().zip(&rows(&mixed_gated)))
    {
        assert_eq!(g[..2], q[..2]);
        let (g, a, b, q) = (numbers(g), numbers(a), numbers(b), numbers(q));
        assert!(
            (g[0] - (a[0] + b[0]) / 2.0).abs() < 1e-6,
            "{g:?} {a:?} {b:?}"
        );
        assert!((q[0] - g[0]).abs() < 1e-6, "{q:?} vs mixed gate {g:?}");
    }
    let mixed = Predictor::load(&mixed, Device::Cpu).unwrap();
    let by_mixed = mixed.predict(&audio, Some(&events)).unwrap();
    let mixed_gated = fine.predict_gated(&audio, Some(&events), &mixed).unwrap();
    for ((q, g), (a, b)) in mixed_gated
        .events
        .iter()
        .zip(&by_mixed.events)
        .zip(by_gate.events.iter().zip(&by_coarse.events))
    {
        let (q, g) = (&q.probabilities, &g.probabilities);
        let mean = (a.probabilities[0] + b.probabilities[0]) / 2.0;
        assert!(
            (g[0] - mean).abs() < 1e-6 && (q[0] - g[0]).abs() < 1e-6,
            "{q:?} {g:?}"
        );
    }

    // A gate whose windows fall elsewhere, or a model of the same task, is refused.
    let offset = dir.path().join("offset-gate");
    let mut config = tiny_config(&f.data, Task::EventBinary, 1);
    config.features.window_hop_seconds = 0.25;
    config.refresh_derived();
    train(config, &offset, &cpu_options()).unwrap();
    let offset = Predictor::load(&offset, Device::Cpu).unwrap();
    let err = fine.predict_gated(&audio, None, &offset).unwrap_err();
    assert!(err.to_string().contains("do not line up"), "{err}");
    let err = fine.check_gate(&fine).unwrap_err();
    assert!(
        err.to_string().contains("cannot gate a task 1-2 model"),
        "{err}"
    );
}

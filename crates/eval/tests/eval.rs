//! Integration tests for lungsound-eval: scikit-learn reference values and
//! edge cases of `evaluate`.
#![allow(clippy::unwrap_used)]

use approx::assert_abs_diff_eq;
use lungsound_eval::{Error, Metrics, evaluate, roc_curve};
use serde_json::Value;

/// Agreement with sklearn: same formulas in f64, only summation order differs.
const TOL: f64 = 1e-12;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("class {i}")).collect()
}

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sklearn.json");
    let text = std::fs::read_to_string(path).expect("read sklearn.json");
    serde_json::from_str(&text).expect("parse sklearn.json")
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn assert_close(actual: &[f64], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= TOL, "{what}[{i}]: {a} vs sklearn {e}");
    }
}

struct Case {
    name: String,
    y_true: Vec<usize>,
    probabilities: Vec<Vec<f32>>,
    expected: Value,
}

fn cases() -> Vec<Case> {
    let fixture = fixture();
    fixture["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("name").to_string(),
            y_true: c["y_true"]
                .as_array()
                .expect("y_true")
                .iter()
                .map(|v| v.as_u64().expect("label") as usize)
                .collect(),
            // Stored as the exact double of each f32: `as f32` is lossless.
            probabilities: c["probabilities"]
                .as_array()
                .expect("probabilities")
                .iter()
                .map(|row| f64s(row).into_iter().map(|v| v as f32).collect())
                .collect(),
            expected: c.clone(),
        })
        .collect()
}

#[test]
fn fixture_has_cases() {
    assert_eq!(cases().len(), 3);
}

#[test]
fn classification_metrics_match_sklearn() {
    for case in cases() {
        let e = &case.expected;
        let k = case.probabilities[0].len();
        let m = evaluate(&case.y_true, &case.probabilities, &names(k), 0).unwrap();
        let n = &case.name;
        let y_pred: Vec<usize> = case
            .probabilities
            .iter()
            .map(|r| lungsound_eval::argmax(r))
            .collect();
        let sk_pred: Vec<usize> = serde_json::from_value(e["y_pred"].clone()).unwrap();
        assert_eq!(y_pred, sk_pred, "{n}: argmax");
        let sk_cm: Vec<Vec<u64>> = serde_json::from_value(e["confusion"].clone()).unwrap();
        assert_eq!(m.confusion.counts, sk_cm, "{n}: confusion");
        assert_close(
            &[m.accuracy],
            &[e["accuracy"].as_f64().unwrap()],
            "accuracy",
        );
        assert_close(
            &[m.balanced_accuracy],
            &[e["balanced_accuracy"].as_f64().unwrap()],
            "balanced_accuracy",
        );
        assert_close(
            &[m.macro_f1],
            &[e["macro_f1"].as_f64().unwrap()],
            "macro_f1",
        );
        let col = |f: fn(&lungsound_eval::ClassMetrics) -> f64| -> Vec<f64> {
            m.per_class.iter().map(f).collect()
        };
        assert_close(&col(|c| c.precision), &f64s(&e["precision"]), "precision");
        assert_close(&col(|c| c.recall), &f64s(&e["recall"]), "recall");
        assert_close(&col(|c| c.f1), &f64s(&e["f1"]), "f1");
        assert_close(&col(|c| c.support as f64), &f64s(&e["support"]), "support");
    }
}

#[test]
fn roc_and_auc_match_sklearn() {
    for case in cases() {
        let e = &case.expected;
        let n = &case.name;
        let k = case.probabilities[0].len();
        let m = evaluate(&case.y_true, &case.probabilities, &names(k), 0).unwrap();
        for c in 0..k {
            let sk = &e["roc"][c];
            let is_positive: Vec<bool> = case.y_true.iter().map(|&y| y == c).collect();
            let scores: Vec<f64> = case.probabilities.iter().map(|r| f64::from(r[c])).collect();
            if sk.is_null() {
                assert_eq!(m.roc[c].auc, None, "{n}: class {c} absent → no AUC");
                assert!(m.roc[c].fpr.is_empty());
                continue;
            }
            for (key, drop) in [("full", false), ("drop", true)] {
                let curve = roc_curve("c", &is_positive, &scores, drop).unwrap();
                let what = format!("{n} class {c} {key}");
                assert_close(&curve.fpr, &f64s(&sk[key]["fpr"]), &format!("{what} fpr"));
                assert_close(&curve.tpr, &f64s(&sk[key]["tpr"]), &format!("{what} tpr"));
                assert_close(
                    &curve.thresholds,
                    &f64s(&sk[key]["thresholds"]),
                    &format!("{what} thresholds"),
                );
            }
            // evaluate uses sklearn's default drop_intermediate=True.
            assert_close(&m.roc[c].fpr, &f64s(&sk["drop"]["fpr"]), "evaluate fpr");
            let auc = m.roc[c].auc.unwrap();
            assert_close(
                &[auc],
                &[sk["auc"].as_f64().unwrap()],
                &format!("{n} auc {c}"),
            );
        }
        assert_close(
            &[m.auc_macro.unwrap()],
            &[e["auc_macro"].as_f64().unwrap()],
            &format!("{n} auc_macro"),
        );
        assert_close(
            &[m.auc_micro.unwrap()],
            &[e["auc_micro"].as_f64().unwrap()],
            &format!("{n} auc_micro"),
        );
    }
}

#[test]
fn metrics_json_round_trips_exactly() {
    for case in cases() {
        let k = case.probabilities[0].len();
        let m = evaluate(&case.y_true, &case.probabilities, &names(k), 0).unwrap();
        let text = serde_json::to_string_pretty(&m).unwrap();
        let back: Metrics = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m, "{}", case.name);
    }
}

#[test]
fn perfect_classifier() {
    // 3 classes, every row puts 0.8 on the true class.
    let y = [0, 1, 2, 2, 1, 0];
    let p: Vec<Vec<f32>> = y
        .iter()
        .map(|&t| (0..3).map(|c| if c == t { 0.8 } else { 0.1 }).collect())
        .collect();
    let m = evaluate(&y, &p, &names(3), 0).unwrap();
    assert_eq!(m.accuracy, 1.0);
    assert_eq!(m.macro_f1, 1.0);
    assert_eq!(m.balanced_accuracy, 1.0);
    assert_eq!(m.biocas.score, 1.0);
    assert_eq!(m.icbhi.score, 1.0);
    assert_eq!(m.auc_macro, Some(1.0));
    assert_eq!(m.auc_micro, Some(1.0));
    assert!(m.roc.iter().all(|c| c.auc == Some(1.0)));
}

#[test]
fn all_wrong_classifier() {
    // Binary, every prediction flipped with full confidence.
    // SE = 0/2, SP = 0/2 → AS = HS = Score = 0; AUC of each class = 0.
    let y = [0, 0, 1, 1];
    let p: Vec<Vec<f32>> = y
        .iter()
        .map(|&t| {
            if t == 0 {
                vec![0.1, 0.9]
            } else {
                vec![0.9, 0.1]
            }
        })
        .collect();
    let m = evaluate(&y, &p, &names(2), 0).unwrap();
    assert_eq!(m.confusion.counts, vec![vec![0, 2], vec![2, 0]]);
    assert_eq!(m.accuracy, 0.0);
    assert_eq!(m.macro_f1, 0.0);
    assert_eq!(
        (
            m.biocas.sensitivity,
            m.biocas.specificity,
            m.biocas.harmonic_score,
            m.biocas.score
        ),
        (0.0, 0.0, 0.0, 0.0)
    );
    assert_eq!(m.auc_macro, Some(0.0));
    // Micro: 4 positive cells scored 0.1, 4 negative cells scored 0.9 → 0.
    assert_eq!(m.auc_micro, Some(0.0));
}

#[test]
fn single_class_present() {
    // Only Normal (class 0) occurs: no class has both positives and negatives,
    // so every per-class AUC is None; the pooled micro curve still has both.
    let y = [0, 0, 0];
    let p = vec![
        vec![0.7, 0.2, 0.1],
        vec![0.4, 0.5, 0.1],
        vec![0.9, 0.05, 0.05],
    ];
    let m = evaluate(&y, &p, &names(3), 0).unwrap();
    assert!(m.roc.iter().all(|c| c.auc.is_none()));
    assert_eq!(m.auc_macro, None);
    assert!(m.roc_macro.is_none());
    // Positives (true-class cells): 0.7, 0.4, 0.9; negatives: 0.2 0.1 0.5 0.1 0.05 0.05.
    // Of 3·6 = 18 pairs the positive loses only 0.4 < 0.5 → AUC = 17/18.
    assert_abs_diff_eq!(m.auc_micro.unwrap(), 17.0 / 18.0, epsilon = 1e-12);
    // No non-Normal samples: SE = 0 by the zero-division rule, SP = 2/3.
    assert_eq!(m.biocas.sensitivity, 0.0);
    assert_abs_diff_eq!(m.biocas.specificity, 2.0 / 3.0);
    assert_abs_diff_eq!(m.accuracy, 2.0 / 3.0);
    // Metrics without NaN serialise and parse back equal.
    let back: Metrics = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}

#[test]
fn one_class_task_has_no_auc_at_all() {
    let m = evaluate(&[0, 0], &[vec![1.0], vec![0.5]], &names(1), 0).unwrap();
    assert_eq!(m.auc_micro, None);
    assert!(m.roc_micro.is_none());
    assert_eq!(m.accuracy, 1.0);
}

#[test]
fn empty_input_is_an_error() {
    assert_eq!(evaluate(&[], &[], &names(2), 0).unwrap_err(), Error::Empty);
    assert_eq!(
        evaluate(&[], &[], &names(2), 0).unwrap_err().to_string(),
        "cannot evaluate an empty set: need at least 1 sample, got 0"
    );
}

#[test]
fn infinite_probability_is_an_error() {
    let e = evaluate(&[0], &[vec![0.5, f32::INFINITY]], &names(2), 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "scores must be finite numbers, got inf at row 0, class 1"
    );
}

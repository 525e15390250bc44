//! `run_cv`: patient-wise folds, out-of-fold predictions for every unit, resumable.

use std::collections::{HashMap, HashSet};

use lungsound_datasets::Task;
use lungsound_infer::{FeatureCache, MODEL_FILE};
use lungsound_train::cv::{CvOptions, FOLDS_FILE, FoldAssignment, fold_dir, run_cv};

use crate::{cpu_options, synthetic_sprsound, tiny_config, torch_rng};

/// Three folds (seed 11) on the CPU with a feature cache in `dir`, running `only_folds`.
fn three_folds(dir: &std::path::Path, only_folds: Vec<usize>) -> CvOptions {
    let mut train = cpu_options();
    train.cache = FeatureCache::new(dir.join("cache"));
    CvOptions {
        folds: 3,
        seed: 11,
        train,
        batch_size: 32,
        only_folds,
    }
}

#[test]
fn three_folds_predict_every_unit_once_and_resume_without_retraining() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 6);
    let out = dir.path().join("cv");
    let options = three_folds(dir.path(), vec![2]);
    let config = tiny_config(&data, Task::EventMulti, 1);
    let _rng = torch_rng();
    // One fold only (as one of several processes would): the others stay pending and
    // nothing is summarised yet.
    let partial = run_cv(&config, &out, &options).unwrap();
    assert_eq!(partial.pending, vec![0, 1]);
    assert_eq!(partial.results.len(), 1);
    assert_eq!(partial.results[0].fold, 2);
    assert!(partial.summary.is_empty());
    assert!(!out.join("cv.json").exists() && !out.join("oof_predictions.csv").exists());
    let fold2_model = fold_dir(&out, 2).join(MODEL_FILE);
    let fold2_time = std::fs::metadata(&fold2_model).unwrap().modified().unwrap();
    let options = CvOptions {
        only_folds: Vec::new(),
        ..options
    };
    let report = run_cv(&config, &out, &options).unwrap();
    assert!(report.pending.is_empty());
    assert_eq!(
        std::fs::metadata(&fold2_model).unwrap().modified().unwrap(),
        fold2_time,
        "the finished fold is read back, not retrained"
    );

    // Folds: every patient in one fold, every fold validated once.
    let assignment: FoldAssignment =
        serde_json::from_str(&std::fs::read_to_string(out.join(FOLDS_FILE)).unwrap()).unwrap();
    assert_eq!(assignment.recordings.len(), 12);
    let mut fold_of: HashMap<&str, usize> = HashMap::new();
    for (_, patient, fold) in &assignment.recordings {
        assert_eq!(*fold_of.entry(patient).or_insert(*fold), *fold, "{patient}");
    }
    assert_eq!(
        fold_of.values().collect::<HashSet<_>>().len(),
        3,
        "three non-empty folds"
    );

    // Out-of-fold predictions: each of the 36 events exactly once, from its own fold.
    let oof = std::fs::read_to_string(out.join("oof_predictions.csv")).unwrap();
    let mut lines = oof.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("fold,record,event_index,")
    );
    let mut seen = HashSet::new();
    let record_fold: HashMap<&str, usize> = assignment
        .recordings
        .iter()
        .map(|(id, _, f)| (id.as_str(), *f))
        .collect();
    for line in lines {
        let cols: Vec<&str> = line.split(',').collect();
        let fold: usize = cols[0].parse().unwrap();
        assert_eq!(record_fold[cols[1]], fold, "{line}");
        assert!(
            seen.insert((cols[1].to_string(), cols[2].to_string())),
            "{line}"
        );
    }
    assert_eq!(seen.len(), 36);
    assert!(out.join("oof_predictions-1-1.csv").is_file());

    // Summary: the run's task and its coarser one, three folds each.
    assert_eq!(report.summary.len(), 2);
    assert_eq!(report.summary[0].task, Task::EventMulti);
    assert_eq!(report.summary[1].task, Task::EventBinary);
    for s in &report.summary {
        assert_eq!(s.per_fold.len(), 3);
        let mean = s.per_fold.iter().sum::<f64>() / 3.0;
        assert!((s.mean - mean).abs() < 1e-12);
    }
    let units: usize = report
        .results
        .iter()
        .map(|r| r.scores[0].units_expected)
        .sum();
    assert_eq!(units, 36);
    let md = std::fs::read_to_string(out.join("cv.md")).unwrap();
    assert!(md.contains("| 1-2 |") && md.contains(" ± "), "{md}");

    // Rerun: finished folds are read back, nothing is retrained.
    let model = fold_dir(&out, 1).join(MODEL_FILE);
    let before = std::fs::metadata(&model).unwrap().modified().unwrap();
    let again = run_cv(&config, &out, &options).unwrap();
    assert_eq!(again, report);
    assert_eq!(
        std::fs::metadata(&model).unwrap().modified().unwrap(),
        before
    );

    // Other folds in the same folder are refused.
    let other = CvOptions {
        folds: 2,
        ..options
    };
    let err = run_cv(&config, &out, &other).unwrap_err().to_string();
    assert!(err.contains("other folds"), "{err}");
    let missing = CvOptions {
        folds: 3,
        only_folds: vec![3],
        ..other
    };
    let err = run_cv(&config, &out, &missing).unwrap_err().to_string();
    assert!(err.contains("fold 3 does not exist"), "{err}");
}

#[test]
fn each_fold_starts_from_the_same_folds_pretrained_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synthetic_sprsound(&data, 6);
    let options = three_folds(dir.path(), vec![1]);
    let _rng = torch_rng();
    let first = dir.path().join("cv-first");
    run_cv(&tiny_config(&data, Task::EventMulti, 1), &first, &options).unwrap();

    // A second cross-validation on the same folds, each fold from the first one's fold.
    let mut config = tiny_config(&data, Task::EventMulti, 1);
    config.training.pretrained = Some(first.join("fold-{fold}").join(MODEL_FILE));
    let second = dir.path().join("cv-second");
    run_cv(&config, &second, &options).unwrap();
    let fold_config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fold_dir(&second, 1).join("config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        fold_config["training"]["pretrained"],
        serde_json::json!(fold_dir(&first, 1).join(MODEL_FILE)),
        "fold 1 trained from fold 1's model"
    );
    let card = std::fs::read_to_string(fold_dir(&second, 1).join("model_card.md")).unwrap();
    let expected = format!(
        "- Initial weights: `{}`",
        fold_dir(&first, 1).join(MODEL_FILE).display()
    );
    assert!(card.contains(&expected), "{card}");
    let shared: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(second.join("config.json")).unwrap())
            .unwrap();
    assert!(
        shared["training"]["pretrained"]
            .as_str()
            .unwrap()
            .contains("fold-{fold}"),
        "the folder's config keeps the placeholder: {shared}"
    );

    // Fold 2 of the first run was never trained: its missing model is named.
    let err = run_cv(
        &config,
        &dir.path().join("cv-third"),
        &CvOptions {
            only_folds: vec![2],
            ..options
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("fold-2"), "{err}");
}

//! `write_evaluation_report`.

use std::path::PathBuf;

use lungsound_eval::evaluate;
use lungsound_report::{EvalContext, PlotFiles, Unscored, write_evaluation_report};

use crate::util::{SPR_EVENTS, check_plot, example_metrics, out_dir, strings};

#[test]
fn evaluation_report_writes_plots_and_quotes_scores() {
    let (dir, _tmp) = out_dir("evaluation");
    let m = example_metrics();
    let context = EvalContext {
        model: "small_cnn".into(),
        task: "1-2".into(),
        dataset: "SPRSound".into(),
        data_dir: PathBuf::from("/data/sprsound/test2022"),
        split: "official test".into(),
        n_samples: m.n_samples,
        command: "lungsound evaluate --run runs/small_cnn --data /data/sprsound/test2022".into(),
        extra: vec![("checkpoint".into(), "best.safetensors".into())],
        unscored: None,
    };
    let files = write_evaluation_report(&m, &context, &dir).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "confusion_matrix.png",
            "confusion_matrix.svg",
            "roc.png",
            "roc.svg",
            "report.md"
        ]
    );
    check_plot(
        &PlotFiles {
            png: dir.join("confusion_matrix.png"),
            svg: dir.join("confusion_matrix.svg"),
        },
        &SPR_EVENTS,
    );
    check_plot(
        &PlotFiles {
            png: dir.join("roc.png"),
            svg: dir.join("roc.svg"),
        },
        &["macro-average"],
    );
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let b = &m.biocas;
    for v in [
        b.sensitivity,
        b.specificity,
        b.average_score,
        b.harmonic_score,
        b.score,
        m.icbhi.score,
        m.accuracy,
        m.macro_f1,
        m.auc_macro.unwrap(),
        m.auc_micro.unwrap(),
        m.per_class[5].f1,
    ] {
        let s = format!("{v:.4}");
        assert!(md.contains(&s), "report.md lacks {s}");
    }
    for needle in [
        "| BioCAS |",
        "| SE | SP | AS | HS | Score |",
        "| ICBHI |",
        "Coarse Crackle",
        "![Confusion matrix](confusion_matrix.png)",
        "![ROC curves](roc.png)",
        "small\\_cnn",
        "lungsound evaluate --run runs/small_cnn",
        "best.safetensors",
        "[metrics.json](metrics.json)",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle}:\n{md}");
    }
    let support = format!("| {} |", m.per_class[0].support);
    assert!(md.contains(&support));
}

#[test]
fn evaluation_report_survives_one_class_data() {
    // Only Normal present: no per-class AUC, no macro curve; the plots must still render.
    let (dir, _tmp) = out_dir("evaluation_one_class");
    let m = evaluate(
        &[0, 0, 0],
        &[vec![0.9, 0.1], vec![0.4, 0.6], vec![0.8, 0.2]],
        &strings(&["Normal", "Adventitious"]),
        0,
    )
    .unwrap();
    assert!(m.auc_macro.is_none());
    let files = write_evaluation_report(&m, &EvalContext::default(), &dir).unwrap();
    assert_eq!(files.len(), 5);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("| AUC (macro, one-vs-rest) | – |"), "{md}");
    // Adventitious has no samples: its normalised row says so instead of 0.00.
    check_plot(
        &PlotFiles {
            png: dir.join("confusion_matrix.png"),
            svg: dir.join("confusion_matrix.svg"),
        },
        &["absent"],
    );
    check_plot(
        &PlotFiles {
            png: dir.join("roc.png"),
            svg: dir.join("roc.svg"),
        },
        &["Adventitious (no AUC"],
    );
}

#[test]
fn evaluation_report_says_what_was_not_scored() {
    let (dir, _tmp) = out_dir("evaluation_unscored");
    let m = example_metrics();
    let context = EvalContext {
        unscored: Some(Unscored {
            expected: 1429,
            skipped: 653,
            reasons: vec![(
                "the event lies past the end of the audio".into(),
                653,
                vec!["a#3: event 3 (5.1–6.0 s) lies past the end of the audio (4.6 s)".into()],
            )],
            score_scored_only: 0.8123,
        }),
        ..EvalContext::default()
    };
    write_evaluation_report(&m, &context, &dir).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for needle in [
        "| not scored | 653 of 1429 units (counted as errors in the scores below) |",
        "## Units not scored",
        "**653 of 1429 units got no prediction.**",
        "would be 0.8123",
        "| the event lies past the end of the audio | 653 | a#3: event 3",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle}:\n{md}");
    }
    // Nothing skipped: no such section.
    write_evaluation_report(&m, &EvalContext::default(), &dir).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(!md.contains("not scored"), "{md}");
}

//! The plot primitives.

use std::path::Path;

use lungsound_eval::ConfusionMatrix;
use lungsound_report::Error;
use lungsound_report::plot::{
    BarChart, BarSeries, Histogram, bar_chart, confusion_matrix_plot, histogram, roc_plot,
    training_curves,
};

use crate::util::{SPR_EVENTS, check_plot, example_metrics, out_dir, strings};

#[test]
fn bar_chart_writes_png_and_svg_with_categories() {
    let (dir, _tmp) = out_dir("bar");
    let counts: Vec<(String, u64)> = SPR_EVENTS
        .iter()
        .zip([6887, 39, 865, 19, 74, 1652, 146])
        .map(|(n, c)| (n.to_string(), c))
        .collect();
    let chart = BarChart::from_counts("SPRSound events by class", "class", "events", &counts);
    let files = bar_chart(&chart, &dir.join("event_classes")).unwrap();
    assert_eq!(files.png, dir.join("event_classes.png"));
    let mut labels = SPR_EVENTS.to_vec();
    labels.extend(["6887", "1652", "SPRSound events by class"]);
    check_plot(&files, &labels);

    let grouped = BarChart {
        title: "Train / test".into(),
        x_label: "class".into(),
        y_label: "cycles".into(),
        categories: strings(&["Normal", "Crackle", "Wheeze", "Both"]),
        series: vec![
            BarSeries {
                name: "train".into(),
                values: vec![2063, 1215, 501, 363],
            },
            BarSeries {
                name: "test".into(),
                values: vec![1579, 649, 385, 143],
            },
        ],
    };
    let files = bar_chart(&grouped, &dir.join("split")).unwrap();
    check_plot(&files, &["Crackle", "train", "test", "2063", "143"]);
}

#[test]
fn bar_chart_rejects_ragged_series() {
    let chart = BarChart {
        title: "t".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        categories: strings(&["a", "b"]),
        series: vec![BarSeries {
            name: "s".into(),
            values: vec![1],
        }],
    };
    let err = bar_chart(&chart, Path::new("/nonexistent/never")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid plot data for bar chart: series 's' must have one value per category (2), got 1"
    );
}

#[test]
fn empty_bar_chart_and_histogram_still_render() {
    let (dir, _tmp) = out_dir("empty");
    let chart = BarChart::from_counts("Nothing", "x", "y", &[]);
    check_plot(&bar_chart(&chart, &dir.join("bar")).unwrap(), &["no data"]);
    let hist = Histogram {
        title: "Nothing".into(),
        x_label: "age (years)".into(),
        y_label: "patients".into(),
        values: vec![],
        bins: 10,
    };
    check_plot(
        &histogram(&hist, &dir.join("hist")).unwrap(),
        &["no data", "n = 0"],
    );
}

#[test]
fn histogram_has_axis_labels_and_stats_note() {
    let (dir, _tmp) = out_dir("histogram");
    // Skewed like event durations: many short, a long tail.
    let values: Vec<f64> = (0..3000)
        .map(|i| {
            let u = (i as f64 * 0.618_033_988_75).fract();
            0.2 + 3.0 * u * u
        })
        .chain([f64::NAN])
        .collect();
    let hist = Histogram {
        title: "Event durations".into(),
        x_label: "duration (s)".into(),
        y_label: "events".into(),
        values,
        bins: 30,
    };
    let files = histogram(&hist, &dir.join("durations.events")).unwrap();
    // A dotted stem keeps its dot.
    assert_eq!(files.svg, dir.join("durations.events.svg"));
    let size = check_plot(
        &files,
        &[
            "duration (s)",
            "events",
            "n = 3000",
            "1 non-finite left out",
        ],
    );
    assert_eq!(size, (900, 560));
    let err = histogram(&Histogram { bins: 0, ..hist }, &dir.join("x")).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err}");
}

#[test]
fn confusion_matrix_plot_names_classes_and_numbers() {
    let (dir, _tmp) = out_dir("confusion");
    let m = example_metrics();
    let files = confusion_matrix_plot(&m.confusion, "1-2 confusion", &dir.join("cm")).unwrap();
    let mut labels = SPR_EVENTS.to_vec();
    labels.extend(["Counts", "Row-normalised", "Predicted class", "True class"]);
    let normal_correct = m.confusion.counts[0][0].to_string();
    labels.push(&normal_correct);
    check_plot(&files, &labels);

    let cm = ConfusionMatrix {
        class_names: strings(&["Normal", "Adventitious"]),
        counts: vec![vec![90, 10], vec![20, 80]],
    };
    let files = confusion_matrix_plot(&cm, "1-1", &dir.join("cm2")).unwrap();
    check_plot(&files, &["Adventitious", "0.90", "0.20", "80"]);

    let bad = ConfusionMatrix {
        class_names: strings(&["a"]),
        counts: vec![vec![1, 2]],
    };
    assert!(confusion_matrix_plot(&bad, "bad", &dir.join("bad")).is_err());
}

#[test]
fn roc_plot_lists_auc_in_legend() {
    let (dir, _tmp) = out_dir("roc");
    let m = example_metrics();
    let averages: Vec<_> = m.roc_micro.iter().chain(&m.roc_macro).cloned().collect();
    let files = roc_plot("ROC", &m.roc, &averages, &dir.join("roc")).unwrap();
    let normal_auc = format!("Normal (AUC = {:.3})", m.roc[0].auc.unwrap());
    let macro_auc = format!("macro-average (AUC = {:.3})", m.auc_macro.unwrap());
    check_plot(
        &files,
        &[
            &normal_auc,
            &macro_auc,
            "micro-average",
            "Stridor (no AUC",
            "chance",
            "False positive rate",
        ],
    );
}

#[test]
fn training_curves_split_loss_and_score() {
    let (dir, _tmp) = out_dir("curves");
    let mut points = Vec::new();
    for e in 1..=30usize {
        let f = e as f64;
        points.push((e, "train loss", 1.2 * (-f / 8.0).exp() + 0.2));
        points.push((e, "val loss", 1.1 * (-f / 10.0).exp() + 0.35 + 0.002 * f));
        points.push((e, "val accuracy", 0.9 - 0.5 * (-f / 6.0).exp()));
        points.push((e, "val score", 0.8 - 0.5 * (-f / 7.0).exp()));
    }
    let files = training_curves("Training", &points, &dir.join("curves")).unwrap();
    let size = check_plot(
        &files,
        &[
            "train loss",
            "val loss",
            "val accuracy",
            "val score",
            "epoch",
        ],
    );
    assert_eq!(size.0, 1440, "two panels");
    let one = training_curves("Loss only", &points[..2], &dir.join("one")).unwrap();
    assert_eq!(check_plot(&one, &["train loss"]).0, 720);
    let err = training_curves("x", &[(1, "loss", f64::NAN)], &dir.join("nan")).unwrap_err();
    assert!(err.to_string().contains("values must be finite"), "{err}");
}

//! ROC curves and the area under them, one-vs-rest per class plus micro and
//! macro averages.
//!
//! `roc_curve` reproduces scikit-learn's `sklearn.metrics.roc_curve`: samples
//! are sorted by decreasing score, samples with **equal** scores form one step
//! (a tie moves the curve diagonally, never in an order-dependent staircase),
//! one point is emitted per distinct score, and the curve starts at (0, 0).
//! `drop_intermediate` has sklearn's meaning (drop points that lie on a
//! straight line between their neighbours); the area does not depend on it.
//! The area is the trapezoid rule over the points, as in
//! `sklearn.metrics.roc_auc_score`.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Label of the micro-averaged curve.
pub const MICRO_AVERAGE: &str = "micro-average";
/// Label of the macro-averaged curve.
pub const MACRO_AVERAGE: &str = "macro-average";

/// One ROC curve.
///
/// `fpr` and `tpr` have the same length; the first point is (0, 0) and the
/// last (1, 1). A curve whose class has no positive or no negative samples is
/// undefined: its vectors are empty and `auc` is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// Class name, or [`MICRO_AVERAGE`] / [`MACRO_AVERAGE`].
    pub label: String,
    /// False-positive rate of each point, non-decreasing.
    pub fpr: Vec<f64>,
    /// True-positive rate of each point, non-decreasing.
    pub tpr: Vec<f64>,
    /// Score threshold of each point after the first: a sample is called
    /// positive when its score is `>= thresholds[i]` at point `i + 1`. The
    /// first point, (0, 0), stands for a threshold above every score (sklearn's
    /// `inf`, which JSON cannot hold), so `thresholds.len() == fpr.len() - 1`.
    /// Empty for the macro-average curve, which has no thresholds.
    pub thresholds: Vec<f64>,
    /// Area under the curve; `None` when the curve is undefined.
    pub auc: Option<f64>,
}

impl RocCurve {
    fn undefined(label: String) -> Self {
        Self {
            label,
            fpr: Vec::new(),
            tpr: Vec::new(),
            thresholds: Vec::new(),
            auc: None,
        }
    }
}

/// The ROC curve of binary labels against scores (higher score = more positive).
///
/// Errors when the lengths differ or a score is not finite. When `is_positive`
/// is all `true` or all `false` the curve is undefined (empty, `auc: None`),
/// where sklearn would warn and return NaN.
pub fn roc_curve(
    label: impl Into<String>,
    is_positive: &[bool],
    scores: &[f64],
    drop_intermediate: bool,
) -> Result<RocCurve, Error> {
    let label = label.into();
    if is_positive.len() != scores.len() {
        return Err(Error::LengthMismatch {
            left: "is_positive",
            left_len: is_positive.len(),
            right: "scores",
            right_len: scores.len(),
        });
    }
    if let Some(row) = scores.iter().position(|s| !s.is_finite()) {
        return Err(Error::NotFinite {
            row,
            class: 0,
            value: scores[row],
        });
    }
    let n = scores.len();
    let n_pos = is_positive.iter().filter(|&&p| p).count() as u64;
    let n_neg = n as u64 - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Ok(RocCurve::undefined(label));
    }

    let mut order: Vec<usize> = (0..n).collect();
    // All scores are finite, so partial_cmp never fails; -0.0 and 0.0 tie, as in numpy.
    order.sort_by(|&a, &b| scores[b].partial_cmp(&scores[a]).unwrap_or(Ordering::Equal));
    let (mut fps, mut tps, mut thresholds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0u64, 0u64);
    for (k, &i) in order.iter().enumerate() {
        if is_positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = k + 1 == n || scores[order[k + 1]] != scores[i];
        if last_of_tie {
            fps.push(fp);
            tps.push(tp);
            thresholds.push(scores[i]);
        }
    }

    if drop_intermediate && fps.len() > 2 {
        // sklearn keeps the ends and every point where the curve bends.
        let bends = |v: &[u64], j: usize| v[j - 1] + v[j + 1] != 2 * v[j];
        let keep: Vec<bool> = (0..fps.len())
            .map(|j| j == 0 || j + 1 == fps.len() || bends(&fps, j) || bends(&tps, j))
            .collect();
        fps = keep_where(fps, &keep);
        tps = keep_where(tps, &keep);
        thresholds = keep_where(thresholds, &keep);
    }

    let fpr: Vec<f64> = std::iter::once(0.0)
        .chain(fps.iter().map(|&f| f as f64 / n_neg as f64))
        .collect();
    let tpr: Vec<f64> = std::iter::once(0.0)
        .chain(tps.iter().map(|&t| t as f64 / n_pos as f64))
        .collect();
    let area = auc(&fpr, &tpr);
    Ok(RocCurve {
        label,
        fpr,
        tpr,
        thresholds,
        auc: Some(area),
    })
}

fn keep_where<T>(values: Vec<T>, keep: &[bool]) -> Vec<T> {
    values
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(v, _)| v)
        .collect()
}

/// Area under a curve by the trapezoid rule (`x` non-decreasing), as
/// `sklearn.metrics.auc`. Extra points are ignored if the lengths differ.
pub fn auc(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
        .sum()
}

/// One-vs-rest ROC curve of every class: class `c` is positive, all others negative,
/// scored by `probabilities[i][c]`.
///
/// Errors on the same inputs as [`crate::evaluate`], except that an empty input is
/// allowed (every curve is then undefined).
pub fn one_vs_rest(
    y_true: &[usize],
    probabilities: &[Vec<f32>],
    class_names: &[String],
    drop_intermediate: bool,
) -> Result<Vec<RocCurve>, Error> {
    crate::evaluate::check_inputs(y_true, probabilities, class_names)?;
    (0..class_names.len())
        .map(|c| {
            let is_positive: Vec<bool> = y_true.iter().map(|&y| y == c).collect();
            let scores: Vec<f64> = probabilities.iter().map(|row| f64::from(row[c])).collect();
            roc_curve(
                class_names[c].clone(),
                &is_positive,
                &scores,
                drop_intermediate,
            )
        })
        .collect()
}

/// Micro-averaged ROC curve: every (sample, class) cell of the one-hot true
/// labels against the matching probability, pooled into one binary problem
/// (sklearn `roc_auc_score(label_binarize(y), p, average="micro")`).
pub fn micro_average(
    y_true: &[usize],
    probabilities: &[Vec<f32>],
    class_names: &[String],
    drop_intermediate: bool,
) -> Result<RocCurve, Error> {
    crate::evaluate::check_inputs(y_true, probabilities, class_names)?;
    let mut is_positive = Vec::with_capacity(y_true.len() * class_names.len());
    let mut scores = Vec::with_capacity(is_positive.capacity());
    for (&y, row) in y_true.iter().zip(probabilities) {
        for (c, &p) in row.iter().enumerate() {
            is_positive.push(y == c);
            scores.push(f64::from(p));
        }
    }
    roc_curve(MICRO_AVERAGE, &is_positive, &scores, drop_intermediate)
}

/// Macro-averaged ROC curve of the defined per-class curves, or `None` when
/// no curve is defined.
///
/// The points are the union of the curves' false-positive rates, each with the
/// mean of the curves' true-positive rates there (linear interpolation; on a
/// vertical step the top of the step), preceded by (0, 0) — scikit-learn's
/// "ROC one-vs-rest" example. Its `auc` is the **mean of the per-class AUCs**
/// (`roc_auc_score(average="macro")`), not the area under the averaged curve,
/// so the legend and the metrics table agree.
pub fn macro_average(curves: &[RocCurve]) -> Option<RocCurve> {
    let defined: Vec<&RocCurve> = curves.iter().filter(|c| c.auc.is_some()).collect();
    if defined.is_empty() {
        return None;
    }
    let mean_auc = defined.iter().filter_map(|c| c.auc).sum::<f64>() / defined.len() as f64;
    let mut grid: Vec<f64> = defined.iter().flat_map(|c| c.fpr.iter().copied()).collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let mut fpr = vec![0.0];
    let mut tpr = vec![0.0];
    for &x in &grid {
        let mean = defined
            .iter()
            .map(|c| interp_top(x, &c.fpr, &c.tpr))
            .sum::<f64>()
            / defined.len() as f64;
        fpr.push(x);
        tpr.push(mean);
    }
    Some(RocCurve {
        label: MACRO_AVERAGE.to_string(),
        fpr,
        tpr,
        thresholds: Vec::new(),
        auc: Some(mean_auc),
    })
}

/// `tpr` at `x` on the polyline (`fpr`, `tpr`); where several points share
/// `fpr == x`, the last (highest) one, as `numpy.interp` does.
fn interp_top(x: f64, fpr: &[f64], tpr: &[f64]) -> f64 {
    // Last index with fpr[j] <= x; fpr[0] == 0 <= x always.
    let j = fpr.partition_point(|&f| f <= x).saturating_sub(1);
    if j + 1 >= fpr.len() || fpr[j] == x {
        return tpr[j];
    }
    let t = (x - fpr[j]) / (fpr[j + 1] - fpr[j]);
    tpr[j] + t * (tpr[j + 1] - tpr[j])
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;

    use super::*;

    #[test]
    fn hand_computed_curve_with_a_tie() {
        // labels:  P    N    P    N    P
        // scores: 0.9  0.8  0.8  0.3  0.1     (2 negatives, 3 positives)
        // thresholds 0.9 → tp 1 fp 0; 0.8 (tie: one P, one N) → tp 2 fp 1;
        //            0.3 → tp 2 fp 2; 0.1 → tp 3 fp 2
        let c = roc_curve(
            "x",
            &[true, false, true, false, true],
            &[0.9, 0.8, 0.8, 0.3, 0.1],
            false,
        )
        .unwrap();
        assert_eq!(c.fpr, vec![0.0, 0.0, 0.5, 1.0, 1.0]);
        assert_eq!(c.tpr, vec![0.0, 1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 1.0]);
        assert_eq!(c.thresholds, vec![0.9, 0.8, 0.3, 0.1]);
        // Trapezoids: [0,0]: 0; [0,.5]: .5·(1/3+2/3)/2 = .25; [.5,1]: .5·(2/3) = 1/3; [1,1]: 0
        // AUC = 0.25 + 1/3 = 7/12. Check by pairs: of 6 (P, N) pairs, P wins
        // (0.9>0.8, 0.9>0.3, 0.8>0.3) = 3, ties (0.8=0.8) = 1 → (3 + 0.5) / 6 = 7/12.
        assert_abs_diff_eq!(c.auc.unwrap(), 7.0 / 12.0, epsilon = 1e-15);
    }

    #[test]
    fn drop_intermediate_keeps_area_and_ends() {
        // Scores in order: P P P N N → points (fp,tp): (0,1) (0,2) (0,3) (1,3) (2,3)
        // (0,2) lies between (0,1) and (0,3) and (1,3) between (0,3) and (2,3): both dropped.
        let pos = [true, true, true, false, false];
        let scores = [0.9, 0.8, 0.7, 0.2, 0.1];
        let full = roc_curve("x", &pos, &scores, false).unwrap();
        let short = roc_curve("x", &pos, &scores, true).unwrap();
        assert_eq!(full.fpr.len(), 6);
        assert_eq!(short.fpr, vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(short.tpr, vec![0.0, 1.0 / 3.0, 1.0, 1.0]);
        assert_eq!(short.thresholds, vec![0.9, 0.7, 0.1]);
        assert_eq!(full.auc, Some(1.0));
        assert_eq!(short.auc, Some(1.0));
    }

    #[test]
    fn one_sided_labels_have_no_curve() {
        let c = roc_curve("x", &[true, true], &[0.1, 0.2], false).unwrap();
        assert_eq!(c.auc, None);
        assert!(c.fpr.is_empty() && c.tpr.is_empty());
        let c = roc_curve("x", &[], &[], false).unwrap();
        assert_eq!(c.auc, None);
    }

    #[test]
    fn rejects_nan_scores() {
        let err = roc_curve("x", &[true, false], &[0.1, f64::NAN], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "scores must be finite numbers, got NaN at row 1, class 0"
        );
    }

    #[test]
    fn negative_zero_ties_with_zero() {
        let c = roc_curve("x", &[true, false], &[0.0, -0.0], false).unwrap();
        // One tied group: a single diagonal step.
        assert_eq!(c.fpr, vec![0.0, 1.0]);
        assert_eq!(c.auc, Some(0.5));
    }

    #[test]
    fn macro_average_interpolates_and_reports_mean_auc() {
        let a = RocCurve {
            label: "a".into(),
            fpr: vec![0.0, 0.0, 1.0],
            tpr: vec![0.0, 1.0, 1.0],
            thresholds: vec![0.9, 0.1],
            auc: Some(1.0),
        };
        let b = RocCurve {
            label: "b".into(),
            fpr: vec![0.0, 1.0],
            tpr: vec![0.0, 1.0],
            thresholds: vec![0.5],
            auc: Some(0.5),
        };
        let none = RocCurve::undefined("c".into());
        let m = macro_average(&[a, b, none]).unwrap();
        // grid {0, 1}: at 0 → (1 + 0)/2 = 0.5 (top of a's vertical step); at 1 → 1.
        assert_eq!(m.fpr, vec![0.0, 0.0, 1.0]);
        assert_eq!(m.tpr, vec![0.0, 0.5, 1.0]);
        assert_eq!(m.auc, Some(0.75));
        assert_eq!(m.label, MACRO_AVERAGE);
        assert!(macro_average(&[RocCurve::undefined("z".into())]).is_none());
    }

    #[test]
    fn interp_between_points() {
        assert_abs_diff_eq!(interp_top(0.25, &[0.0, 0.5, 1.0], &[0.0, 0.5, 1.0]), 0.25);
        assert_abs_diff_eq!(
            interp_top(0.5, &[0.0, 0.5, 0.5, 1.0], &[0.0, 0.2, 0.8, 1.0]),
            0.8
        );
    }
}

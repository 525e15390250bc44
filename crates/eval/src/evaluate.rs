//! `evaluate`: every metric of a classifier's output at once, as `Metrics`.

use serde::{Deserialize, Serialize};

use crate::confusion::check_labels;
use crate::roc::{macro_average, micro_average, one_vs_rest};
use crate::{BiocasScore, ClassMetrics, ConfusionMatrix, Error, IcbhiScore, RocCurve};

/// Everything `evaluate` measures. Serialises to `metrics.json`.
///
/// All fields are plain numbers, strings, vectors or options of them (never
/// NaN or infinity), so a JSON round trip gives back an equal value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Number of samples evaluated.
    pub n_samples: usize,
    /// Class names, in class-index order.
    pub class_names: Vec<String>,
    /// Index of the Normal class used for the challenge scores.
    pub normal_class: usize,
    /// Fraction of samples whose argmax prediction is the true class.
    pub accuracy: f64,
    /// Mean recall over the classes present in `y_true`.
    pub balanced_accuracy: f64,
    /// Mean F1 over the classes present in `y_true` or the predictions.
    pub macro_f1: f64,
    /// Precision, recall, F1 and support per class, in class order.
    pub per_class: Vec<ClassMetrics>,
    /// SPRSound (BioCAS) SE, SP, AS, HS and Score.
    pub biocas: BiocasScore,
    /// ICBHI 2017 Se, Sp and Score.
    pub icbhi: IcbhiScore,
    /// Confusion matrix of true class against argmax prediction.
    pub confusion: ConfusionMatrix,
    /// One-vs-rest ROC curve per class, in class order (undefined, with
    /// `auc: None`, for a class absent from `y_true` or the only class present).
    pub roc: Vec<RocCurve>,
    /// Micro-averaged ROC curve; `None` when undefined (a single class).
    pub roc_micro: Option<RocCurve>,
    /// Macro-averaged ROC curve; `None` when no per-class curve is defined.
    pub roc_macro: Option<RocCurve>,
    /// Mean of the defined per-class AUCs; `None` when none is defined.
    pub auc_macro: Option<f64>,
    /// AUC of the micro-averaged curve.
    pub auc_micro: Option<f64>,
}

/// Computes all metrics of a classifier's scores.
///
/// `y_true[i]` is the true class of sample `i` and `probabilities[i]` its
/// scores, one per class (any real numbers; only their order matters for ROC).
/// The prediction is the argmax of each row, ties going to the lowest class
/// index. `normal_class` is the index of the Normal class for the BioCAS and
/// ICBHI scores. ROC curves are computed like `sklearn.metrics.roc_curve` with
/// its default `drop_intermediate=True`.
///
/// # Errors
/// Empty input, no classes, `y_true` and `probabilities` of different
/// lengths, a row without exactly one value per class, a label or
/// `normal_class` that is not a class index, or a NaN/infinite probability.
pub fn evaluate(
    y_true: &[usize],
    probabilities: &[Vec<f32>],
    class_names: &[String],
    normal_class: usize,
) -> Result<Metrics, Error> {
    if y_true.is_empty() && probabilities.is_empty() {
        return Err(Error::Empty);
    }
    check_inputs(y_true, probabilities, class_names)?;
    let n_classes = class_names.len();
    if normal_class >= n_classes {
        return Err(Error::NormalClassOutOfRange {
            normal_class,
            n_classes,
        });
    }

    let y_pred: Vec<usize> = probabilities.iter().map(|row| argmax(row)).collect();
    let confusion = ConfusionMatrix::from_predictions(y_true, &y_pred, class_names)?;
    let roc = one_vs_rest(y_true, probabilities, class_names, true)?;
    let roc_micro =
        Some(micro_average(y_true, probabilities, class_names, true)?).filter(|c| c.auc.is_some());
    let roc_macro = macro_average(&roc);
    Ok(Metrics {
        n_samples: y_true.len(),
        class_names: class_names.to_vec(),
        normal_class,
        accuracy: confusion.accuracy(),
        balanced_accuracy: confusion.balanced_accuracy(),
        macro_f1: confusion.macro_f1(),
        per_class: confusion.per_class(),
        biocas: BiocasScore::from_confusion(&confusion, normal_class)?,
        icbhi: IcbhiScore::from_confusion(&confusion, normal_class)?,
        auc_macro: roc_macro.as_ref().and_then(|c| c.auc),
        auc_micro: roc_micro.as_ref().and_then(|c| c.auc),
        confusion,
        roc,
        roc_micro,
        roc_macro,
    })
}

/// Index of the largest value; the lowest index among equal maxima (as
/// `numpy.argmax`). 0 for an empty row.
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate().skip(1) {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Shape and value checks shared by `evaluate` and the ROC helpers.
pub(crate) fn check_inputs(
    y_true: &[usize],
    probabilities: &[Vec<f32>],
    class_names: &[String],
) -> Result<(), Error> {
    let n_classes = class_names.len();
    if n_classes == 0 {
        return Err(Error::NoClasses);
    }
    if y_true.len() != probabilities.len() {
        return Err(Error::LengthMismatch {
            left: "y_true",
            left_len: y_true.len(),
            right: "probabilities",
            right_len: probabilities.len(),
        });
    }
    check_labels("y_true", y_true, n_classes)?;
    for (row, values) in probabilities.iter().enumerate() {
        if values.len() != n_classes {
            return Err(Error::RowWidth {
                row,
                width: values.len(),
                n_classes,
            });
        }
        if let Some(class) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NotFinite {
                row,
                class,
                value: f64::from(values[class]),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;

    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn argmax_ties_go_to_the_lowest_index() {
        assert_eq!(argmax(&[0.2, 0.4, 0.4]), 1);
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(argmax(&[0.1, 0.2, 0.7]), 2);
    }

    #[test]
    fn small_binary_example() {
        // true:  0    0    1    1
        // p(1): 0.1  0.6  0.4  0.8   → pred 0 1 0 1
        // cm = [[1,1],[1,1]]: accuracy 0.5, SE = 1/2, SP = 1/2
        // AUC(class 1): pairs (pos, neg): 0.4>0.1, 0.4<0.6, 0.8>0.1, 0.8>0.6 → 3/4
        let p = |x: f32| vec![1.0 - x, x];
        let m = evaluate(
            &[0, 0, 1, 1],
            &[p(0.1), p(0.6), p(0.4), p(0.8)],
            &names(2),
            0,
        )
        .unwrap();
        assert_eq!(m.confusion.counts, vec![vec![1, 1], vec![1, 1]]);
        assert_abs_diff_eq!(m.accuracy, 0.5);
        assert_abs_diff_eq!(m.icbhi.score, 0.5);
        assert_abs_diff_eq!(m.roc[1].auc.unwrap(), 0.75, epsilon = 1e-7);
        // Class 0 is scored by 1 - p, the mirror image: same AUC.
        assert_abs_diff_eq!(m.roc[0].auc.unwrap(), 0.75, epsilon = 1e-7);
        assert_abs_diff_eq!(m.auc_macro.unwrap(), 0.75, epsilon = 1e-7);
    }

    #[test]
    fn error_messages_state_rule_and_value() {
        let two = names(2);
        let e = evaluate(&[], &[], &two, 0).unwrap_err();
        assert_eq!(e, Error::Empty);
        let e = evaluate(&[0, 1], &[vec![1.0, 0.0]], &two, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "y_true and probabilities must have the same length, got 2 and 1"
        );
        let e = evaluate(&[0], &[vec![1.0, 0.0, 0.0]], &two, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "probability row 0 must have one value per class (2), got 3"
        );
        let e = evaluate(&[0, 2], &[vec![1.0, 0.0], vec![0.0, 1.0]], &two, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "y_true[1] must be a class index below 2, got 2"
        );
        let e = evaluate(&[0], &[vec![f32::NAN, 0.0]], &two, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "scores must be finite numbers, got NaN at row 0, class 0"
        );
        let e = evaluate(&[0], &[vec![1.0, 0.0]], &two, 5).unwrap_err();
        assert_eq!(
            e.to_string(),
            "normal_class must be a class index below 2, got 5"
        );
        let e = evaluate(&[0], &[vec![]], &[], 0).unwrap_err();
        assert_eq!(e, Error::NoClasses);
    }
}

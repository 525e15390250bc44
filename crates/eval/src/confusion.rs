//! The confusion matrix: rows are the true class, columns the predicted class.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Counts of (true class, predicted class) pairs.
///
/// `counts[t][p]` is the number of samples whose true class is `t` and whose
/// predicted class is `p` (scikit-learn's `confusion_matrix` orientation).
/// `counts` is square with one row and one column per entry of `class_names`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Class names, in class-index order.
    pub class_names: Vec<String>,
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// Counts the pairs `(y_true[i], y_pred[i])`.
    ///
    /// Empty inputs give an all-zero matrix. Errors when the inputs differ in
    /// length, `class_names` is empty, or a label is `>= class_names.len()`.
    pub fn from_predictions(
        y_true: &[usize],
        y_pred: &[usize],
        class_names: &[String],
    ) -> Result<Self, Error> {
        let n_classes = class_names.len();
        if n_classes == 0 {
            return Err(Error::NoClasses);
        }
        if y_true.len() != y_pred.len() {
            return Err(Error::LengthMismatch {
                left: "y_true",
                left_len: y_true.len(),
                right: "y_pred",
                right_len: y_pred.len(),
            });
        }
        check_labels("y_true", y_true, n_classes)?;
        check_labels("y_pred", y_pred, n_classes)?;
        let mut counts = vec![vec![0u64; n_classes]; n_classes];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            counts[t][p] += 1;
        }
        Ok(Self {
            class_names: class_names.to_vec(),
            counts,
        })
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.counts.len()
    }

    /// Number of samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Samples whose true class is `class` (the row sum; scikit-learn's "support").
    pub fn support(&self, class: usize) -> u64 {
        self.counts[class].iter().sum()
    }

    /// Samples predicted as `class` (the column sum).
    pub fn predicted(&self, class: usize) -> u64 {
        self.counts.iter().map(|row| row[class]).sum()
    }

    /// Samples of `class` predicted as `class` (the diagonal).
    pub fn correct(&self, class: usize) -> u64 {
        self.counts[class][class]
    }

    /// Each row divided by its sum, so row `t` holds the fraction of class-`t`
    /// samples given each prediction (the diagonal is per-class recall).
    /// Rows of classes with no samples are all zero.
    pub fn row_normalized(&self) -> Vec<Vec<f64>> {
        self.counts
            .iter()
            .map(|row| {
                let sum: u64 = row.iter().sum();
                row.iter().map(|&c| ratio(c, sum)).collect()
            })
            .collect()
    }
}

/// `num / den`, or 0 when `den` is 0 (scikit-learn's `zero_division=0`).
pub(crate) fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

pub(crate) fn check_labels(
    input: &'static str,
    labels: &[usize],
    n_classes: usize,
) -> Result<(), Error> {
    match labels.iter().position(|&l| l >= n_classes) {
        Some(index) => Err(Error::LabelOutOfRange {
            input,
            index,
            label: labels[index],
            n_classes,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn rows_are_true_class_columns_are_predicted() {
        // (true, pred): (0,0) (0,1) (1,1) (2,0) (2,2) (2,2)
        let cm =
            ConfusionMatrix::from_predictions(&[0, 0, 1, 2, 2, 2], &[0, 1, 1, 0, 2, 2], &names(3))
                .unwrap();
        assert_eq!(cm.counts, vec![vec![1, 1, 0], vec![0, 1, 0], vec![1, 0, 2]]);
        assert_eq!(cm.total(), 6);
        assert_eq!(cm.support(2), 3);
        assert_eq!(cm.predicted(0), 2);
        assert_eq!(cm.correct(2), 2);
    }

    #[test]
    fn row_normalized_divides_each_row_and_zeroes_empty_rows() {
        // Class 1 never occurs as a true class: its row stays 0.
        let cm =
            ConfusionMatrix::from_predictions(&[0, 0, 0, 2], &[0, 1, 1, 2], &names(3)).unwrap();
        let n = cm.row_normalized();
        assert_eq!(n[0], vec![1.0 / 3.0, 2.0 / 3.0, 0.0]);
        assert_eq!(n[1], vec![0.0, 0.0, 0.0]);
        assert_eq!(n[2], vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn rejects_bad_labels_and_lengths() {
        let err = ConfusionMatrix::from_predictions(&[0, 3], &[0, 0], &names(3)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y_true[1] must be a class index below 3, got 3"
        );
        let err = ConfusionMatrix::from_predictions(&[0], &[0, 0], &names(3)).unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
        let err = ConfusionMatrix::from_predictions(&[], &[], &[]).unwrap_err();
        assert_eq!(err, Error::NoClasses);
    }

    #[test]
    fn empty_input_gives_zero_matrix() {
        let cm = ConfusionMatrix::from_predictions(&[], &[], &names(2)).unwrap();
        assert_eq!(cm.counts, vec![vec![0, 0], vec![0, 0]]);
        assert_eq!(cm.total(), 0);
    }
}

//! Per-class precision / recall / F1, accuracy, macro F1 and balanced accuracy.
//!
//! Definitions follow scikit-learn 1.x with `zero_division=0`: a ratio whose
//! denominator is 0 is 0 rather than NaN, so every value is a plain number.

use serde::{Deserialize, Serialize};

use crate::confusion::{ConfusionMatrix, ratio};

/// One class's one-vs-rest metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class name.
    pub name: String,
    /// Correct predictions of this class / all predictions of this class (0 if never predicted).
    pub precision: f64,
    /// Correct predictions of this class / all samples of this class (0 if the class is absent).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Number of samples whose true class is this class.
    pub support: u64,
}

impl ConfusionMatrix {
    /// Precision, recall, F1 and support of every class, in class order
    /// (scikit-learn `precision_recall_fscore_support(labels=range(n), zero_division=0)`).
    pub fn per_class(&self) -> Vec<ClassMetrics> {
        (0..self.n_classes())
            .map(|c| {
                let tp = self.correct(c);
                let support = self.support(c);
                let precision = ratio(tp, self.predicted(c));
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassMetrics {
                    name: self.class_names.get(c).cloned().unwrap_or_default(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }

    /// Fraction of samples predicted correctly (0 for an empty matrix).
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.n_classes()).map(|c| self.correct(c)).sum();
        ratio(correct, self.total())
    }

    /// Unweighted mean F1 over the classes that occur as a true **or** a
    /// predicted label (scikit-learn `f1_score(average="macro")` without
    /// `labels`): a class absent from both does not pull the mean down.
    /// 0 for an empty matrix.
    pub fn macro_f1(&self) -> f64 {
        let seen: Vec<f64> = self
            .per_class()
            .iter()
            .enumerate()
            .filter(|(c, _)| self.support(*c) > 0 || self.predicted(*c) > 0)
            .map(|(_, m)| m.f1)
            .collect();
        mean(&seen)
    }

    /// Mean recall over the classes that occur as a true label (scikit-learn
    /// `balanced_accuracy_score`). 0 for an empty matrix.
    pub fn balanced_accuracy(&self) -> f64 {
        let recalls: Vec<f64> = (0..self.n_classes())
            .filter(|&c| self.support(c) > 0)
            .map(|c| ratio(self.correct(c), self.support(c)))
            .collect();
        mean(&recalls)
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;

    use super::*;

    fn cm(counts: Vec<Vec<u64>>) -> ConfusionMatrix {
        let class_names = (0..counts.len()).map(|i| format!("c{i}")).collect();
        ConfusionMatrix {
            class_names,
            counts,
        }
    }

    #[test]
    fn hand_computed_three_class_example() {
        //            pred 0  1  2
        // true 0:         3  1  0   support 4
        // true 1:         1  2  1   support 4
        // true 2:         0  0  2   support 2
        // predicted:      4  3  3   total 10, correct 3+2+2 = 7
        let m = cm(vec![vec![3, 1, 0], vec![1, 2, 1], vec![0, 0, 2]]);
        let pc = m.per_class();
        // class 0: P = 3/4, R = 3/4, F1 = 3/4
        assert_abs_diff_eq!(pc[0].precision, 0.75);
        assert_abs_diff_eq!(pc[0].recall, 0.75);
        assert_abs_diff_eq!(pc[0].f1, 0.75);
        // class 1: P = 2/3, R = 2/4, F1 = 2·(2/3)(1/2)/(2/3+1/2) = (2/3)/(7/6) = 4/7
        assert_abs_diff_eq!(pc[1].precision, 2.0 / 3.0);
        assert_abs_diff_eq!(pc[1].recall, 0.5);
        assert_abs_diff_eq!(pc[1].f1, 4.0 / 7.0, epsilon = 1e-15);
        // class 2: P = 2/3, R = 2/2, F1 = 2·(2/3)/(5/3) = 4/5
        assert_abs_diff_eq!(pc[2].f1, 0.8, epsilon = 1e-15);
        assert_eq!(
            pc.iter().map(|c| c.support).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        assert_abs_diff_eq!(m.accuracy(), 0.7);
        // macro F1 = (3/4 + 4/7 + 4/5) / 3
        assert_abs_diff_eq!(
            m.macro_f1(),
            (0.75 + 4.0 / 7.0 + 0.8) / 3.0,
            epsilon = 1e-15
        );
        // balanced accuracy = (3/4 + 1/2 + 1) / 3 = 0.75
        assert_abs_diff_eq!(m.balanced_accuracy(), 0.75, epsilon = 1e-15);
    }

    #[test]
    fn absent_classes_are_left_out_of_macro_means() {
        // Class 2 never occurs (neither true nor predicted); class 1 is only predicted.
        //          pred 0 1 2
        // true 0:       1 1 0
        // true 1:       0 0 0
        // true 2:       0 0 0
        let m = cm(vec![vec![1, 1, 0], vec![0, 0, 0], vec![0, 0, 0]]);
        // class 0: P = 1, R = 1/2, F1 = 2/3; class 1: P = 0, R = 0, F1 = 0 (predicted, so counted)
        assert_abs_diff_eq!(m.macro_f1(), (2.0 / 3.0 + 0.0) / 2.0);
        // only class 0 has support: balanced accuracy = recall_0 = 1/2
        assert_abs_diff_eq!(m.balanced_accuracy(), 0.5);
    }

    #[test]
    fn empty_matrix_is_all_zero_not_nan() {
        let m = cm(vec![vec![0, 0], vec![0, 0]]);
        assert_eq!(m.accuracy(), 0.0);
        assert_eq!(m.macro_f1(), 0.0);
        assert_eq!(m.balanced_accuracy(), 0.0);
        assert!(
            m.per_class()
                .iter()
                .all(|c| c.f1 == 0.0 && c.precision == 0.0)
        );
    }
}

//! Challenge scores: SPRSound (IEEE BioCAS) and ICBHI 2017.
//!
//! Both split the samples into Normal and non-Normal. A non-Normal sample
//! counts towards sensitivity only when its **exact** class is predicted
//! (a Wheeze predicted as Crackle is wrong, even though both are abnormal);
//! every class other than `normal_class`, Poor Quality included, is on the
//! sensitivity side. Ratios with a zero denominator are 0.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::confusion::{ConfusionMatrix, ratio};

/// The SPRSound challenge score (IEEE BioCAS 2022–2024).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BiocasScore {
    /// SE: correctly classified non-Normal samples (exact class) / all non-Normal samples.
    pub sensitivity: f64,
    /// SP: correctly classified Normal samples / all Normal samples.
    pub specificity: f64,
    /// AS = (SE + SP) / 2.
    pub average_score: f64,
    /// HS = 2·SE·SP / (SE + SP), 0 when SE + SP = 0.
    pub harmonic_score: f64,
    /// Score = (AS + HS) / 2.
    pub score: f64,
}

/// The ICBHI 2017 challenge score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IcbhiScore {
    /// Se: correctly classified non-Normal samples (exact class) / all non-Normal samples.
    pub sensitivity: f64,
    /// Sp: correctly classified Normal samples / all Normal samples.
    pub specificity: f64,
    /// Score = (Se + Sp) / 2.
    pub score: f64,
}

/// (SE, SP) shared by both challenges; `unscored[c]` samples of true class `c` had no
/// prediction at all and count as wrong (the challenges' rule for a missing prediction).
fn sensitivity_specificity(
    cm: &ConfusionMatrix,
    normal_class: usize,
    unscored: &[u64],
) -> Result<(f64, f64), Error> {
    let n_classes = cm.n_classes();
    if normal_class >= n_classes {
        return Err(Error::NormalClassOutOfRange {
            normal_class,
            n_classes,
        });
    }
    let missing = |c: usize| unscored.get(c).copied().unwrap_or(0);
    let abnormal = (0..n_classes).filter(|&c| c != normal_class);
    let (correct, total) = abnormal.fold((0, 0), |(correct, total), c| {
        (correct + cm.correct(c), total + cm.support(c) + missing(c))
    });
    let se = ratio(correct, total);
    let sp = ratio(
        cm.correct(normal_class),
        cm.support(normal_class) + missing(normal_class),
    );
    Ok((se, sp))
}

impl BiocasScore {
    /// Computes SE, SP, AS, HS and Score from a confusion matrix.
    ///
    /// Errors when `normal_class` is not a class of `cm`.
    pub fn from_confusion(cm: &ConfusionMatrix, normal_class: usize) -> Result<Self, Error> {
        Self::with_unscored(cm, normal_class, &[])
    }

    /// As [`BiocasScore::from_confusion`], with `unscored[c]` further samples of true class
    /// `c` that got no prediction (audio that could not be decoded, an event past the end
    /// of the recording): each counts as a wrong prediction, as the challenge counts a
    /// missing one.
    pub fn with_unscored(
        cm: &ConfusionMatrix,
        normal_class: usize,
        unscored: &[u64],
    ) -> Result<Self, Error> {
        let (se, sp) = sensitivity_specificity(cm, normal_class, unscored)?;
        let average_score = (se + sp) / 2.0;
        let harmonic_score = if se + sp > 0.0 {
            2.0 * se * sp / (se + sp)
        } else {
            0.0
        };
        Ok(Self {
            sensitivity: se,
            specificity: sp,
            average_score,
            harmonic_score,
            score: (average_score + harmonic_score) / 2.0,
        })
    }
}

impl IcbhiScore {
    /// Computes Se, Sp and Score from a confusion matrix.
    ///
    /// Errors when `normal_class` is not a class of `cm`.
    pub fn from_confusion(cm: &ConfusionMatrix, normal_class: usize) -> Result<Self, Error> {
        Self::with_unscored(cm, normal_class, &[])
    }

    /// As [`IcbhiScore::from_confusion`], counting `unscored[c]` further samples of true
    /// class `c` as wrong (see [`BiocasScore::with_unscored`]).
    pub fn with_unscored(
        cm: &ConfusionMatrix,
        normal_class: usize,
        unscored: &[u64],
    ) -> Result<Self, Error> {
        let (se, sp) = sensitivity_specificity(cm, normal_class, unscored)?;
        Ok(Self {
            sensitivity: se,
            specificity: sp,
            score: (se + sp) / 2.0,
        })
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
    fn unscored_samples_count_as_wrong_predictions() {
        // The task 2-1 matrix below, plus 10 Normal and 10 Adventitious samples that got no
        // prediction: SP = 8 / 20 = 0.4, SE = 5 / 20 = 0.25.
        let m = cm(vec![vec![8, 1, 1], vec![1, 2, 1], vec![2, 1, 3]]);
        let b = BiocasScore::with_unscored(&m, 0, &[10, 0, 10]).unwrap();
        assert_abs_diff_eq!(b.specificity, 0.4);
        assert_abs_diff_eq!(b.sensitivity, 0.25);
        let hs = 2.0 * 0.25 * 0.4 / 0.65;
        assert_abs_diff_eq!(b.score, (0.325 + hs) / 2.0, epsilon = 1e-15);
        let i = IcbhiScore::with_unscored(&m, 0, &[10, 0, 10]).unwrap();
        assert_abs_diff_eq!(i.score, 0.325, epsilon = 1e-15);
        // Nothing unscored: the plain score.
        assert_eq!(
            BiocasScore::with_unscored(&m, 0, &[0, 0, 0]).unwrap(),
            BiocasScore::from_confusion(&m, 0).unwrap()
        );
    }

    #[test]
    fn task_2_1_example_with_poor_quality_on_the_se_side() {
        // Classes: 0 Normal, 1 Poor Quality, 2 Adventitious.
        //              pred N  PQ  Adv
        // true Normal:     8   1   1     SP = 8/10 = 0.8
        // true PQ:         1   2   1     non-Normal correct: 2 (PQ) + 3 (Adv) = 5
        // true Adv:        2   1   3     non-Normal total: 4 + 6 = 10 → SE = 0.5
        let m = cm(vec![vec![8, 1, 1], vec![1, 2, 1], vec![2, 1, 3]]);
        let b = BiocasScore::from_confusion(&m, 0).unwrap();
        assert_abs_diff_eq!(b.specificity, 0.8);
        assert_abs_diff_eq!(b.sensitivity, 0.5);
        // AS = (0.5 + 0.8) / 2 = 0.65
        assert_abs_diff_eq!(b.average_score, 0.65, epsilon = 1e-15);
        // HS = 2·0.5·0.8 / 1.3 = 0.8 / 1.3 = 0.615384…
        assert_abs_diff_eq!(b.harmonic_score, 0.8 / 1.3, epsilon = 1e-15);
        // Score = (0.65 + 0.615384…) / 2 = 0.632692…
        assert_abs_diff_eq!(b.score, (0.65 + 0.8 / 1.3) / 2.0, epsilon = 1e-15);

        let i = IcbhiScore::from_confusion(&m, 0).unwrap();
        assert_abs_diff_eq!(i.sensitivity, 0.5);
        assert_abs_diff_eq!(i.specificity, 0.8);
        assert_abs_diff_eq!(i.score, 0.65, epsilon = 1e-15);
    }

    #[test]
    fn wrong_abnormal_class_is_not_sensitivity() {
        // cycles4: 0 Normal, 1 Crackle, 2 Wheeze, 3 Both. Every abnormal cycle is
        // predicted abnormal but with the wrong class: SE = 0 although no
        // abnormal cycle was called Normal.
        let m = cm(vec![
            vec![5, 0, 0, 0],
            vec![0, 0, 3, 0],
            vec![0, 2, 0, 0],
            vec![0, 1, 0, 0],
        ]);
        let b = BiocasScore::from_confusion(&m, 0).unwrap();
        assert_eq!(b.sensitivity, 0.0);
        assert_eq!(b.specificity, 1.0);
        // AS = 0.5, HS = 0 (SE·SP = 0), Score = 0.25
        assert_eq!(b.average_score, 0.5);
        assert_eq!(b.harmonic_score, 0.0);
        assert_eq!(b.score, 0.25);
    }

    #[test]
    fn hs_is_zero_when_se_and_sp_are_zero() {
        // Everything wrong: SE = SP = 0, HS would be 0/0.
        let m = cm(vec![vec![0, 3], vec![4, 0]]);
        let b = BiocasScore::from_confusion(&m, 0).unwrap();
        assert_eq!(
            (
                b.sensitivity,
                b.specificity,
                b.average_score,
                b.harmonic_score,
                b.score
            ),
            (0.0, 0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn normal_class_must_exist() {
        let m = cm(vec![vec![1, 0], vec![0, 1]]);
        let err = BiocasScore::from_confusion(&m, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "normal_class must be a class index below 2, got 2"
        );
    }

    #[test]
    fn normal_class_need_not_be_zero() {
        // Normal is class 1 here. SP = 3/4; SE over class 0 only = 1/2.
        let m = cm(vec![vec![1, 1], vec![1, 3]]);
        let i = IcbhiScore::from_confusion(&m, 1).unwrap();
        assert_abs_diff_eq!(i.specificity, 0.75);
        assert_abs_diff_eq!(i.sensitivity, 0.5);
    }
}

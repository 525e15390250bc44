//! Classification metrics for lungsound.
//!
//! This crate sits after the models in the pipeline and stands alone: it
//! takes true class indices and per-class scores and returns numbers, with
//! no plotting (that is `lungsound-report`) and no deep-learning dependency.
//!
//! - [`evaluate`] computes everything at once into [`Metrics`] (written as
//!   `metrics.json` by the caller).
//! - [`ConfusionMatrix`] (rows = true class, columns = predicted) with
//!   per-class precision / recall / F1 ([`ClassMetrics`]), accuracy, macro F1
//!   and balanced accuracy.
//! - [`BiocasScore`] (SPRSound challenge SE / SP / AS / HS / Score) and
//!   [`IcbhiScore`] (ICBHI 2017 Se / Sp / Score).
//! - [`RocCurve`], [`roc_curve`], [`auc`]: ROC and AUC matching scikit-learn,
//!   one-vs-rest per class plus micro and macro averages.
//!
//! Ratios whose denominator is 0 are 0 (scikit-learn's `zero_division=0`),
//! and undefined AUCs are `None`, so no result holds NaN.
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod confusion;
mod error;
mod evaluate;
mod metrics;
mod roc;
mod scores;

pub use confusion::ConfusionMatrix;
pub use error::Error;
pub use evaluate::{Metrics, argmax, evaluate};
pub use metrics::ClassMetrics;
pub use roc::{
    MACRO_AVERAGE, MICRO_AVERAGE, RocCurve, auc, macro_average, micro_average, one_vs_rest,
    roc_curve,
};
pub use scores::{BiocasScore, IcbhiScore};

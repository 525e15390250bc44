//! The crate's error type.

/// Why metrics could not be computed.
///
/// Each message states the rule that was broken and the value that broke it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `evaluate` was given no samples.
    #[error("cannot evaluate an empty set: need at least 1 sample, got 0")]
    Empty,
    /// `class_names` was empty.
    #[error("class_names must name at least 1 class, got 0")]
    NoClasses,
    /// Two per-sample inputs differ in length.
    #[error("{left} and {right} must have the same length, got {left_len} and {right_len}")]
    LengthMismatch {
        /// Name of the first input (e.g. `y_true`).
        left: &'static str,
        /// Length of the first input.
        left_len: usize,
        /// Name of the second input (e.g. `probabilities`).
        right: &'static str,
        /// Length of the second input.
        right_len: usize,
    },
    /// A probability row does not have one value per class.
    #[error("probability row {row} must have one value per class ({n_classes}), got {width}")]
    RowWidth {
        /// Sample index of the row.
        row: usize,
        /// Number of values in the row.
        width: usize,
        /// Number of classes (`class_names.len()`).
        n_classes: usize,
    },
    /// A label is not a valid class index.
    #[error("{input}[{index}] must be a class index below {n_classes}, got {label}")]
    LabelOutOfRange {
        /// Which input holds the label (`y_true` or `y_pred`).
        input: &'static str,
        /// Sample index.
        index: usize,
        /// The label found.
        label: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// A probability (or score) is NaN or infinite.
    #[error("scores must be finite numbers, got {value} at row {row}, class {class}")]
    NotFinite {
        /// Sample index.
        row: usize,
        /// Class (column) index; 0 for one-column score lists.
        class: usize,
        /// The value found.
        value: f64,
    },
    /// `normal_class` is not a valid class index.
    #[error("normal_class must be a class index below {n_classes}, got {normal_class}")]
    NormalClassOutOfRange {
        /// The index given.
        normal_class: usize,
        /// Number of classes.
        n_classes: usize,
    },
}

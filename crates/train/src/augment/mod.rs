//! Training-only augmentation: audio copies of selected training clips made
//! while the training feature set is built ([`plan`]), and the batch-level
//! MixUp ([`mixup`]) and SpecAugment ([`spec_augment`]).

pub mod mixup;
pub mod plan;
pub mod spec_augment;

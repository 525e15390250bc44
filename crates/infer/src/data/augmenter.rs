//! [`ClipAugmenter`]: the hook through which training adds augmented clips.

use lungsound_datasets::Task;
use lungsound_features::FeatureExtractor;

use super::clips::ClipSpan;
use crate::config::FeatureSettings;

/// Training-only audio augmentation applied while a training [`FeatureSet`]
/// is built: each selected clip is followed by augmented copies. The
/// augmented clips are cached beside the originals. `lungsound-train`'s
/// augmentation plan implements it; evaluation and prediction never use it.
pub trait ClipAugmenter: Sync {
    /// The extra clips of one recording: `(k, copy)` for every selected clip
    /// `k` (`labels[k]`: its class; `None`: not used) and copy number.
    fn jobs(&self, task: Task, labels: &[Option<usize>]) -> Vec<(usize, usize)>;

    /// The cache key of a recording's extra clips, from its own `base` key.
    fn cache_key(&self, base: u64, jobs: &[(usize, usize)]) -> u64;

    /// The f16 spectrograms of the extra clips `jobs` of recording `record`
    /// (`samples`: its preprocessed audio; `spans`: its clips), in order.
    fn compute(
        &self,
        record: &str,
        samples: &[f32],
        spans: &[ClipSpan],
        jobs: &[(usize, usize)],
        settings: &FeatureSettings,
        extractor: &FeatureExtractor,
    ) -> Vec<u16>;
}

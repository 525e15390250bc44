//! Audio augmentation of the training split, done once when the training
//! [`FeatureSet`](lungsound_infer::data::FeatureSet) is built: every selected clip gets
//! extra clips computed from augmented audio (see
//! [`AugmentSettings`] for the rules and the
//! seeds). The extra clips are cached beside the originals, under a key
//! that adds the augmentation settings, the seed and the list of
//! (clip, copy) pairs to the recording's own key.

use lungsound_datasets::{Task, fit_length};
use lungsound_features::FeatureExtractor;
use lungsound_features::augment::derive_seed;

use lungsound_infer::config::{AugmentSettings, FeatureSettings};
use lungsound_infer::data::ClipAugmenter;
use lungsound_infer::data::clips::{ClipSpan, span_samples};
use lungsound_infer::data::f16;

/// What to augment in a training set: the settings and the run's seed
/// (`training.seed`), from which every copy's seed is derived.
#[derive(Debug, Clone, Copy)]
pub struct AugmentPlan<'a> {
    /// Which classes, which transforms, how many copies.
    pub settings: &'a AugmentSettings,
    /// The run's seed.
    pub seed: u64,
}

impl ClipAugmenter for AugmentPlan<'_> {
    /// The extra clips of one recording: `(k, copy)` for every clip `k`
    /// whose class (`labels[k]`; `None`: not used) is selected, copies in
    /// `0..clips_per_source()`.
    fn jobs(&self, task: Task, labels: &[Option<usize>]) -> Vec<(usize, usize)> {
        let n = self.settings.clips_per_source();
        labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_some_and(|c| self.settings.applies_to(task, c)))
            .flat_map(|(k, _)| (0..n).map(move |copy| (k, copy)))
            .collect()
    }

    /// The cache key of a recording's extra clips, from its own `base` key.
    fn cache_key(&self, base: u64, jobs: &[(usize, usize)]) -> u64 {
        let key = serde_json::json!({
            "base": base.to_string(),
            "augment": self.settings,
            "seed": self.seed.to_string(),
            "jobs": jobs,
        });
        lungsound_infer::fsutil::fnv1a(key.to_string().as_bytes())
    }

    /// The f16 spectrograms of the extra clips `jobs` of one recording
    /// (`samples`: its preprocessed audio; `spans`: its clips), in order.
    fn compute(
        &self,
        record: &str,
        samples: &[f32],
        spans: &[ClipSpan],
        jobs: &[(usize, usize)],
        settings: &FeatureSettings,
        extractor: &FeatureExtractor,
    ) -> Vec<u16> {
        let sr = settings.sample_rate;
        let clip = settings.clip_samples();
        let mut scratch = extractor.scratch();
        let mut values =
            Vec::with_capacity(jobs.len() * extractor.output_shape(clip).iter().product::<usize>());
        for &(k, copy) in jobs {
            let span = &spans[k];
            let source = span_samples(samples, sr, span).unwrap_or_default();
            let pipeline = self.settings.pipeline_for_copy(copy);
            let (augmented, _) =
                pipeline.apply_seeded(source, sr, self.clip_seed(record, span, copy));
            let fitted = if augmented.is_empty() {
                vec![0.0; clip]
            } else {
                fit_length(&augmented, clip, settings.pad)
            };
            let spec = extractor.compute_with_scratch(&fitted, &mut scratch);
            values.extend(spec.iter().map(|&v| f16::f32_to_f16(v)));
        }
        values
    }
}

impl AugmentPlan<'_> {
    /// The seed of extra clip `copy` of the clip at `span` of `record`.
    pub fn clip_seed(&self, record: &str, span: &ClipSpan, copy: usize) -> u64 {
        let key = match span.event_index {
            Some(i) => format!("{record}#{i}"),
            None => format!("{record}@{:.6}", span.start_s),
        };
        derive_seed(self.seed, &key, copy as u64)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lungsound_features::augment::{Augmentation, Gain, Step};
    use lungsound_infer::config::AugmentMode;

    #[test]
    fn jobs_follow_the_classes_and_seeds_differ_per_copy() {
        let settings = AugmentSettings {
            copies: 2,
            mode: AugmentMode::Chain,
            classes: Some(vec!["Crackle".into(), "Both".into()]),
            transforms: vec![Step::new(Augmentation::Gain(Gain::default()))],
        };
        let plan = AugmentPlan {
            settings: &settings,
            seed: 7,
        };
        let labels = [Some(0), Some(1), None, Some(3), Some(2)];
        assert_eq!(
            plan.jobs(Task::Cycles4, &labels),
            vec![(1, 0), (1, 1), (3, 0), (3, 1)]
        );
        let span = ClipSpan {
            start_s: 0.0,
            end_s: 1.0,
            event_index: Some(4),
        };
        let a = plan.clip_seed("r", &span, 0);
        assert_ne!(a, plan.clip_seed("r", &span, 1));
        assert_ne!(a, plan.clip_seed("s", &span, 0));
        assert_eq!(a, plan.clip_seed("r", &span, 0));
    }
}

//! SpecAugment-style masking (Park et al., 2019) as a [`BatchTransform`]:
//! built from `training.spec_augment` by the training loop, so a resumed run
//! masks the same way.
//!
//! It runs after standardisation and resizing, so a masked cell becomes 0,
//! the training split's mean of its frequency bin. Per spectrogram, always
//! drawn in this order from the epoch's RNG (so the random stream does not
//! depend on the outcome): a coin for `probability`, then for each frequency
//! mask a width `w ~ U{0..=min(freq_width, height)}` and a first
//! row `f0 ~ U{0..=height−w}`, then the same for each time mask over the
//! columns. Masks may overlap.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

use lungsound_infer::Result;
use lungsound_infer::config::SpecAugmentSettings;
use lungsound_infer::data::batch::{Batch, BatchTransform};

/// Frequency and time masking with fixed settings.
#[derive(Debug, Clone)]
pub struct SpecAugment {
    settings: SpecAugmentSettings,
}

/// One drawn mask: `[start, end)` rows or columns.
type Span = (usize, usize);

impl SpecAugment {
    /// Masking per `settings`.
    ///
    /// # Errors
    /// Invalid settings (see [`SpecAugmentSettings::validate`]).
    pub fn new(settings: &SpecAugmentSettings) -> Result<Self> {
        settings.validate()?;
        Ok(Self {
            settings: settings.clone(),
        })
    }

    /// The spans one spectrogram of `height` rows × `width` columns gets:
    /// `(frequency rows, time columns)`; both empty when the coin says no.
    pub fn draw<R: Rng + ?Sized>(
        &self,
        height: usize,
        width: usize,
        rng: &mut R,
    ) -> (Vec<Span>, Vec<Span>) {
        let s = &self.settings;
        let coin: f64 = rng.random();
        let rows = spans(s.freq_masks, s.freq_width, height, rng);
        let columns = spans(s.time_masks, s.time_width, width, rng);
        if coin < s.probability {
            (rows, columns)
        } else {
            (Vec::new(), Vec::new())
        }
    }

    /// The `[batch, 1, height, width]` multiplier (1 kept, 0 masked).
    pub fn mask(
        &self,
        batch: usize,
        height: usize,
        width: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<f32> {
        let mut mask = vec![1f32; batch * height * width];
        for image in mask.chunks_exact_mut((height * width).max(1)) {
            let (rows, columns) = self.draw(height, width, rng);
            for (start, end) in rows {
                image[start * width..end * width].fill(0.0);
            }
            for (start, end) in columns {
                for row in image.chunks_exact_mut(width.max(1)) {
                    row[start..end].fill(0.0);
                }
            }
        }
        mask
    }
}

/// `count` spans of up to `max_width` within `0..len`.
fn spans<R: Rng + ?Sized>(count: usize, max_width: usize, len: usize, rng: &mut R) -> Vec<Span> {
    (0..count)
        .map(|_| {
            let w = rng.random_range(0..=max_width.min(len));
            let start = rng.random_range(0..=len - w);
            (start, start + w)
        })
        .collect()
}

impl BatchTransform for SpecAugment {
    fn apply(&self, batch: Batch, rng: &mut ChaCha8Rng) -> Batch {
        let size = batch.inputs.size();
        let &[n, c, h, w] = size.as_slice() else {
            return batch;
        };
        let [n, c, h, w] = [n, c, h, w].map(|d| d.max(0) as usize);
        let mask = self.mask(n, h, w, rng);
        let mask = Tensor::from_slice(&mask)
            .reshape([n as i64, 1, h as i64, w as i64])
            .to_device(batch.inputs.device());
        let inputs = if c == 1 {
            &batch.inputs * mask
        } else {
            &batch.inputs * mask.expand([n as i64, c as i64, h as i64, w as i64], false)
        };
        Batch {
            inputs,
            targets: batch.targets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use tch::{Device, Kind};

    fn settings(freq: usize, fw: usize, time: usize, tw: usize) -> SpecAugmentSettings {
        SpecAugmentSettings {
            freq_masks: freq,
            freq_width: fw,
            time_masks: time,
            time_width: tw,
            probability: 1.0,
        }
    }

    #[test]
    fn masks_whole_rows_and_columns_within_the_widths() {
        let aug = SpecAugment::new(&settings(1, 5, 1, 7)).unwrap();
        let (h, w) = (16, 40);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut masked_any = 0;
        for _ in 0..200 {
            let mask = aug.mask(1, h, w, &mut rng);
            masked_any += usize::from(mask.contains(&0.0));
            let zero_rows: Vec<usize> = (0..h)
                .filter(|&r| mask[r * w..(r + 1) * w].iter().all(|&v| v == 0.0))
                .collect();
            let zero_cols: Vec<usize> = (0..w)
                .filter(|&col| (0..h).all(|r| mask[r * w + col] == 0.0))
                .collect();
            assert!(zero_rows.len() <= 5, "{zero_rows:?}");
            assert!(zero_cols.len() <= 7, "{zero_cols:?}");
            // Contiguous bands (one mask each here).
            assert!(zero_rows.windows(2).all(|p| p[1] == p[0] + 1));
            assert!(zero_cols.windows(2).all(|p| p[1] == p[0] + 1));
            // Every zero lies in a masked row or column.
            for r in 0..h {
                for col in 0..w {
                    if mask[r * w + col] == 0.0 {
                        assert!(zero_rows.contains(&r) || zero_cols.contains(&col));
                    }
                }
            }
        }
        // Widths 0 are drawn too, but most draws mask something.
        assert!(masked_any > 150, "{masked_any} of 200 masked");
    }

    #[test]
    fn widths_cover_the_whole_range_and_are_seeded() {
        let aug = SpecAugment::new(&settings(1, 4, 0, 0)).unwrap();
        let mut seen = [false; 5];
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..500 {
            let (rows, cols) = aug.draw(10, 10, &mut rng);
            assert!(cols.is_empty());
            let (a, b) = rows[0];
            assert!(b <= 10);
            seen[b - a] = true;
        }
        assert!(seen.iter().all(|&s| s), "{seen:?}");
        let draw = |seed| aug.mask(4, 10, 12, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }

    #[test]
    fn wider_than_the_input_draws_widths_up_to_the_input() {
        let aug = SpecAugment::new(&settings(1, 50, 1, 50)).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut widths = [0usize; 5];
        for _ in 0..500 {
            let (rows, cols) = aug.draw(4, 6, &mut rng);
            assert!(rows[0].1 <= 4 && cols[0].1 <= 6);
            widths[rows[0].1 - rows[0].0] += 1;
        }
        // Uniform over 0..=4, not piled up on the full height.
        assert!(
            widths.iter().all(|&n| (60..=140).contains(&n)),
            "{widths:?}"
        );
    }

    #[test]
    fn probability_zero_leaves_the_batch_unchanged_and_targets_are_kept() {
        let mut s = settings(2, 3, 2, 3);
        s.probability = 0.0;
        let aug = SpecAugment::new(&s).unwrap();
        // Fixed values (not libtorch's global generator, which training tests seed).
        let values: Vec<f32> = (0..3 * 8 * 9).map(|i| 1.0 + i as f32 / 7.0).collect();
        let inputs = Tensor::from_slice(&values).reshape([3, 1, 8, 9]);
        let targets = Tensor::from_slice(&[1f32, 0., 0., 1., 1., 0.]).reshape([3, 2]);
        let out = aug.apply(
            Batch {
                inputs: inputs.shallow_clone(),
                targets: targets.shallow_clone(),
            },
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        assert_eq!(out.inputs, inputs);
        assert_eq!(out.targets, targets);
    }

    #[test]
    fn masks_every_channel_alike() {
        let aug = SpecAugment::new(&settings(1, 3, 1, 3)).unwrap();
        let inputs = Tensor::ones([2, 3, 8, 9], (Kind::Float, Device::Cpu));
        let targets = Tensor::zeros([2, 2], (Kind::Float, Device::Cpu));
        let out = aug.apply(Batch { inputs, targets }, &mut ChaCha8Rng::seed_from_u64(4));
        let first = out.inputs.narrow(1, 0, 1);
        for c in 1..3 {
            assert_eq!(out.inputs.narrow(1, c, 1), first);
        }
    }

    #[test]
    fn settings_parse_and_reject_nonsense() {
        let s: SpecAugmentSettings = "2:8:2:16".parse().unwrap();
        assert_eq!(s, settings(2, 8, 2, 16));
        for bad in ["2:8:2", "a:8:2:16", "0:8:0:16", "2:0:2:16", "2:8:2:0"] {
            assert!(bad.parse::<SpecAugmentSettings>().is_err(), "{bad}");
        }
    }
}

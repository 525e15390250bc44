//! Batches: clips of a [`FeatureSet`] stacked to `[batch, 1, height, width]`,
//! standardised per frequency bin and optionally resized, with soft targets.
//!
//! Training-only augmentation plugs in here: a [`SampleTransform`] changes one
//! spectrogram before standardisation, a [`BatchTransform`] (e.g. MixUp)
//! changes a whole [`Batch`], inputs and soft targets together. Both get a
//! seeded RNG derived from the run's seed and the epoch, so a resumed run
//! draws the same augmentations.

use std::sync::Arc;

use ndarray::ArrayViewMut2;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

use crate::config::Normalization;
use crate::data::FeatureSet;

/// A batch ready for the network.
#[derive(Debug)]
pub struct Batch {
    /// `[batch, 1, height, width]` f32 on the training device.
    pub inputs: Tensor,
    /// `[batch, n_classes]` f32 soft targets (rows sum to 1).
    pub targets: Tensor,
}

/// Changes one training spectrogram (`[n_freq, n_frames]`, before
/// standardisation) in place. Applied to the training split only.
pub trait SampleTransform: Send + Sync {
    /// Transforms `spectrogram` using `rng` for every random choice.
    fn apply(&self, spectrogram: ArrayViewMut2<'_, f32>, rng: &mut ChaCha8Rng);
}

/// Changes a whole training batch (inputs and soft targets). Applied to the
/// training split only, after standardisation and resizing.
pub trait BatchTransform: Send + Sync {
    /// Returns the transformed batch, using `rng` for every random choice.
    fn apply(&self, batch: Batch, rng: &mut ChaCha8Rng) -> Batch;
}

/// The training-only transforms of a run (none by default).
#[derive(Clone, Default)]
pub struct Augmentations {
    /// Per-spectrogram transforms, in order.
    pub sample: Vec<Arc<dyn SampleTransform>>,
    /// Per-batch transforms, in order.
    pub batch: Vec<Arc<dyn BatchTransform>>,
}

impl std::fmt::Debug for Augmentations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Augmentations")
            .field("sample", &self.sample.len())
            .field("batch", &self.batch.len())
            .finish()
    }
}

/// Turns host spectrograms into network inputs: standardise, resize, move.
#[derive(Debug)]
pub struct InputPipeline {
    mean: Tensor,
    std: Tensor,
    shape: [usize; 2],
    resize: Option<[usize; 2]>,
    device: Device,
}

impl InputPipeline {
    /// For spectrograms of `shape` `[n_freq, n_frames]`, standardised with
    /// `norm` and resized to `input_size` (if any), on `device`.
    pub fn new(
        norm: &Normalization,
        shape: [usize; 2],
        input_size: Option<[usize; 2]>,
        device: Device,
    ) -> Self {
        let column = |v: &[f32]| {
            Tensor::from_slice(v)
                .reshape([1, 1, v.len() as i64, 1])
                .to_device(device)
        };
        Self {
            mean: column(&norm.mean),
            std: column(&norm.std),
            shape,
            resize: input_size.filter(|&s| s != shape),
            device,
        }
    }

    /// Values per spectrogram.
    pub fn clip_len(&self) -> usize {
        self.shape[0] * self.shape[1]
    }

    /// `host` holds `batch` row-major spectrograms; returns `[batch, 1, h, w]`.
    ///
    /// # Shapes
    /// `host: [batch · n_freq · n_frames]` → `[batch, 1, height, width]`
    pub fn prepare(&self, host: &[f32], batch: usize) -> Tensor {
        let [f, t] = self.shape;
        let x = Tensor::from_slice(host)
            .reshape([batch as i64, 1, f as i64, t as i64])
            .to_device(self.device);
        let x = (x - &self.mean) / &self.std;
        match self.resize {
            Some([h, w]) => x.upsample_bilinear2d([h as i64, w as i64], false, None, None),
            None => x,
        }
    }

    /// The batch of clips `indices` of `set`, with `transforms` applied to
    /// each spectrogram first (training only; pass `&[]` otherwise).
    pub fn inputs(
        &self,
        set: &FeatureSet,
        indices: &[usize],
        transforms: &[Arc<dyn SampleTransform>],
        rng: &mut ChaCha8Rng,
    ) -> Tensor {
        let n = self.clip_len();
        let mut host = vec![0f32; indices.len() * n];
        for (chunk, &i) in host.chunks_exact_mut(n).zip(indices) {
            set.write_clip(i, chunk);
            if !transforms.is_empty() {
                let mut view = ArrayViewMut2::from_shape(self.shape, chunk)
                    .unwrap_or_else(|_| unreachable!("chunk has n_freq * n_frames values"));
                for t in transforms {
                    t.apply(view.view_mut(), rng);
                }
            }
        }
        self.prepare(&host, indices.len())
    }
}

/// One-hot targets `[batch, n_classes]` smoothed by `smoothing` (0: one-hot).
pub fn soft_targets(labels: &[usize], n_classes: usize, smoothing: f64, device: Device) -> Tensor {
    let mut host = vec![(smoothing / n_classes as f64) as f32; labels.len() * n_classes];
    for (row, &l) in host.chunks_exact_mut(n_classes).zip(labels) {
        row[l] += (1.0 - smoothing) as f32;
    }
    Tensor::from_slice(&host)
        .reshape([labels.len() as i64, n_classes as i64])
        .to_device(device)
}

/// Class-weighted soft-target cross-entropy, averaged like PyTorch's weighted
/// `cross_entropy` (sum of weighted losses / sum of weights), where a
/// sample's weight is its targets' weighted sum.
///
/// # Shapes
/// `logits, targets: [batch, n_classes]`, `weights: [n_classes]` → scalar
pub fn weighted_cross_entropy(logits: &Tensor, targets: &Tensor, weights: &Tensor) -> Tensor {
    let log_p = logits.log_softmax(-1, Kind::Float);
    let per_sample = -(targets * log_p).sum_dim_intlist([-1i64].as_slice(), false, Kind::Float);
    let sample_w =
        (targets * weights.unsqueeze(0)).sum_dim_intlist([-1i64].as_slice(), false, Kind::Float);
    (per_sample * &sample_w).sum(Kind::Float) / sample_w.sum(Kind::Float).clamp_min(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_cross_entropy_matches_libtorch_with_one_hot_targets() {
        let logits = Tensor::from_slice(&[0.2f32, -1.0, 0.5, 1.5, 0.3, -0.2]).reshape([3, 2]);
        let labels = [1usize, 0, 1];
        let w = Tensor::from_slice(&[0.25f32, 2.0]);
        let ours = weighted_cross_entropy(&logits, &soft_targets(&labels, 2, 0.0, Device::Cpu), &w);
        let target = Tensor::from_slice(&[1i64, 0, 1]);
        let torch = logits.cross_entropy_loss::<&Tensor>(
            &target,
            Some(&w),
            tch::Reduction::Mean,
            -100,
            0.0,
        );
        assert!((ours.double_value(&[]) - torch.double_value(&[])).abs() < 1e-6);
    }

    #[test]
    fn smoothing_keeps_rows_summing_to_one() {
        let t = soft_targets(&[2, 0], 3, 0.3, Device::Cpu);
        let rows = t.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        assert!((rows - 1.0).abs().max().double_value(&[]) < 1e-6);
        assert!((t.double_value(&[0, 2]) - 0.8).abs() < 1e-6);
    }
}

//! MixUp (Zhang et al., 2018) as a [`BatchTransform`]: built from
//! `training.mixup` by the training loop, so a resumed run mixes the same way.
//!
//! Per batch, always drawn in this order from the epoch's RNG (so the random
//! stream does not depend on the outcome): a coin for `probability`, then
//! `λ ~ Beta(α, α)`, then a uniform permutation `j = perm[i]` of the batch.
//! If the coin says so, inputs become `λ·x_i + (1−λ)·x_j` and targets:
//! - `soft`: `λ·t_i + (1−λ)·t_j` (rows still sum to 1);
//! - `hard-pair`: one member's row unchanged: the abnormal member's when
//!   exactly one of `i`, `j` is abnormal (its argmax class is not the task's
//!   Normal class), otherwise `i`'s when `λ >= 0.5`, else `j`'s.
//!
//! A pair may be a sample with itself (`perm[i] = i`), as with PyTorch's
//! `randperm`; it is then left unchanged. Batches of one are never mixed.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};
use tch::{Device, Kind, Tensor};

use lungsound_infer::config::{MixupMode, MixupSettings};
use lungsound_infer::data::batch::{Batch, BatchTransform};
use lungsound_infer::{Error, Result};

/// MixUp with fixed settings for one task.
#[derive(Debug, Clone)]
pub struct MixUp {
    beta: Beta<f64>,
    mode: MixupMode,
    probability: f64,
    normal_class: usize,
}

impl MixUp {
    /// MixUp per `settings`; `normal_class` is the task's Normal class
    /// (used by `hard-pair`).
    ///
    /// # Errors
    /// Invalid settings (α ≤ 0, probability outside [0, 1]).
    pub fn new(settings: &MixupSettings, normal_class: usize) -> Result<Self> {
        settings.validate()?;
        let beta = Beta::new(settings.alpha, settings.alpha)
            .map_err(|e| Error::InvalidConfig(format!("mixup.alpha {}: {e}", settings.alpha)))?;
        Ok(Self {
            beta,
            mode: settings.mode,
            probability: settings.probability,
            normal_class,
        })
    }

    /// One draw of `λ ~ Beta(α, α)`.
    pub fn sample_lambda<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.beta.sample(rng)
    }

    /// Targets of the mixed batch from the original `targets` (`[n][n_classes]`).
    pub fn mix_targets(&self, targets: &[Vec<f32>], perm: &[usize], lambda: f64) -> Vec<Vec<f32>> {
        targets
            .iter()
            .zip(perm)
            .map(|(ti, &j)| {
                let tj = &targets[j];
                match self.mode {
                    MixupMode::Soft => ti
                        .iter()
                        .zip(tj)
                        .map(|(&a, &b)| {
                            (lambda * f64::from(a) + (1.0 - lambda) * f64::from(b)) as f32
                        })
                        .collect(),
                    MixupMode::HardPair => {
                        let abnormal_i = lungsound_eval::argmax(ti) != self.normal_class;
                        let abnormal_j = lungsound_eval::argmax(tj) != self.normal_class;
                        let keep_i = if abnormal_i != abnormal_j {
                            abnormal_i
                        } else {
                            lambda >= 0.5
                        };
                        if keep_i { ti.clone() } else { tj.clone() }
                    }
                }
            })
            .collect()
    }
}

impl BatchTransform for MixUp {
    fn apply(&self, batch: Batch, rng: &mut ChaCha8Rng) -> Batch {
        let n = batch.inputs.size().first().copied().unwrap_or(0).max(0) as usize;
        let coin: f64 = rng.random();
        let lambda = self.sample_lambda(rng);
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(rng);
        if n < 2 || coin >= self.probability {
            return batch;
        }
        let device = batch.inputs.device();
        let index = Tensor::from_slice(&perm.iter().map(|&j| j as i64).collect::<Vec<_>>())
            .to_device(device);
        let inputs = &batch.inputs * lambda + batch.inputs.index_select(0, &index) * (1.0 - lambda);
        let targets = batch
            .targets
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous();
        let n_classes = targets.size().get(1).copied().unwrap_or(1).max(1) as usize;
        let flat = Vec::<f32>::try_from(&targets.flatten(0, -1)).unwrap_or_default();
        let rows: Vec<Vec<f32>> = flat.chunks_exact(n_classes).map(<[f32]>::to_vec).collect();
        if rows.len() != n {
            return Batch {
                inputs,
                targets: batch.targets,
            };
        }
        let mixed: Vec<f32> = self.mix_targets(&rows, &perm, lambda).concat();
        let targets = Tensor::from_slice(&mixed)
            .reshape([n as i64, n_classes as i64])
            .to_device(device);
        Batch { inputs, targets }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;

    use lungsound_infer::data::batch::soft_targets;

    fn mixup(alpha: f64, mode: MixupMode) -> MixUp {
        let settings = MixupSettings {
            alpha,
            mode,
            probability: 1.0,
        };
        MixUp::new(&settings, 0).unwrap()
    }

    fn batch(labels: &[usize]) -> Batch {
        let n = labels.len() as i64;
        Batch {
            inputs: Tensor::arange(n * 6, (Kind::Float, Device::Cpu)).reshape([n, 1, 2, 3]),
            targets: soft_targets(labels, 4, 0.0, Device::Cpu),
        }
    }

    fn rows(t: &Tensor) -> Vec<Vec<f32>> {
        let n = t.size()[1] as usize;
        let flat = Vec::<f32>::try_from(&t.flatten(0, -1)).unwrap();
        flat.chunks_exact(n).map(<[f32]>::to_vec).collect()
    }

    #[test]
    fn lambda_follows_beta_alpha_alpha() {
        for alpha in [0.2, 1.0, 4.0] {
            let m = mixup(alpha, MixupMode::Soft);
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let n = 200_000;
            let draws: Vec<f64> = (0..n).map(|_| m.sample_lambda(&mut rng)).collect();
            assert!(draws.iter().all(|l| (0.0..=1.0).contains(l)));
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n as f64;
            let expected = 1.0 / (4.0 * (2.0 * alpha + 1.0));
            assert!((mean - 0.5).abs() < 0.005, "alpha {alpha}: mean {mean}");
            assert!(
                (var - expected).abs() < 0.02 * expected,
                "alpha {alpha}: variance {var}, expected {expected}"
            );
        }
    }

    #[test]
    fn soft_targets_are_mixed_like_the_inputs_and_sum_to_one() {
        let m = mixup(0.4, MixupMode::Soft);
        let b = batch(&[0, 1, 2, 3, 1, 0]);
        let (x0, t0) = (b.inputs.shallow_clone(), b.targets.shallow_clone());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let out = m.apply(b, &mut rng);
        // Replay the draws to know λ and the permutation.
        let mut replay = ChaCha8Rng::seed_from_u64(5);
        let _coin: f64 = replay.random();
        let lambda = m.sample_lambda(&mut replay);
        let mut perm: Vec<usize> = (0..6).collect();
        perm.shuffle(&mut replay);
        let t = rows(&out.targets);
        let orig = rows(&t0);
        for (i, row) in t.iter().enumerate() {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            for c in 0..4 {
                let want =
                    lambda * f64::from(orig[i][c]) + (1.0 - lambda) * f64::from(orig[perm[i]][c]);
                assert!((f64::from(row[c]) - want).abs() < 1e-6);
            }
            let xi = out.inputs.get(i as i64);
            let want = x0.get(i as i64) * lambda + x0.get(perm[i] as i64) * (1.0 - lambda);
            assert!((xi - want).abs().max().double_value(&[]) < 1e-4);
        }
    }

    #[test]
    fn hard_pair_keeps_the_abnormal_members_label() {
        let m = mixup(1.0, MixupMode::HardPair);
        let onehot = |c: usize| {
            let mut v = vec![0f32; 4];
            v[c] = 1.0;
            v
        };
        // 0 normal, 1 crackle, 2 wheeze, 3 normal
        let t = vec![onehot(0), onehot(1), onehot(2), onehot(0)];
        let perm = [1, 0, 3, 2];
        for lambda in [0.1, 0.9] {
            let mixed = m.mix_targets(&t, &perm, lambda);
            assert_eq!(mixed[0], onehot(1), "normal + crackle -> crackle");
            assert_eq!(mixed[1], onehot(1), "crackle + normal -> crackle");
            assert_eq!(mixed[2], onehot(2), "wheeze + normal -> wheeze");
            assert_eq!(mixed[3], onehot(2));
        }
        // Both abnormal or both normal: the larger-λ member.
        let both = m.mix_targets(&[onehot(1), onehot(2)], &[1, 0], 0.7);
        assert_eq!(both, vec![onehot(1), onehot(2)]);
        let both = m.mix_targets(&[onehot(1), onehot(2)], &[1, 0], 0.3);
        assert_eq!(both, vec![onehot(2), onehot(1)]);
        let normals = m.mix_targets(&[onehot(0), onehot(0)], &[1, 0], 0.3);
        assert_eq!(normals, vec![onehot(0), onehot(0)]);
        // Applied to a batch, every row stays one-hot.
        let out = m.apply(
            batch(&[0, 1, 2, 3, 0, 0]),
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        for row in rows(&out.targets) {
            assert_eq!(row.iter().filter(|&&v| v == 1.0).count(), 1);
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn same_seed_same_batch_and_probability_zero_is_identity() {
        let m = mixup(0.3, MixupMode::Soft);
        let a = m.apply(batch(&[0, 1, 2, 3]), &mut ChaCha8Rng::seed_from_u64(3));
        let b = m.apply(batch(&[0, 1, 2, 3]), &mut ChaCha8Rng::seed_from_u64(3));
        assert!(a.inputs.equal(&b.inputs) && a.targets.equal(&b.targets));
        let c = m.apply(batch(&[0, 1, 2, 3]), &mut ChaCha8Rng::seed_from_u64(4));
        assert!(!a.inputs.equal(&c.inputs));
        let off = MixUp::new(
            &MixupSettings {
                alpha: 0.3,
                mode: MixupMode::Soft,
                probability: 0.0,
            },
            0,
        )
        .unwrap();
        let orig = batch(&[0, 1, 2, 3]);
        let out = off.apply(batch(&[0, 1, 2, 3]), &mut ChaCha8Rng::seed_from_u64(3));
        assert!(out.inputs.equal(&orig.inputs) && out.targets.equal(&orig.targets));
    }
}

//! [`Ema`]: the exponential moving average of a network's weights that
//! training validates and saves.

use lungsound_infer::Network;
use lungsound_infer::tch::{self, Kind};

/// Exponential moving average of a network's weights, kept in a second network.
///
/// After each optimizer step every floating-point variable (parameters and
/// batch-norm statistics) moves towards the trained network's:
/// `ema = d · ema + (1 − d) · w` with `d = min(decay, (1 + n) / (10 + n))`
/// after `n` updates (TensorFlow's `ExponentialMovingAverage` with
/// `num_updates`), so the average is not dominated by the initial weights.
#[derive(Debug)]
pub struct Ema {
    decay: f64,
    updates: u64,
}

impl Ema {
    /// An EMA with the given decay, after `updates` updates (0 for a fresh one).
    pub fn new(decay: f64, updates: u64) -> Self {
        Self { decay, updates }
    }

    /// Updates taken so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Moves `ema` towards `model`.
    pub fn update(&mut self, ema: &Network, model: &Network) {
        let d = self
            .decay
            .min((1.0 + self.updates as f64) / (10.0 + self.updates as f64));
        self.updates += 1;
        let model_vars = model.named_variables();
        tch::no_grad(|| {
            for ((_, mut e), (_, w)) in ema.named_variables().into_iter().zip(model_vars) {
                if matches!(
                    e.kind(),
                    Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
                ) {
                    let _ = e.g_mul_scalar_(d);
                    let _ = e.g_add_(&(&w * (1.0 - d)));
                } else {
                    e.copy_(&w);
                }
            }
        });
    }
}

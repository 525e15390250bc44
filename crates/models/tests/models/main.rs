//! Integration tests of lungsound-models (one test binary: each links libtorch).
//!
//! Inputs are tiny (batch 2, each architecture's minimum size) so the whole
//! binary runs in well under a minute of libtorch time on 2 cores; the big
//! networks take a lock so that at most one of them is in memory at a time.
#![allow(clippy::unwrap_used)]

mod archs;
mod freeze;
mod import;
mod torchvision;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use lungsound_models::{Model, ModelConfig, build};
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// `crates/models/tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// libtorch runs each op on one thread: the test harness already runs two
/// tests at a time, and the ops on these tiny batches are too small to gain
/// from splitting (idle OpenMP workers spin and only burn CPU time).
pub fn one_thread_per_test() {
    tch::set_num_threads(1);
}

/// Held from seeding libtorch's global generator until the random tensors
/// are drawn, so that tests running in parallel do not interleave draws and
/// every test sees the same weights and inputs on every run.
pub fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held while a network of more than ~20 M parameters is alive.
pub fn big_model_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fresh var store with `config` built at its root, seeded.
pub fn built(config: &ModelConfig, seed: i64) -> (nn::VarStore, Model) {
    one_thread_per_test();
    let _rng = rng_lock();
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = build(&vs.root(), config).unwrap();
    (vs, model)
}

/// Seeded standard-normal input.
pub fn randn(shape: &[i64], seed: i64) -> Tensor {
    let _rng = rng_lock();
    tch::manual_seed(seed);
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

/// Cross-entropy of `model` on `(xs, ys)` in training mode (batch
/// statistics); deterministic for a model without dropout.
pub fn train_loss(model: &Model, xs: &Tensor, ys: &Tensor) -> Tensor {
    // Dropout masks come from the global generator: drawn under the lock, so that they
    // never land between another test's seeding and its draws.
    let _rng = rng_lock();
    model.forward_t(xs, true).cross_entropy_for_logits(ys)
}

/// One Adam step (a fresh optimiser); returns the loss before and after it.
pub fn adam_step(
    vs: &nn::VarStore,
    model: &Model,
    xs: &Tensor,
    ys: &Tensor,
    lr: f64,
) -> (f64, f64) {
    let mut opt = nn::Adam::default().build(vs, lr).unwrap();
    let before = train_loss(model, xs, ys);
    opt.backward_step(&before);
    let after = tch::no_grad(|| train_loss(model, xs, ys));
    (before.double_value(&[]), after.double_value(&[]))
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

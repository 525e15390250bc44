//! Optimizers written out on tensors, with state that can be checkpointed.
//!
//! `tch::nn::Optimizer` cannot save or restore its state (Adam moments,
//! momentum buffers), so a resumed run would not continue exactly. These are
//! PyTorch's update rules (`torch.optim.Adam`, `AdamW`, `SGD`, `RMSprop` with
//! their default betas, eps and alpha, no amsgrad/nesterov/centered), applied
//! per parameter under `no_grad`; their state is plain named tensors.
//!
//! Parameters are the var store's variables that require a gradient (frozen
//! layers and buffers such as batch-norm statistics are left alone), visited
//! in name order.

use std::collections::BTreeMap;

use tch::{Tensor, nn::VarStore};

use lungsound_infer::config::{OptimizerConfig, OptimizerKind};
use lungsound_infer::{Error, Result};

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;
const RMS_ALPHA: f64 = 0.99;
const RMS_EPS: f64 = 1e-8;

/// An optimizer over the trainable variables of a var store.
#[derive(Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    params: Vec<(String, Tensor)>,
    /// Per parameter: Adam (exp_avg, exp_avg_sq), SGD (momentum), RMSprop (square_avg, momentum).
    state: Vec<Vec<Tensor>>,
    step: u64,
}

/// The names of a parameter's state tensors, per optimizer.
fn state_names(kind: OptimizerKind) -> &'static [&'static str] {
    match kind {
        OptimizerKind::Adam | OptimizerKind::Adamw => &["exp_avg", "exp_avg_sq"],
        OptimizerKind::Sgd => &["momentum_buffer"],
        OptimizerKind::Rmsprop => &["square_avg", "momentum_buffer"],
    }
}

/// The trainable variables of `vs` in name order.
pub(crate) fn trainable(vs: &VarStore) -> Vec<(String, Tensor)> {
    let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    vars.into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect()
}

impl Optimizer {
    /// An optimizer for the trainable variables of `vs`, with zero state.
    pub fn new(vs: &VarStore, config: &OptimizerConfig) -> Self {
        let params = trainable(vs);
        let n_state = state_names(config.kind).len();
        let state = params
            .iter()
            .map(|(_, p)| (0..n_state).map(|_| p.zeros_like()).collect())
            .collect();
        Self {
            config: config.clone(),
            params,
            state,
            step: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Zeroes the gradients of every parameter.
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// One update with learning rate `lr` from the current gradients.
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
        let t = self.step as i32;
        let c = &self.config;
        tch::no_grad(|| {
            for ((_, p), state) in self.params.iter_mut().zip(&mut self.state) {
                let grad = p.grad();
                if !grad.defined() {
                    continue;
                }
                match c.kind {
                    OptimizerKind::Adam | OptimizerKind::Adamw => {
                        let g = if c.kind == OptimizerKind::Adam && c.weight_decay != 0.0 {
                            &grad + &*p * c.weight_decay
                        } else {
                            grad
                        };
                        if c.kind == OptimizerKind::Adamw && c.weight_decay != 0.0 {
                            let _ = p.g_mul_scalar_(1.0 - lr * c.weight_decay);
                        }
                        let (m, rest) = state.split_at_mut(1);
                        let (m, v) = (&mut m[0], &mut rest[0]);
                        let _ = m.g_mul_scalar_(BETA1);
                        let _ = m.g_add_(&(&g * (1.0 - BETA1)));
                        let _ = v.g_mul_scalar_(BETA2);
                        let _ = v.g_add_(&(&g * &g * (1.0 - BETA2)));
                        let bias1 = 1.0 - BETA1.powi(t);
                        let bias2 = 1.0 - BETA2.powi(t);
                        let denom = v.sqrt() / bias2.sqrt() + ADAM_EPS;
                        let _ = p.g_sub_(&(&*m / denom * (lr / bias1)));
                    }
                    OptimizerKind::Sgd => {
                        let g = if c.weight_decay != 0.0 {
                            &grad + &*p * c.weight_decay
                        } else {
                            grad
                        };
                        if c.momentum != 0.0 {
                            let buf = &mut state[0];
                            if t == 1 {
                                buf.copy_(&g);
                            } else {
                                let _ = buf.g_mul_scalar_(c.momentum);
                                let _ = buf.g_add_(&g);
                            }
                            let _ = p.g_sub_(&(&*buf * lr));
                        } else {
                            let _ = p.g_sub_(&(g * lr));
                        }
                    }
                    OptimizerKind::Rmsprop => {
                        let g = if c.weight_decay != 0.0 {
                            &grad + &*p * c.weight_decay
                        } else {
                            grad
                        };
                        let (sq, rest) = state.split_at_mut(1);
                        let (sq, buf) = (&mut sq[0], &mut rest[0]);
                        let _ = sq.g_mul_scalar_(RMS_ALPHA);
                        let _ = sq.g_add_(&(&g * &g * (1.0 - RMS_ALPHA)));
                        let avg = sq.sqrt() + RMS_EPS;
                        if c.momentum > 0.0 {
                            let _ = buf.g_mul_scalar_(c.momentum);
                            let _ = buf.g_add_(&(&g / avg));
                            let _ = p.g_sub_(&(&*buf * lr));
                        } else {
                            let _ = p.g_sub_(&(g / avg * lr));
                        }
                    }
                }
            }
        });
    }

    /// The state as named tensors (`<param>.<state>` plus `step`), for checkpoints.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let names = state_names(self.config.kind);
        let mut out = vec![("step".to_string(), Tensor::from_slice(&[self.step as i64]))];
        for ((name, _), state) in self.params.iter().zip(&self.state) {
            for (s, t) in names.iter().zip(state) {
                out.push((format!("{name}.{s}"), t.shallow_clone()));
            }
        }
        out
    }

    /// Restores the state written by [`state_tensors`](Self::state_tensors).
    pub fn load_state(&mut self, tensors: &BTreeMap<String, Tensor>) -> Result<()> {
        let missing = |name: &str| Error::InvalidConfig(format!("optimizer state lacks {name:?}"));
        let step = tensors.get("step").ok_or_else(|| missing("step"))?;
        self.step = step.int64_value(&[0]).max(0) as u64;
        let names = state_names(self.config.kind);
        for ((name, _), state) in self.params.iter().zip(&mut self.state) {
            for (s, t) in names.iter().zip(state.iter_mut()) {
                let key = format!("{name}.{s}");
                let src = tensors.get(&key).ok_or_else(|| missing(&key))?;
                tch::no_grad(|| t.f_copy_(src))
                    .map_err(|e| Error::torch(format!("restoring {key}"), e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tch::{Device, Kind, nn};

    /// Minimises (w - 3)^2 and checks the first Adam step against PyTorch's formula.
    #[test]
    fn every_optimizer_descends_and_adam_takes_lr_sized_first_step() {
        for kind in [
            OptimizerKind::Adam,
            OptimizerKind::Adamw,
            OptimizerKind::Sgd,
            OptimizerKind::Rmsprop,
        ] {
            let vs = VarStore::new(Device::Cpu);
            let w = vs.root().var("w", &[1], nn::Init::Const(0.0));
            let config = OptimizerConfig {
                kind,
                lr: 0.05,
                momentum: 0.5,
                weight_decay: 0.0,
            };
            let mut opt = Optimizer::new(&vs, &config);
            let loss = |w: &Tensor| (w - 3.0).square().sum(Kind::Float);
            let before = loss(&w).double_value(&[]);
            for i in 0..50 {
                opt.zero_grad();
                loss(&w).backward();
                opt.step(0.05);
                if i == 0 && matches!(kind, OptimizerKind::Adam | OptimizerKind::Adamw) {
                    assert!((w.double_value(&[0]) - 0.05).abs() < 1e-6);
                }
            }
            assert!(loss(&w).double_value(&[]) < before * 0.5, "{kind}");
            let state: BTreeMap<_, _> = opt.state_tensors().into_iter().collect();
            let mut other = Optimizer::new(&vs, &config);
            other.load_state(&state).unwrap();
            assert_eq!(other.steps(), 50);
        }
    }
}
